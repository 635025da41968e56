# =====================================================================================================
# events.tf: the EventBridge rules of docs/contracts.md ("Event rules"). The rule table is data:
# events/rules.json.tftpl (and events/custom_rule.json.tftpl, one per custom_notification_config entry),
# rendered here with templatefile and, with the same variables, by local_aws/rules.py for the local
# endpoint. The templates use only ${name}, ${name.attr} and ${jsonencode(name)}; the few values that
# need logic are computed below (and the same way in local_aws/rules.py; tests/functional/
# test_tf_parity.py compares both). Rule names are <name>-<purpose>; every target id is the purpose.
# =====================================================================================================

# --- Core --------------------------------------------------------------------------------------------

locals {
  # Target key → ARN. Lambda functions are invoked through their resource policies (lambda.tf);
  # pipelines are started with the events role (iam.tf).
  target_arns = {
    notifier         = aws_lambda_function.this["notifier"].arn
    pipeline_trigger = aws_lambda_function.this["pipeline_trigger"].arn
    deploy_trigger   = aws_lambda_function.this["deploy_trigger"].arn
    training         = local.pipeline_arns.training
    inference        = local.pipeline_arns.inference
  }
}

# --- Notifications -----------------------------------------------------------------------------------

locals {
  # A (step, status) pair with a custom message is left to its custom-<i> rule, so the notifier gets
  # each event once: the step-status rule excludes those step names for that status.
  custom_steps_by_status = {
    for status in var.notify_step_statuses : status => distinct([
      for entry in var.custom_notification_config : entry.step_name if entry.step_status == status
    ])
  }
  step_status_alternatives = [
    for status in var.notify_step_statuses : merge(
      { currentStepStatus = [status] },
      { for field, matcher in { stepName = [{ anything-but = local.custom_steps_by_status[status] }] } : field => matcher if length(local.custom_steps_by_status[status]) > 0 },
    )
  ]
  # One status: its fields go straight into `detail`; several: one "$or" alternative each
  # (EventBridge wants at least two alternatives in an "$or").
  step_status_detail = merge(
    { pipelineArn = values(local.pipeline_arns) },
    jsondecode(
      length(local.step_status_alternatives) == 1
      ? jsonencode(try(local.step_status_alternatives[0], {}))
      : jsonencode({ "$or" = local.step_status_alternatives })
    ),
  )
}

# --- Event rules -------------------------------------------------------------------------------------

locals {
  # The templates' variables (local_aws/rules.py passes the same).
  rule_variables = {
    detail_types                   = local.contract.detail_types
    steps                          = local.contract.steps
    no_ground_truth                = local.contract.sentinels.no_ground_truth
    bucket_name                    = var.bucket_name
    bucket_train_prefix            = var.bucket_train_prefix
    bucket_inf_prefix              = var.bucket_inf_prefix
    model_package_group_name       = var.model_package_group_name
    pipeline_arns                  = local.pipeline_arns
    pipeline_arn_list              = values(local.pipeline_arns)
    training_schedule              = var.training_schedule
    inference_schedule             = var.inference_schedule
    notify_step_statuses_text      = join(", ", var.notify_step_statuses)
    notify_execution_statuses      = var.notify_execution_statuses
    notify_execution_statuses_text = join(", ", var.notify_execution_statuses)
    step_status_detail             = local.step_status_detail
  }
  rule_table = jsondecode(templatefile("${path.module}/events/rules.json.tftpl", local.rule_variables))
  custom_rules = {
    for index, entry in var.custom_notification_config : "custom-${index}" => jsondecode(templatefile(
      "${path.module}/events/custom_rule.json.tftpl", merge(local.rule_variables, { index = index, entry = entry })
    ))
  }
  # Scheduled runs: the template's default parameters, overridden by schedule_pipeline_parameters.
  scheduled_rules = {
    for purpose, kind in { training-schedule = "training", inference-schedule = "inference" } : purpose => merge(
      local.rule_table[purpose],
      { parameters = merge(local.rule_table[purpose].parameters, var.schedule_pipeline_parameters[kind]) },
    )
  }
  # Rules that are off: schedules without a schedule, status rules without statuses.
  rules_off = [for purpose, off in {
    training-schedule  = var.training_schedule == null
    inference-schedule = var.inference_schedule == null
    step-status        = length(var.notify_step_statuses) == 0
    execution-status   = length(var.notify_execution_statuses) == 0
  } : purpose if off]

  event_rules = {
    for purpose, rule in merge(local.rule_table, local.scheduled_rules, local.custom_rules) :
    purpose => rule if !contains(local.rules_off, purpose)
  }
  lambda_rule_targets = {
    for purpose, rule in local.event_rules : purpose => rule.target if contains(keys(local.functions), rule.target)
  }
}

resource "aws_cloudwatch_event_rule" "this" {
  for_each            = local.event_rules
  name                = "${local.name}-${each.key}"
  description         = each.value.description
  event_pattern       = each.value.pattern == null ? null : jsonencode(each.value.pattern)
  schedule_expression = each.value.schedule
  state               = "ENABLED"
}

resource "aws_cloudwatch_event_target" "this" {
  for_each  = local.event_rules
  rule      = aws_cloudwatch_event_rule.this[each.key].name
  target_id = each.key
  arn       = local.target_arns[each.value.target]
  role_arn  = each.value.parameters == null ? null : aws_iam_role.events.arn

  dynamic "sagemaker_pipeline_target" {
    for_each = each.value.parameters == null ? [] : [each.value.parameters]

    content {
      dynamic "pipeline_parameter_list" {
        for_each = sagemaker_pipeline_target.value

        content {
          name  = pipeline_parameter_list.key
          value = pipeline_parameter_list.value
        }
      }
    }
  }

  # Events EventBridge cannot deliver (throttling, a deleted function, a missing pipeline).
  dead_letter_config {
    arn = aws_sqs_queue.dead_letter.arn
  }

  retry_policy {
    maximum_event_age_in_seconds = 86400
    maximum_retry_attempts       = 185
  }
}

# --- Deploy on approval ------------------------------------------------------------------------------

check "deploy_trigger_configured" {
  assert {
    condition     = var.gitlab_project_id != "" || var.environment == "local"
    error_message = "gitlab_project_id is empty: approved model versions reach the deploy trigger, which cannot call GitLab (the events end in the dead-letter queue). Set gitlab_project_id in env_files/${var.environment}.tfvars and put the trigger token in the secret (output gitlab_token_secret_arn)."
  }
}
