# =====================================================================================================
# lambda.tf: the three functions (one zip, `make lambda-package`), their log groups, the dead-letter
# queue that catches what they and the EventBridge targets fail to process (with an alarm to the
# topic), and the GitLab trigger-token secret of the deploy trigger.
# =====================================================================================================

# --- Notifications -----------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "dead_letter" {
  alarm_name          = "${local.name}-dead-letter-not-empty"
  alarm_description   = "Events that a Lambda function or an EventBridge target failed to process are waiting in ${aws_sqs_queue.dead_letter.name}: read them, fix the cause, then purge or redrive."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dead_letter.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.notifications.arn]
}

# --- Lambda functions --------------------------------------------------------------------------------

locals {
  function_environment = {
    notifier = {
      SNS_TOPIC_ARN              = aws_sns_topic.notifications.arn
      CUSTOM_NOTIFICATION_CONFIG = jsonencode(var.custom_notification_config)
      ENVIRONMENT                = var.environment
      LOG_LEVEL                  = var.lambda_log_level
    }
    pipeline_trigger = {
      TRAINING_PIPELINE   = var.pipeline_train
      HPO_PIPELINE        = var.pipeline_trainwhpo
      INFERENCE_PIPELINE  = var.pipeline_inf
      BUCKET_TRAIN_PREFIX = var.bucket_train_prefix
      BUCKET_INF_PREFIX   = var.bucket_inf_prefix
      ENVIRONMENT         = var.environment
      LOG_LEVEL           = var.lambda_log_level
    }
    deploy_trigger = {
      GITLAB_URL               = var.gitlab_url
      GITLAB_PROJECT_ID        = var.gitlab_project_id
      GITLAB_REF               = var.gitlab_ref
      GITLAB_TOKEN_SECRET_ARN  = local.gitlab_token_secret_arn
      ENVIRONMENT              = var.environment
      MODEL_PACKAGE_GROUP_NAME = var.model_package_group_name
      LOG_LEVEL                = var.lambda_log_level
    }
  }
}

# The environment built above has exactly the keys contracts.json gives each function (the code reads
# them; local_aws/provision.py sets the same keys).
check "lambda_environment_matches_contract" {
  assert {
    condition = toset(keys(local.function_environment)) == toset(keys(local.contract_functions)) && alltrue([
      for key, environment in local.function_environment : toset(keys(environment)) == toset(local.contract_functions[key].environment)
    ])
    error_message = "The Lambda environment keys differ from contracts.json: ${jsonencode({ for key, environment in local.function_environment : key => { terraform = keys(environment), contract = try(sort(local.contract_functions[key].environment), null) } })}"
  }
}

resource "aws_sqs_queue" "dead_letter" {
  name                      = "${local.name}-dead-letter"
  message_retention_seconds = 1209600 # 14 days, the maximum
  kms_master_key_id         = local.kms_key_arn
}

# EventBridge sends the events it could not deliver to a target; the functions' own failed
# invocations arrive through their execution roles (iam.tf).
resource "aws_sqs_queue_policy" "dead_letter" {
  queue_url = aws_sqs_queue.dead_letter.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EventBridgeRulesSendUndeliveredEvents"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.dead_letter.arn
      Condition = { ArnLike = { "aws:SourceArn" = local.rule_arn_pattern } }
    }]
  })
}

resource "aws_cloudwatch_log_group" "lambda" {
  for_each          = local.functions
  name              = "/aws/lambda/${each.value.name}"
  retention_in_days = var.lambda_log_retention_days
  kms_key_id        = local.kms_key_arn
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The functions call only AWS APIs and GitLab; a VPC would add NAT cost and no isolation they need
  #checkov:skip=CKV_AWS_272:The zip is built in CI from reviewed source and pinned by source_code_hash; code signing needs a Signer profile per account
  for_each      = local.functions
  function_name = each.value.name
  description   = each.value.description
  role          = aws_iam_role.lambda[each.key].arn
  handler       = each.value.handler
  runtime       = "python3.12"
  architectures = ["arm64"]
  memory_size   = each.value.memory_size
  timeout       = each.value.timeout

  filename         = var.lambda_package_path
  source_code_hash = filebase64sha256(var.lambda_package_path)

  reserved_concurrent_executions = each.value.concurrency
  kms_key_arn                    = local.kms_key_arn

  environment {
    variables = local.function_environment[each.key]
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dead_letter.arn
  }

  tracing_config {
    mode = "PassThrough"
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.lambda[each.key].name
  }

  # The role must be able to write logs and reach the dead-letter queue before the first invocation.
  depends_on = [aws_iam_role_policy.lambda]
}

# --- Event rules -------------------------------------------------------------------------------------

# EventBridge may invoke a function only from the rules that target it.
resource "aws_lambda_permission" "events" {
  for_each      = local.lambda_rule_targets
  statement_id  = "events-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this[each.value].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.this[each.key].arn
}

# --- Deploy on approval ------------------------------------------------------------------------------

# The GitLab pipeline trigger token (Settings > CI/CD > Pipeline trigger tokens). Created empty:
#   aws secretsmanager put-secret-value --secret-id <output gitlab_token_secret_arn> --secret-string <token>
resource "aws_secretsmanager_secret" "gitlab_token" {
  #checkov:skip=CKV2_AWS_57:A GitLab trigger token is rotated in GitLab, then stored here; no rotation Lambda can do that
  count                   = var.gitlab_token_secret_arn == null ? 1 : 0
  name                    = "${local.name}/gitlab-trigger-token"
  description             = "GitLab pipeline trigger token used by ${local.functions.deploy_trigger.name} (a string, or JSON with key \"token\")"
  kms_key_id              = local.kms_key_arn
  recovery_window_in_days = 7
}
