# Every shipped env_files/<env>.tfvars passes the variable validations and plans (mocked provider):
#   terraform test -test-directory=tests/terraform/env_files -var-file=env_files/<env>.tfvars
# (make tf-test runs it for each environment; tests/terraform/test_terraform.py too).

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

variables {
  lambda_package_path = "tests/terraform/fixtures/lambda_function.zip.txt"
  # The shipped files leave the GitLab project to the fork (a check warns at plan time until it is set;
  # under `terraform test` a failed check fails the run).
  gitlab_project_id = "1"
}

run "env_file_plans" {
  command = plan

  assert {
    condition     = alltrue([for purpose, rule in aws_cloudwatch_event_rule.this : rule.name == "mlops-${var.environment}-${purpose}"])
    error_message = "rules are named mlops-<environment>-<purpose>"
  }

  assert {
    condition = length(setsubtract(
      ["training-data", "inference-data", "model-quality-failed", "model-approved", "model-rejected"],
      keys(aws_cloudwatch_event_rule.this),
    )) == 0
    error_message = "the data, model-quality and approval rules exist in every environment"
  }

  assert {
    condition     = length([for purpose in keys(aws_cloudwatch_event_rule.this) : purpose if startswith(purpose, "custom-")]) == length(var.custom_notification_config)
    error_message = "one custom rule per custom_notification_config entry"
  }

  assert {
    condition     = aws_lambda_function.this["notifier"].function_name == var.notification_function_name
    error_message = "the notifier is named by notification_function_name"
  }
}
