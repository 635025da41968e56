# =====================================================================================================
# outputs.tf: what the CLI, CI and people need after an apply (`terraform output -json`).
# =====================================================================================================

# --- Core --------------------------------------------------------------------------------------------

output "name" {
  description = "Name prefix of every resource of this environment (mlops-<environment>)."
  value       = local.name
}

# --- Storage -----------------------------------------------------------------------------------------

output "bucket_name" {
  description = "Name of the data bucket."
  value       = local.bucket_name
}

output "bucket_arn" {
  description = "ARN of the data bucket."
  value       = local.bucket_arn
}

# --- Encryption --------------------------------------------------------------------------------------

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the topic, dead-letter queue, logs, Lambda environment, secret and (managed) bucket."
  value       = local.kms_key_arn
}

# --- Notifications -----------------------------------------------------------------------------------

output "sns_topic_arn" {
  description = "ARN of the notification topic (e-mail subscribers must confirm once)."
  value       = aws_sns_topic.notifications.arn
}

output "dead_letter_queue_url" {
  description = "URL of the dead-letter queue of the functions and the EventBridge targets."
  value       = aws_sqs_queue.dead_letter.id
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dead_letter.arn
}

# --- SageMaker pipelines -----------------------------------------------------------------------------

output "pipeline_arns" {
  description = "Pipeline kind (training, hpo, inference) → the ARN the rules and roles refer to."
  value       = local.pipeline_arns
}

# --- Lambda functions --------------------------------------------------------------------------------

output "lambda_function_names" {
  description = "Function key (notifier, pipeline_trigger, deploy_trigger) → function name."
  value       = { for key, function in aws_lambda_function.this : key => function.function_name }
}

output "lambda_function_arns" {
  description = "Function key (notifier, pipeline_trigger, deploy_trigger) → function ARN."
  value       = { for key, function in aws_lambda_function.this : key => function.arn }
}

output "lambda_role_arns" {
  description = "Function key → execution role ARN."
  value       = { for key, role in aws_iam_role.lambda : key => role.arn }
}

# --- Event rules -------------------------------------------------------------------------------------

output "event_rule_names" {
  description = "Rule purpose (training-data, step-status, custom-0, ...) → EventBridge rule name."
  value       = { for purpose, rule in aws_cloudwatch_event_rule.this : purpose => rule.name }
}

output "events_role_arn" {
  description = "Role EventBridge assumes to start the pipelines on schedule."
  value       = aws_iam_role.events.arn
}

# --- Deploy on approval ------------------------------------------------------------------------------

output "gitlab_token_secret_arn" {
  description = "Secrets Manager secret the deploy trigger reads the GitLab trigger token from (put the token there)."
  value       = local.gitlab_token_secret_arn
}
