# Shared by every tests/terraform/*.tftest.hcl (mock_provider "aws" { source = "./tests/terraform/mocks" }):
# the account, region and partition lookups, and ARN-shaped values for computed ARNs (the provider
# validates ARNs even under a mock). The three functions get distinct ARNs so targets can be told apart.

override_data {
  target = data.aws_caller_identity.current
  values = { account_id = "123456789012", arn = "arn:aws:iam::123456789012:user/test", user_id = "TEST" }
}
override_data {
  target = data.aws_region.current
  values = { name = "us-east-1" }
}
override_data {
  target = data.aws_partition.current
  values = { partition = "aws", dns_suffix = "amazonaws.com" }
}
# Computed ARNs must look like ARNs (the provider validates them); functions get distinct ones.
mock_resource "aws_iam_role" {
  defaults = { arn = "arn:aws:iam::123456789012:role/mock" }
}
mock_resource "aws_kms_key" {
  defaults = { arn = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000" }
}
mock_resource "aws_sns_topic" {
  defaults = { arn = "arn:aws:sns:us-east-1:123456789012:mock" }
}
mock_resource "aws_sqs_queue" {
  defaults = { arn = "arn:aws:sqs:us-east-1:123456789012:mock" }
}
mock_resource "aws_cloudwatch_log_group" {
  defaults = { arn = "arn:aws:logs:us-east-1:123456789012:log-group:mock" }
}
mock_resource "aws_cloudwatch_event_rule" {
  defaults = { arn = "arn:aws:events:us-east-1:123456789012:rule/mock" }
}
mock_resource "aws_s3_bucket" {
  defaults = { arn = "arn:aws:s3:::mock" }
}
mock_resource "aws_secretsmanager_secret" {
  defaults = { arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mock" }
}
override_resource {
  target = aws_lambda_function.this["notifier"]
  values = { arn = "arn:aws:lambda:us-east-1:123456789012:function:notifier" }
}
override_resource {
  target = aws_lambda_function.this["pipeline_trigger"]
  values = { arn = "arn:aws:lambda:us-east-1:123456789012:function:pipeline_trigger" }
}
override_resource {
  target = aws_lambda_function.this["deploy_trigger"]
  values = { arn = "arn:aws:lambda:us-east-1:123456789012:function:deploy_trigger" }
}
