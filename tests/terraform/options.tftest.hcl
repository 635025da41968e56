# Settings beyond the defaults: schedules (SageMaker pipeline targets), several notified statuses
# ("$or"), rules turned off, an existing bucket, a given KMS key and token secret.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

# Variables: tests/terraform/terraform.tfvars (the local environment's values).

run "schedules_start_the_pipelines_with_parameters" {
  command = plan

  variables {
    training_schedule            = "cron(0 3 ? * MON *)"
    inference_schedule           = "rate(1 day)"
    schedule_pipeline_parameters = { inference = { GroundTruthUri = "s3://mlops-local-bucket/abalone/inference/ground-truth.csv" } }
  }

  assert {
    condition = (
      aws_cloudwatch_event_rule.this["training-schedule"].schedule_expression == "cron(0 3 ? * MON *)"
      && aws_cloudwatch_event_rule.this["training-schedule"].event_pattern == null
      && aws_cloudwatch_event_rule.this["inference-schedule"].schedule_expression == "rate(1 day)"
    )
    error_message = "the schedule rules carry the schedule expressions and no pattern"
  }

  assert {
    condition = (
      aws_cloudwatch_event_target.this["training-schedule"].arn == "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlops-local-training"
      && aws_cloudwatch_event_target.this["inference-schedule"].arn == "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlops-local-batch-inference"
      && aws_cloudwatch_event_target.this["training-schedule"].role_arn == aws_iam_role.events.arn
      && aws_cloudwatch_event_target.this["inference-schedule"].role_arn == aws_iam_role.events.arn
    )
    error_message = "scheduled targets are the pipelines, started with the events role"
  }

  assert {
    condition = {
      for parameter in aws_cloudwatch_event_target.this["training-schedule"].sagemaker_pipeline_target[0].pipeline_parameter_list : parameter.name => parameter.value
    } == { InputDataUri = "s3://mlops-local-bucket/abalone/training/training-data.csv" }
    error_message = "scheduled training reads the standing training file"
  }

  assert {
    condition = {
      for parameter in aws_cloudwatch_event_target.this["inference-schedule"].sagemaker_pipeline_target[0].pipeline_parameter_list : parameter.name => parameter.value
      } == {
      InputDataUri   = "s3://mlops-local-bucket/abalone/inference/inference-data.csv"
      GroundTruthUri = "s3://mlops-local-bucket/abalone/inference/ground-truth.csv"
    }
    error_message = "schedule_pipeline_parameters override the defaults"
  }

  assert {
    condition     = !contains(keys(aws_lambda_permission.events), "training-schedule") && !contains(keys(aws_lambda_permission.events), "inference-schedule")
    error_message = "pipeline targets need no Lambda permission"
  }
}

run "several_step_statuses_become_alternatives" {
  command = plan

  variables {
    notify_step_statuses = ["Failed", "Succeeded"]
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.this["step-status"].event_pattern).detail["$or"] == [
      { currentStepStatus = ["Failed"], stepName = [{ anything-but = ["ModelQualityCalcStep"] }] },
      { currentStepStatus = ["Succeeded"], stepName = [{ anything-but = ["CandidateModel-RegisterModel"] }] },
    ]
    error_message = "step-status pattern: ${aws_cloudwatch_event_rule.this["step-status"].event_pattern}"
  }
}

run "without_custom_messages_every_failed_step_notifies" {
  command = plan

  variables {
    custom_notification_config = []
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.this["step-status"].event_pattern).detail == { pipelineArn = values(local.pipeline_arns), currentStepStatus = ["Failed"] }
    error_message = "step-status pattern: ${aws_cloudwatch_event_rule.this["step-status"].event_pattern}"
  }

  assert {
    condition     = length([for purpose in keys(aws_cloudwatch_event_rule.this) : purpose if startswith(purpose, "custom-")]) == 0
    error_message = "no custom rules without custom messages"
  }
}

run "status_rules_can_be_turned_off" {
  command = plan

  variables {
    notify_step_statuses      = []
    notify_execution_statuses = []
  }

  assert {
    condition     = !contains(keys(aws_cloudwatch_event_rule.this), "step-status") && !contains(keys(aws_cloudwatch_event_rule.this), "execution-status")
    error_message = "[] turns the status rules off"
  }

  assert {
    condition     = contains(keys(aws_cloudwatch_event_rule.this), "custom-0") && contains(keys(aws_cloudwatch_event_rule.this), "model-quality-failed")
    error_message = "custom and model-quality rules stay"
  }
}

run "existing_bucket_key_and_secret" {
  command = plan

  variables {
    manage_bucket           = false
    create_kms_key          = false
    kms_key                 = "arn:aws:kms:us-east-1:123456789012:key/11111111-1111-1111-1111-111111111111"
    gitlab_token_secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gitlab-token-AbCdEf"
  }

  override_data {
    target = data.aws_s3_bucket.this[0]
    values = { id = "mlops-local-bucket", arn = "arn:aws:s3:::mlops-local-bucket" }
  }

  assert {
    condition     = length(aws_s3_bucket.this) == 0 && length(aws_s3_bucket_policy.this) == 0 && aws_s3_bucket_notification.this.bucket == "mlops-local-bucket"
    error_message = "an existing bucket is not managed; only its EventBridge notifications are set"
  }

  assert {
    condition = one([
      for statement in jsondecode(aws_iam_role_policy.lambda["pipeline_trigger"].policy).Statement : statement.Resource if statement.Sid == "ReadInferenceData"
    ]) == ["arn:aws:s3:::mlops-local-bucket/abalone/inference/*"]
    error_message = "the pipeline trigger reads the existing bucket's inference prefix"
  }

  assert {
    condition     = length(aws_kms_key.this) == 0 && aws_sns_topic.notifications.kms_master_key_id == var.kms_key && aws_sqs_queue.dead_letter.kms_master_key_id == var.kms_key
    error_message = "a given key is used instead of creating one"
  }

  assert {
    condition     = length(aws_secretsmanager_secret.gitlab_token) == 0 && aws_lambda_function.this["deploy_trigger"].environment[0].variables.GITLAB_TOKEN_SECRET_ARN == var.gitlab_token_secret_arn
    error_message = "a given token secret is used instead of creating one"
  }
}

# The provider's default_tags are local.tags (main.tf); a mock provider computes no tags_all, so the
# merged map itself is checked.
run "tags_merge_tags_json_owner_and_var_tags" {
  command = plan

  variables {
    tags = { CostCenter = "ml-42" }
  }

  assert {
    condition     = local.tags == { Project = "batch-inference-mlops", ManagedBy = "terraform", Component = "mlops-operations", Environment = "local", Owner = "local-developer", CostCenter = "ml-42" }
    error_message = "tags must merge tags.json, Environment, Owner and var.tags: ${jsonencode(local.tags)}"
  }
}
