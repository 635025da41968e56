# =====================================================================================================
# events.tf: the EventBridge rules of docs/contracts.md ("Event rules"). Each rule is a plain map in
# `locals` (pattern, schedule, target, pipeline parameters), rendered by one rule and one target
# resource, so local_aws/tf_rules.py can read the same rules without Terraform. Rule names are
# <name>-<purpose>; every target id is the purpose.
# =====================================================================================================

# --- Core --------------------------------------------------------------------------------------------

locals {
  step_event      = "SageMaker Model Building Pipeline Execution Step Status Change"
  execution_event = "SageMaker Model Building Pipeline Execution Status Change"
  package_event   = "SageMaker Model Package State Change"

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

  custom_rules = {
    for index, entry in var.custom_notification_config : "custom-${index}" => {
      enabled     = true
      description = "Custom message when step ${entry.step_name} is ${entry.step_status} (custom_notification_config[${index}])"
      pattern = {
        source      = ["aws.sagemaker"]
        detail-type = [local.step_event]
        detail = {
          pipelineArn       = values(local.pipeline_arns)
          stepName          = [entry.step_name]
          currentStepStatus = [entry.step_status]
        }
      }
      schedule   = null
      target     = "notifier"
      parameters = null
    }
  }
}

# --- Event rules -------------------------------------------------------------------------------------

locals {
  rule_definitions = {
    training-data = {
      enabled     = true
      description = "S3 object created under the training prefix: start the training pipeline"
      pattern = {
        source      = ["aws.s3"]
        detail-type = ["Object Created"]
        detail = {
          bucket = { name = [var.bucket_name] }
          object = { key = [{ prefix = "${var.bucket_train_prefix}/" }] }
        }
      }
      schedule   = null
      target     = "pipeline_trigger"
      parameters = null
    }
    inference-data = {
      enabled     = true
      description = "S3 object created under the inference prefix: start the batch-inference pipeline"
      pattern = {
        source      = ["aws.s3"]
        detail-type = ["Object Created"]
        detail = {
          bucket = { name = [var.bucket_name] }
          object = { key = [{ prefix = "${var.bucket_inf_prefix}/" }] }
        }
      }
      schedule   = null
      target     = "pipeline_trigger"
      parameters = null
    }
    training-schedule = {
      enabled     = var.training_schedule != null
      description = "Scheduled run of the training pipeline"
      pattern     = null
      schedule    = var.training_schedule
      target      = "training"
      parameters = merge(
        { InputDataUri = "s3://${var.bucket_name}/${var.bucket_train_prefix}/training-data.csv" },
        var.schedule_pipeline_parameters.training,
      )
    }
    inference-schedule = {
      enabled     = var.inference_schedule != null
      description = "Scheduled run of the batch-inference pipeline"
      pattern     = null
      schedule    = var.inference_schedule
      target      = "inference"
      parameters = merge(
        {
          InputDataUri   = "s3://${var.bucket_name}/${var.bucket_inf_prefix}/inference-data.csv"
          GroundTruthUri = "none"
        },
        var.schedule_pipeline_parameters.inference,
      )
    }
    step-status = {
      enabled     = length(var.notify_step_statuses) > 0
      description = "A step of the three pipelines reached one of ${join(", ", var.notify_step_statuses)}: notify"
      pattern = {
        source      = ["aws.sagemaker"]
        detail-type = [local.step_event]
        detail      = local.step_status_detail
      }
      schedule   = null
      target     = "notifier"
      parameters = null
    }
    execution-status = {
      enabled     = length(var.notify_execution_statuses) > 0
      description = "An execution of the three pipelines reached one of ${join(", ", var.notify_execution_statuses)}: notify"
      pattern = {
        source      = ["aws.sagemaker"]
        detail-type = [local.execution_event]
        detail = {
          pipelineArn                    = values(local.pipeline_arns)
          currentPipelineExecutionStatus = var.notify_execution_statuses
        }
      }
      schedule   = null
      target     = "notifier"
      parameters = null
    }
    model-quality-failed = {
      enabled     = true
      description = "ModelQualityCalcStep failed on the inference pipeline: start the HPO pipeline (unless one runs)"
      pattern = {
        source      = ["aws.sagemaker"]
        detail-type = [local.step_event]
        detail = {
          pipelineArn       = [local.pipeline_arns.inference]
          stepName          = ["ModelQualityCalcStep"]
          currentStepStatus = ["Failed"]
        }
      }
      schedule   = null
      target     = "pipeline_trigger"
      parameters = null
    }
    model-approved = {
      enabled     = true
      description = "A version of ${var.model_package_group_name} was approved: trigger the GitLab deploy pipeline"
      pattern = {
        source      = ["aws.sagemaker"]
        detail-type = [local.package_event]
        detail = {
          ModelPackageGroupName = [var.model_package_group_name]
          ModelApprovalStatus   = ["Approved"]
        }
      }
      schedule   = null
      target     = "deploy_trigger"
      parameters = null
    }
    model-rejected = {
      enabled     = true
      description = "A version of ${var.model_package_group_name} was rejected: notify"
      pattern = {
        source      = ["aws.sagemaker"]
        detail-type = [local.package_event]
        detail = {
          ModelPackageGroupName = [var.model_package_group_name]
          ModelApprovalStatus   = ["Rejected"]
        }
      }
      schedule   = null
      target     = "notifier"
      parameters = null
    }
  }

  event_rules = {
    for purpose, rule in merge(local.rule_definitions, local.custom_rules) : purpose => rule if rule.enabled
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
