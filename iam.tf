# =====================================================================================================
# iam.tf: least-privilege roles. Each Lambda role may write its own log group, reach the dead-letter
# queue and use the KMS key, plus exactly what its function calls; the EventBridge role may only start
# the three pipelines (the scheduled targets). No wildcard actions; resources are named ARNs.
# =====================================================================================================

# --- Storage -----------------------------------------------------------------------------------------

locals {
  # The pipeline trigger reads the inference prefix only (head_object of ground-truth.csv).
  inference_objects_arn = "${local.bucket_arn}/${var.bucket_inf_prefix}/*"
}

# --- Lambda functions --------------------------------------------------------------------------------

locals {
  lambda_statements = {
    notifier = [
      {
        Sid      = "PublishNotifications"
        Effect   = "Allow"
        Action   = ["sns:Publish"]
        Resource = [aws_sns_topic.notifications.arn]
      },
    ]
    pipeline_trigger = [
      {
        Sid      = "StartAndListThePipelines"
        Effect   = "Allow"
        Action   = ["sagemaker:ListPipelineExecutions", "sagemaker:StartPipelineExecution"]
        Resource = values(local.pipeline_arns)
      },
      {
        # HPO retunes on the data of the newest successful training execution.
        Sid      = "ReadTrainingExecutionParameters"
        Effect   = "Allow"
        Action   = ["sagemaker:ListPipelineParametersForExecution"]
        Resource = ["${local.pipeline_arns["training"]}/execution/*"]
      },
      {
        Sid      = "ReadInferenceData"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = [local.inference_objects_arn]
      },
      {
        # Without it a missing ground-truth.csv answers 403 instead of 404.
        Sid       = "ListInferencePrefix"
        Effect    = "Allow"
        Action    = ["s3:ListBucket"]
        Resource  = [local.bucket_arn]
        Condition = { StringLike = { "s3:prefix" = ["${var.bucket_inf_prefix}/*"] } }
      },
    ]
    deploy_trigger = [
      {
        Sid      = "ReadGitLabTriggerToken"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = [local.gitlab_token_secret_arn]
      },
    ]
  }

  lambda_policies = {
    for key, function in local.functions : key => {
      Version = "2012-10-17"
      Statement = concat(
        [
          {
            Sid      = "WriteOwnLogs"
            Effect   = "Allow"
            Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
            Resource = ["${aws_cloudwatch_log_group.lambda[key].arn}:*"]
          },
          {
            Sid      = "SendFailedEventsToTheDeadLetterQueue"
            Effect   = "Allow"
            Action   = ["sqs:SendMessage"]
            Resource = [aws_sqs_queue.dead_letter.arn]
          },
          {
            # Topic, queue, secret and bucket objects are encrypted with this key.
            Sid      = "UseTheKey"
            Effect   = "Allow"
            Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
            Resource = [local.kms_key_arn]
          },
        ],
        local.lambda_statements[key],
      )
    }
  }
}

resource "aws_iam_role" "lambda" {
  for_each    = local.functions
  name        = "${each.value.name}-role"
  description = "Execution role of the ${each.value.name} Lambda function"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "lambda" {
  for_each = local.functions
  name     = "${each.value.name}-permissions"
  role     = aws_iam_role.lambda[each.key].id
  policy   = jsonencode(local.lambda_policies[each.key])
}

# --- Event rules -------------------------------------------------------------------------------------

# Assumed by EventBridge for the SageMaker pipeline targets (the schedules). Lambda targets need no
# role: EventBridge invokes them through their resource policies (aws_lambda_permission, lambda.tf).
resource "aws_iam_role" "events" {
  name        = "${local.name}-events"
  description = "EventBridge rules of ${local.name}: start the SageMaker pipelines on schedule"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

resource "aws_iam_role_policy" "events" {
  name = "${local.name}-events-permissions"
  role = aws_iam_role.events.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "StartThePipelines"
      Effect   = "Allow"
      Action   = ["sagemaker:StartPipelineExecution"]
      Resource = values(local.pipeline_arns)
    }]
  })
}
