# The EventBridge rules of docs/contracts.md as Terraform renders them for the local environment
# (values of env_files/local.tfvars): names, patterns (decoded), targets, permissions.
# Run: make tf-test (terraform test -test-directory=tests/terraform), offline with mock_provider.

mock_provider "aws" {
  # Mocked values are known at plan time (Terraform 1.11), so every run is a fast plan.
  override_during = plan
  source          = "./tests/terraform/mocks"
}

# Variables: tests/terraform/terraform.tfvars (the local environment's values).

run "rules_of_the_contract" {
  command = plan

  # --- Names, states and one target per rule

  assert {
    condition = toset(keys(aws_cloudwatch_event_rule.this)) == toset([
      "training-data", "inference-data", "step-status", "execution-status", "model-quality-failed",
      "model-approved", "model-rejected", "custom-0", "custom-1",
    ])
    error_message = "the rule purposes differ from docs/contracts.md (schedules are off by default)"
  }

  assert {
    condition     = alltrue([for purpose, rule in aws_cloudwatch_event_rule.this : rule.name == "mlops-local-${purpose}" && rule.state == "ENABLED"])
    error_message = "rules must be named mlops-local-<purpose> and be ENABLED"
  }

  assert {
    condition     = alltrue([for purpose, target in aws_cloudwatch_event_target.this : target.target_id == purpose && target.rule == aws_cloudwatch_event_rule.this[purpose].name])
    error_message = "every rule has one target whose id is the purpose"
  }

  # --- S3 rules: the bucket's EventBridge notifications, keys under the prefixes

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.this["training-data"].event_pattern) == {
      source      = ["aws.s3"]
      detail-type = ["Object Created"]
      detail = {
        bucket = { name = ["mlops-local-bucket"] }
        object = { key = [{ prefix = "abalone/training/" }] }
      }
    }
    error_message = "training-data pattern: ${aws_cloudwatch_event_rule.this["training-data"].event_pattern}"
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.this["inference-data"].event_pattern).detail.object.key == [{ prefix = "abalone/inference/" }]
    error_message = "inference-data must match keys under abalone/inference/"
  }

  assert {
    condition     = aws_s3_bucket_notification.this.eventbridge == true && length(aws_s3_bucket_notification.this.lambda_function) == 0
    error_message = "the bucket must send its events to EventBridge (no CloudTrail, no direct Lambda notification)"
  }

  assert {
    condition     = aws_cloudwatch_event_target.this["training-data"].arn == aws_lambda_function.this["pipeline_trigger"].arn && aws_cloudwatch_event_target.this["inference-data"].arn == aws_lambda_function.this["pipeline_trigger"].arn
    error_message = "S3 rules target the pipeline-trigger function"
  }

  # --- SageMaker rules: scoped to the three pipelines

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.this["step-status"].event_pattern) == {
      source      = ["aws.sagemaker"]
      detail-type = ["SageMaker Model Building Pipeline Execution Step Status Change"]
      detail = {
        pipelineArn = [
          "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlops-local-training-hpo",
          "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlops-local-batch-inference",
          "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlops-local-training",
        ]
        currentStepStatus = ["Failed"]
        # ModelQualityCalcStep Failed has a custom message: custom-0 delivers it, once.
        stepName = [{ anything-but = ["ModelQualityCalcStep"] }]
      }
    }
    error_message = "step-status pattern: ${aws_cloudwatch_event_rule.this["step-status"].event_pattern}"
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.this["custom-1"].event_pattern).detail == {
      pipelineArn = [
        "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlops-local-training-hpo",
        "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlops-local-batch-inference",
        "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlops-local-training",
      ]
      stepName          = ["CandidateModel-RegisterModel"]
      currentStepStatus = ["Succeeded"]
    }
    error_message = "custom-1 must match CandidateModel-RegisterModel Succeeded on the three pipelines"
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.this["execution-status"].event_pattern).detail.currentPipelineExecutionStatus == ["Failed", "Stopped"]
    error_message = "execution-status notifies Failed and Stopped by default"
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.this["model-quality-failed"].event_pattern).detail == {
      pipelineArn       = ["arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlops-local-batch-inference"]
      stepName          = ["ModelQualityCalcStep"]
      currentStepStatus = ["Failed"]
    }
    error_message = "model-quality-failed must match only the inference pipeline's ModelQualityCalcStep failures"
  }

  assert {
    condition     = aws_cloudwatch_event_target.this["model-quality-failed"].arn == aws_lambda_function.this["pipeline_trigger"].arn
    error_message = "model-quality-failed targets the pipeline trigger (which starts HPO)"
  }

  assert {
    condition = alltrue([
      for purpose in ["step-status", "execution-status", "model-rejected", "custom-0", "custom-1"] :
      aws_cloudwatch_event_target.this[purpose].arn == aws_lambda_function.this["notifier"].arn
    ])
    error_message = "status and rejection rules target the notifier"
  }

  # --- Approval rules: this model package group, Approved / Rejected

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.this["model-approved"].event_pattern) == {
      source      = ["aws.sagemaker"]
      detail-type = ["SageMaker Model Package State Change"]
      detail      = { ModelPackageGroupName = ["mlops-local-abalone"], ModelApprovalStatus = ["Approved"] }
    }
    error_message = "model-approved pattern: ${aws_cloudwatch_event_rule.this["model-approved"].event_pattern}"
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.this["model-rejected"].event_pattern).detail.ModelApprovalStatus == ["Rejected"]
    error_message = "model-rejected must match Rejected only"
  }

  assert {
    condition     = aws_cloudwatch_event_target.this["model-approved"].arn == aws_lambda_function.this["deploy_trigger"].arn
    error_message = "model-approved targets the deploy trigger"
  }

  # --- Lambda targets: the raw event, a dead-letter queue, invoke permissions per rule

  assert {
    condition = alltrue([
      for purpose, target in aws_cloudwatch_event_target.this :
      length(target.input_transformer) == 0 && target.input == null && length(target.sagemaker_pipeline_target) == 0 && target.role_arn == null
    ])
    error_message = "Lambda targets receive the event as is (the handlers parse the EventBridge envelope)"
  }

  assert {
    condition     = alltrue([for target in aws_cloudwatch_event_target.this : target.dead_letter_config[0].arn == aws_sqs_queue.dead_letter.arn])
    error_message = "every target sends undeliverable events to the dead-letter queue"
  }

  assert {
    condition = toset([for purpose, permission in aws_lambda_permission.events : "${purpose}>${permission.function_name}"]) == toset([
      "training-data>mlops-local-pipeline-trigger", "inference-data>mlops-local-pipeline-trigger",
      "model-quality-failed>mlops-local-pipeline-trigger", "model-approved>mlops-local-deploy-trigger",
      "step-status>mlops-local-notifier", "execution-status>mlops-local-notifier",
      "model-rejected>mlops-local-notifier", "custom-0>mlops-local-notifier", "custom-1>mlops-local-notifier",
    ])
    error_message = "each function may be invoked by exactly the rules that target it"
  }

  assert {
    condition     = alltrue([for purpose, permission in aws_lambda_permission.events : permission.principal == "events.amazonaws.com" && permission.source_arn == aws_cloudwatch_event_rule.this[purpose].arn])
    error_message = "invoke permissions are scoped to the rule's ARN"
  }
}
