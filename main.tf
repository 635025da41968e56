# =====================================================================================================
# main.tf: the provider, the account/region/partition lookups, and the names and tags every other file
# uses. Everything is named from `local.name` (mlops-<environment>) unless env_files/<env>.tfvars names it.
# =====================================================================================================

# --- Core --------------------------------------------------------------------------------------------

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = local.tags
  }
}

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  name       = "mlops-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition

  # tags.json holds the project-wide tags; var.tags adds or overrides per environment.
  tags = merge(
    jsondecode(file("${path.module}/tags.json")),
    { Environment = var.environment, Owner = var.user_id },
    var.tags,
  )

  # contracts.json: the names Python, Terraform and the Lambdas share (step names, event detail-types,
  # each function's handler, timeout, concurrency, memory and environment keys).
  contract = jsondecode(file("${path.module}/contracts.json"))
}

# --- Storage -----------------------------------------------------------------------------------------

locals {
  bucket_name = var.manage_bucket ? aws_s3_bucket.this[0].id : data.aws_s3_bucket.this[0].id
  bucket_arn  = var.manage_bucket ? aws_s3_bucket.this[0].arn : data.aws_s3_bucket.this[0].arn
}

# --- Encryption --------------------------------------------------------------------------------------

locals {
  # One customer-managed key for the topic, the dead-letter queue, the log groups, the Lambda
  # environment, the GitLab token secret and (when managed here) the bucket.
  kms_key_arn = var.create_kms_key ? aws_kms_key.this[0].arn : var.kms_key
}

# --- SageMaker pipelines -----------------------------------------------------------------------------

locals {
  # The pipelines are created by `mlops pipelines upsert` (not Terraform). SageMaker lower-cases the
  # name in a pipeline ARN.
  pipelines = {
    training  = var.pipeline_train
    hpo       = var.pipeline_trainwhpo
    inference = var.pipeline_inf
  }
  pipeline_arns = {
    for kind, pipeline in local.pipelines :
    kind => "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}:pipeline/${lower(pipeline)}"
  }
}

# --- Lambda functions --------------------------------------------------------------------------------

locals {
  # Function key → name and description here; handler, timeout, reserved concurrency (null:
  # var.lambda_reserved_concurrency) and memory from contracts.json. Every function runs from the one
  # zip (make lambda-package).
  function_settings = {
    notifier = {
      name        = var.notification_function_name
      description = "Turns SageMaker pipeline and model-registry events into readable SNS messages"
    }
    pipeline_trigger = {
      name        = "${local.name}-pipeline-trigger"
      description = "Starts the training, inference and HPO pipelines from S3 data drops and model-quality failures"
    }
    deploy_trigger = {
      name        = "${local.name}-deploy-trigger"
      description = "Triggers the GitLab deploy-on-approval pipeline when a model version is approved"
    }
  }
  contract_functions = { for key, function in local.contract.lambda_functions : key => function if key != "$comment" }
  functions = {
    for key, function in local.function_settings : key => merge(function, {
      handler     = local.contract_functions[key].handler
      timeout     = local.contract_functions[key].timeout
      memory_size = try(local.contract_functions[key].memory_size, null)
      concurrency = coalesce(try(local.contract_functions[key].reserved_concurrency, null), var.lambda_reserved_concurrency)
    })
  }
}

# --- Deploy on approval ------------------------------------------------------------------------------

locals {
  gitlab_token_secret_arn = var.gitlab_token_secret_arn != null ? var.gitlab_token_secret_arn : aws_secretsmanager_secret.gitlab_token[0].arn
}
