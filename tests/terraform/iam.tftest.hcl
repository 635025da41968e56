# IAM and encryption: every policy lists actions (no "*", no "<service>:*" in an Allow), names its
# resources, and gives each role exactly what its function or service calls.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

# Variables: tests/terraform/terraform.tfvars (the local environment's values).

run "least_privilege_and_encryption" {
  command = plan

  # --- No wildcard action in any Allow

  assert {
    condition = alltrue(flatten([
      for document in concat(
        [for policy in aws_iam_role_policy.lambda : jsondecode(policy.policy)],
        [jsondecode(aws_iam_role_policy.events.policy), jsondecode(aws_kms_key.this[0].policy), jsondecode(aws_sns_topic_policy.notifications.policy), jsondecode(aws_sqs_queue_policy.dead_letter.policy)],
        ) : [
        for statement in document.Statement : [
          for action in flatten([statement.Action]) : statement.Effect != "Allow" || (action != "*" && !endswith(action, ":*"))
        ]
      ]
    ]))
    error_message = "an Allow statement grants a wildcard action"
  }

  assert {
    condition = alltrue(flatten([
      for policy in aws_iam_role_policy.lambda : [
        for statement in jsondecode(policy.policy).Statement : [for resource in flatten([statement.Resource]) : resource != "*"]
      ]
    ]))
    error_message = "Lambda role policies must name their resources"
  }

  # --- Each Lambda role: exactly what its function calls

  assert {
    condition = {
      for key, policy in aws_iam_role_policy.lambda : key => sort(flatten([for statement in jsondecode(policy.policy).Statement : statement.Action]))
      } == {
      notifier = sort(["logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage", "kms:Decrypt", "kms:GenerateDataKey", "sns:Publish"])
      pipeline_trigger = sort([
        "logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage", "kms:Decrypt", "kms:GenerateDataKey",
        "sagemaker:ListPipelineExecutions", "sagemaker:StartPipelineExecution", "s3:GetObject", "s3:ListBucket",
        "sagemaker:ListPipelineParametersForExecution",
      ])
      deploy_trigger = sort(["logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage", "kms:Decrypt", "kms:GenerateDataKey", "secretsmanager:GetSecretValue"])
    }
    error_message = "the Lambda roles' actions differ from what the functions call"
  }

  assert {
    condition = toset(one([
      for statement in jsondecode(aws_iam_role_policy.lambda["pipeline_trigger"].policy).Statement : statement.Resource if statement.Sid == "StartAndListThePipelines"
      ])) == toset([
      "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlops-local-training",
      "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlops-local-training-hpo",
      "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlops-local-batch-inference",
    ])
    error_message = "the pipeline trigger may start exactly the three pipelines"
  }

  assert {
    condition = one([
      for statement in jsondecode(aws_iam_role_policy.lambda["pipeline_trigger"].policy).Statement : statement.Resource if statement.Sid == "ReadTrainingExecutionParameters"
    ]) == ["arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlops-local-training/execution/*"]
    error_message = "the pipeline trigger may read the parameters of training executions only"
  }

  assert {
    condition = one([
      for statement in jsondecode(aws_iam_role_policy.lambda["pipeline_trigger"].policy).Statement : statement.Resource if statement.Sid == "ReadInferenceData"
    ]) == ["arn:aws:s3:::mock/abalone/inference/*"]
    error_message = "the pipeline trigger reads the inference prefix only"
  }

  assert {
    condition = one([
      for statement in jsondecode(aws_iam_role_policy.lambda["pipeline_trigger"].policy).Statement : statement.Condition if statement.Sid == "ListInferencePrefix"
    ]) == { StringLike = { "s3:prefix" = ["abalone/inference/*"] } }
    error_message = "ListBucket is limited to the inference prefix"
  }

  assert {
    condition = one([
      for statement in jsondecode(aws_iam_role_policy.lambda["deploy_trigger"].policy).Statement : statement.Resource if statement.Sid == "ReadGitLabTriggerToken"
    ]) == [aws_secretsmanager_secret.gitlab_token[0].arn]
    error_message = "the deploy trigger reads the one GitLab token secret"
  }

  assert {
    condition = one([
      for statement in jsondecode(aws_iam_role_policy.lambda["notifier"].policy).Statement : statement.Resource if statement.Sid == "PublishNotifications"
    ]) == [aws_sns_topic.notifications.arn]
    error_message = "the notifier publishes to the notification topic only"
  }

  # --- The events role: start the three pipelines, nothing else

  assert {
    condition = jsondecode(aws_iam_role_policy.events.policy).Statement == [{
      Sid    = "StartThePipelines"
      Effect = "Allow"
      Action = ["sagemaker:StartPipelineExecution"]
      Resource = [
        "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlops-local-training-hpo",
        "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlops-local-batch-inference",
        "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlops-local-training",
      ]
    }]
    error_message = "the events role policy: ${aws_iam_role_policy.events.policy}"
  }

  assert {
    condition     = jsondecode(aws_iam_role.events.assume_role_policy).Statement[0].Condition == { StringEquals = { "aws:SourceAccount" = "123456789012" } }
    error_message = "only EventBridge of this account may assume the events role"
  }

  # --- Encryption with the customer-managed key; topic and bucket policies

  assert {
    condition = (
      aws_sns_topic.notifications.kms_master_key_id == aws_kms_key.this[0].arn
      && aws_sqs_queue.dead_letter.kms_master_key_id == aws_kms_key.this[0].arn
      && alltrue([for group in aws_cloudwatch_log_group.lambda : group.kms_key_id == aws_kms_key.this[0].arn])
      && alltrue([for function in aws_lambda_function.this : function.kms_key_arn == aws_kms_key.this[0].arn])
      && aws_secretsmanager_secret.gitlab_token[0].kms_key_id == aws_kms_key.this[0].arn
      && one(aws_s3_bucket_server_side_encryption_configuration.this[0].rule).apply_server_side_encryption_by_default[0].kms_master_key_id == aws_kms_key.this[0].arn
    )
    error_message = "topic, queue, log groups, Lambda environment, secret and bucket use the customer-managed key"
  }

  assert {
    condition     = aws_kms_key.this[0].enable_key_rotation
    error_message = "the key rotates"
  }

  assert {
    condition = toset(flatten([
      for statement in jsondecode(aws_kms_key.this[0].policy).Statement : flatten([statement.Principal.Service]) if statement.Sid == "ServicesOfThisAccountUseTheKey"
    ])) == toset(["events.amazonaws.com", "sns.amazonaws.com", "cloudwatch.amazonaws.com"])
    error_message = "EventBridge, SNS and CloudWatch may use the key"
  }

  assert {
    condition = toset([
      for statement in jsondecode(aws_sns_topic_policy.notifications.policy).Statement : jsonencode(statement.Principal) if contains(flatten([statement.Action]), "sns:Publish")
      ]) == toset([
      jsonencode({ Service = "events.amazonaws.com" }),
      jsonencode({ Service = "cloudwatch.amazonaws.com" }),
      jsonencode({ AWS = aws_iam_role.lambda["notifier"].arn }),
    ])
    error_message = "only EventBridge, the dead-letter alarm and the notifier role may publish"
  }

  assert {
    condition     = toset([for subscription in aws_sns_topic_subscription.email : "${subscription.protocol}:${subscription.endpoint}"]) == toset(["email:data-scientist@example.com"])
    error_message = "one e-mail subscription per email_recipient"
  }

  assert {
    condition = jsondecode(aws_s3_bucket_policy.this[0].policy).Statement[0] == {
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = ["arn:aws:s3:::mock", "arn:aws:s3:::mock/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }
    error_message = "the bucket refuses requests without TLS"
  }

  assert {
    condition = (
      aws_s3_bucket_public_access_block.this[0].block_public_acls && aws_s3_bucket_public_access_block.this[0].block_public_policy
      && aws_s3_bucket_public_access_block.this[0].ignore_public_acls && aws_s3_bucket_public_access_block.this[0].restrict_public_buckets
      && aws_s3_bucket_versioning.this[0].versioning_configuration[0].status == "Enabled"
      && aws_s3_bucket_ownership_controls.this[0].rule[0].object_ownership == "BucketOwnerEnforced"
    )
    error_message = "the bucket is private, versioned and owner-enforced"
  }

  # --- The functions as docs/contracts.md describes them

  assert {
    condition = {
      for key, function in aws_lambda_function.this : key => [function.function_name, function.handler, function.runtime, function.reserved_concurrent_executions]
      } == {
      notifier         = ["mlops-local-notifier", "notifier.handler", "python3.12", 5]
      pipeline_trigger = ["mlops-local-pipeline-trigger", "pipeline_trigger.handler", "python3.12", 1]
      deploy_trigger   = ["mlops-local-deploy-trigger", "deploy_trigger.handler", "python3.12", 5]
    }
    error_message = "function names, handlers, runtime or reserved concurrency differ from docs/contracts.md"
  }

  assert {
    condition = {
      for key, function in aws_lambda_function.this : key => sort(keys(function.environment[0].variables))
      } == {
      notifier         = sort(["CUSTOM_NOTIFICATION_CONFIG", "ENVIRONMENT", "LOG_LEVEL", "SNS_TOPIC_ARN"])
      pipeline_trigger = sort(["BUCKET_INF_PREFIX", "BUCKET_TRAIN_PREFIX", "ENVIRONMENT", "HPO_PIPELINE", "INFERENCE_PIPELINE", "LOG_LEVEL", "TRAINING_PIPELINE"])
      deploy_trigger   = sort(["ENVIRONMENT", "GITLAB_PROJECT_ID", "GITLAB_REF", "GITLAB_TOKEN_SECRET_ARN", "GITLAB_URL", "LOG_LEVEL", "MODEL_PACKAGE_GROUP_NAME"])
    }
    error_message = "environment variables differ from docs/contracts.md"
  }

  assert {
    condition = jsondecode(aws_lambda_function.this["notifier"].environment[0].variables.CUSTOM_NOTIFICATION_CONFIG) == [
      { step_name = "ModelQualityCalcStep", step_status = "Failed", step_msg = "HPO starts.", action_required = false },
      { step_name = "CandidateModel-RegisterModel", step_status = "Succeeded", step_msg = "Approve it.", action_required = false },
    ]
    error_message = "the notifier gets custom_notification_config as JSON, every key included"
  }

  assert {
    condition     = alltrue([for function in aws_lambda_function.this : function.dead_letter_config[0].target_arn == aws_sqs_queue.dead_letter.arn])
    error_message = "failed asynchronous invocations go to the dead-letter queue"
  }

  assert {
    condition     = alltrue([for key, group in aws_cloudwatch_log_group.lambda : group.retention_in_days == 365 && group.name == "/aws/lambda/${aws_lambda_function.this[key].function_name}"])
    error_message = "each function logs to its own log group with the retention"
  }

  assert {
    condition     = alltrue([for function in aws_lambda_function.this : function.source_code_hash == filebase64sha256("tests/terraform/fixtures/lambda_function.zip.txt")])
    error_message = "source_code_hash is the zip's SHA-256 (a rebuilt identical zip changes nothing)"
  }
}
