# =====================================================================================================
# versions.tf: Terraform and provider versions, and where the state lives.
# =====================================================================================================

# --- Core --------------------------------------------------------------------------------------------

terraform {
  # 1.9: validation blocks may refer to other variables (the prefix-overlap and schedule checks do).
  # mock_provider for `terraform test` needs 1.7.
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Every argument used here exists in 5.60 (e.g. `aws_cloudwatch_event_rule.state`,
      # `aws_lambda_function.logging_config`); 6.x deprecates data.aws_region's `name`: stay below it.
      version = ">= 5.60, < 6.0"
    }
  }

  # GitLab-managed state, one per environment: `make tf-init ENV=<env>` configures it from the
  # TF_HTTP_ADDRESS / TF_HTTP_LOCK_ADDRESS / TF_HTTP_USERNAME / TF_HTTP_PASSWORD environment variables
  # (.gitlab-ci.yml sets them), or initialises without a backend for validate and test.
  backend "http" {}
}
