# Hand-edited tfvars values are rejected at plan time with a message naming the variable and the fix.
# Each run breaks several values of a valid configuration and expects exactly those variables to fail
# (the run fails if one of them is accepted, or if anything else fails). A variable with several bad
# values to try appears in several runs; few runs keep `terraform test` fast (~1 s per run).

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

# Variables: tests/terraform/terraform.tfvars (the local environment's values).

run "names_arns_emails_and_first_numbers" {
  command = plan

  variables {
    environment                 = "qa"                                                                 # not local/dev/staging/prod
    bucket_name                 = "MLOps-Bucket"                                                       # uppercase
    bucket_train_prefix         = "abalone/training/"                                                  # trailing slash
    pipeline_train              = "mlops_local_training"                                               # underscore
    notification_function_name  = "n-123456789-123456789-123456789-123456789-123456789-123456789-1234" # 65 characters
    user_id                     = "  "                                                                 # blank
    role_arn                    = "arn:aws:iam::123456789012:user/someone"                             # a user, not a role
    kms_key                     = "alias/my-key"                                                       # not an ARN
    gitlab_token_secret_arn     = "arn:aws:ssm:us-east-1:123456789012:parameter/token"                 # SSM, not Secrets Manager
    gitlab_url                  = "https://gitlab.example.com/"                                        # trailing slash
    gitlab_project_id           = "group/project"                                                      # path not URL-encoded
    email_recipient             = ["data-scientist@example.com", "data-scientist"]                     # no domain
    lambda_log_retention_days   = 10                                                                   # not a CloudWatch Logs value
    notify_step_statuses        = ["Failed", "Failed"]                                                 # twice
    lambda_reserved_concurrency = 0                                                                    # not >= 1
    training_schedule           = "cron(0 3 * * *)"                                                    # five fields
    inference_schedule          = "cron(0 3 * * MON *)"                                                # no ? in day-of-month or day-of-week
  }

  expect_failures = [
    var.environment,
    var.bucket_name,
    var.bucket_train_prefix,
    var.pipeline_train,
    var.notification_function_name,
    var.user_id,
    var.role_arn,
    var.kms_key,
    var.gitlab_token_secret_arn,
    var.gitlab_url,
    var.gitlab_project_id,
    var.email_recipient,
    var.lambda_log_retention_days,
    var.notify_step_statuses,
    var.lambda_reserved_concurrency,
    var.training_schedule,
    var.inference_schedule,
  ]
}

run "second_bad_values_and_inconsistent_pairs" {
  command = plan

  variables {
    role_arn                   = "arn:aws:iam::1234:role/mlops"                                       # account ID too short
    custom_notification_config = [{ step_name = "TrainModel", step_status = "Done", step_msg = "x" }] # unknown status
    notify_step_statuses       = ["Failed", "Crashed"]                                                # unknown status
    notify_execution_statuses  = ["Starting"]                                                         # not an execution status
    training_schedule          = "rate(1 days)"                                                       # plural with 1
    inference_schedule         = "rate(0 hours)"                                                      # zero
    bucket_name                = "192.168.0.1"                                                        # an IP address
    bucket_inf_prefix          = "abalone/training/inference"                                         # inside the training prefix
    subnet_id                  = "subnet-0123456789abcdef0"                                           # without sg_id: sg_id fails
    pipeline_inf               = "MLOPS-LOCAL-TRAINING"                                               # same pipeline as pipeline_train
  }

  expect_failures = [
    var.role_arn,
    var.custom_notification_config,
    var.notify_step_statuses,
    var.notify_execution_statuses,
    var.training_schedule,
    var.inference_schedule,
    var.bucket_name,
    var.bucket_inf_prefix,
    var.sg_id,
    var.pipeline_inf,
  ]
}

run "unknown_metric_no_key_and_an_empty_message" {
  command = plan

  variables {
    model_quality_metric       = "rmsle"                                                                # not a metric of any problem type
    create_kms_key             = false                                                                  # and kms_key is ""
    custom_notification_config = [{ step_name = "TrainModel", step_status = "Failed", step_msg = " " }] # blank message
  }

  expect_failures = [
    var.model_quality_metric,
    var.create_kms_key,
    var.custom_notification_config,
  ]
}
