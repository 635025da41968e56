# =====================================================================================================
# variables.tf: every key of env_files/<env>.tfvars (shared with pipeline_scripts/config/, which
# validates the same rules) plus the Terraform-only settings, each with a default.
# =====================================================================================================

# --- Core --------------------------------------------------------------------------------------------

variable "environment" {
  description = "Environment name: local, dev, staging or prod. Names every resource (mlops-<environment>-...)."
  type        = string

  validation {
    condition     = contains(["local", "dev", "staging", "prod"], var.environment)
    error_message = "environment must be one of local, dev, staging, prod."
  }
}

variable "aws_region" {
  description = "AWS region of every resource, e.g. us-east-1."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a region code such as us-east-1."
  }
}

variable "user_id" {
  description = "Owner of the environment (the Owner tag), e.g. an employee ID."
  type        = string

  validation {
    condition     = length(trimspace(var.user_id)) > 0
    error_message = "user_id must not be empty: set the owner, e.g. your employee ID."
  }
}

variable "tags" {
  description = "Extra tags for every resource, merged over tags.json and the Environment/Owner tags."
  type        = map(string)
  default     = {}
}

# --- Storage -----------------------------------------------------------------------------------------

variable "bucket_name" {
  description = "S3 bucket holding the data, models and reports. Created here when manage_bucket is true."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name)) && !can(regex("\\.\\.|^\\d+\\.\\d+\\.\\d+\\.\\d+$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens, not an IP address, no '..'."
  }
}

variable "bucket_prefix" {
  description = "Key prefix of everything this project writes in the bucket (no leading or trailing '/')."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", var.bucket_prefix))
    error_message = "bucket_prefix must be an S3 key prefix without leading or trailing '/', e.g. abalone."
  }
}

variable "bucket_train_prefix" {
  description = "Key prefix for training data: an object created under it starts the training pipeline."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", var.bucket_train_prefix))
    error_message = "bucket_train_prefix must be an S3 key prefix without leading or trailing '/', e.g. abalone/training."
  }
}

variable "bucket_inf_prefix" {
  description = "Key prefix for inference data: a .csv created under it starts the batch-inference pipeline, except part-*.csv parts of a multi-file batch: a _SUCCESS object in their folder starts one run over it."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", var.bucket_inf_prefix))
    error_message = "bucket_inf_prefix must be an S3 key prefix without leading or trailing '/', e.g. abalone/inference."
  }

  validation {
    # Operators end the lines: checkov's HCL parser rejects a line that starts with one.
    condition = (
      var.bucket_inf_prefix != var.bucket_train_prefix &&
      !startswith("${var.bucket_inf_prefix}/", "${var.bucket_train_prefix}/") &&
      !startswith("${var.bucket_train_prefix}/", "${var.bucket_inf_prefix}/")
    )
    error_message = "bucket_inf_prefix overlaps bucket_train_prefix, so one upload would start both pipelines: use two separate prefixes."
  }
}

variable "manage_bucket" {
  description = "Create and manage the bucket here (SSE-KMS, versioning, no public access, TLS only). False: use an existing bucket of that name (only its EventBridge notifications are set, which replaces the bucket's notification configuration)."
  type        = bool
  default     = true
}

# --- Encryption --------------------------------------------------------------------------------------

variable "kms_key" {
  description = "KMS key ARN the SageMaker jobs encrypt volumes and outputs with (read by the CLI), or \"\" for none. Also the key of the resources here when create_kms_key is false."
  type        = string
  default     = ""

  validation {
    condition     = var.kms_key == "" || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[A-Za-z0-9/_-]+$", var.kms_key))
    error_message = "kms_key must be a KMS key ARN (arn:aws:kms:<region>:<account-id>:key/<id>) or \"\"."
  }
}

variable "create_kms_key" {
  description = "Create a customer-managed KMS key (rotated yearly) for the topic, queue, logs, Lambda environment, secret and bucket. False: use kms_key, whose key policy must let EventBridge, SNS, CloudWatch and CloudWatch Logs use it."
  type        = bool
  default     = true

  validation {
    condition     = var.create_kms_key || can(regex(":key/", var.kms_key))
    error_message = "create_kms_key is false but kms_key is not a key ARN: set kms_key to arn:aws:kms:<region>:<account-id>:key/<id>, or create the key here."
  }
}

# --- Notifications -----------------------------------------------------------------------------------

variable "notification_function_name" {
  description = "Name of the notifier Lambda function."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.notification_function_name))
    error_message = "notification_function_name must be 1-64 letters, digits, hyphens or underscores."
  }
}

variable "email_recipient" {
  description = "E-mail addresses subscribed to the notification topic (each confirms the subscription once)."
  type        = list(string)

  validation {
    condition     = alltrue([for address in var.email_recipient : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", address))])
    error_message = "email_recipient must be a list of e-mail addresses, e.g. [\"ds@example.com\"]."
  }
}

variable "custom_notification_config" {
  description = "Custom messages: when step_name reaches step_status the notifier adds step_msg (one EventBridge rule each). action_required marks the subject."
  type = list(object({
    step_name       = string
    step_status     = string
    step_msg        = string
    action_required = optional(bool, false)
  }))
  default = []

  validation {
    condition = alltrue([
      for entry in var.custom_notification_config :
      contains(["Starting", "Executing", "Stopping", "Stopped", "Failed", "Succeeded"], entry.step_status)
    ])
    error_message = "custom_notification_config: every step_status must be one of Starting, Executing, Stopping, Stopped, Failed, Succeeded."
  }

  validation {
    condition = alltrue([
      for entry in var.custom_notification_config :
      length(trimspace(entry.step_name)) > 0 && length(trimspace(entry.step_msg)) > 0
    ])
    error_message = "custom_notification_config: step_name and step_msg must not be empty."
  }
}

variable "notify_step_statuses" {
  description = "Step statuses of the three pipelines that reach the notifier (the step-status rule); [] turns that rule off."
  type        = list(string)
  default     = ["Failed"]

  validation {
    condition     = alltrue([for status in var.notify_step_statuses : contains(["Starting", "Executing", "Stopping", "Stopped", "Failed", "Succeeded"], status)]) && length(distinct(var.notify_step_statuses)) == length(var.notify_step_statuses)
    error_message = "notify_step_statuses: use Starting, Executing, Stopping, Stopped, Failed or Succeeded, each once."
  }
}

variable "notify_execution_statuses" {
  description = "Pipeline execution statuses that reach the notifier (the execution-status rule); [] turns that rule off."
  type        = list(string)
  default     = ["Failed", "Stopped"]

  validation {
    condition     = alltrue([for status in var.notify_execution_statuses : contains(["Executing", "Stopping", "Stopped", "Failed", "Succeeded"], status)]) && length(distinct(var.notify_execution_statuses)) == length(var.notify_execution_statuses)
    error_message = "notify_execution_statuses: use Executing, Stopping, Stopped, Failed or Succeeded, each once."
  }
}

# --- SageMaker pipelines -----------------------------------------------------------------------------

variable "pipeline_train" {
  description = "Name of the training pipeline (fixed hyperparameters)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$", var.pipeline_train))
    error_message = "pipeline_train must be letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "pipeline_trainwhpo" {
  description = "Name of the training-with-HPO pipeline (started when model quality degrades)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$", var.pipeline_trainwhpo))
    error_message = "pipeline_trainwhpo must be letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "pipeline_inf" {
  description = "Name of the batch-inference pipeline."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$", var.pipeline_inf))
    error_message = "pipeline_inf must be letters, digits and hyphens, starting and ending with a letter or digit."
  }

  validation {
    condition     = length(distinct([lower(var.pipeline_train), lower(var.pipeline_trainwhpo), lower(var.pipeline_inf)])) == 3
    error_message = "pipeline_train, pipeline_trainwhpo and pipeline_inf must be three different names."
  }
}

variable "recreate_pipelines" {
  description = "Read by the CLI (`mlops pipelines upsert`): delete and recreate the pipelines instead of updating them. Not used by Terraform."
  type        = bool
  default     = false
}

variable "model_package_group_name" {
  description = "Model package group of the registry (created by the first training run); the approval rules filter on it."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.model_package_group_name))
    error_message = "model_package_group_name must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "dataset_dir" {
  description = "Read by the CLI: the folder (relative to the repository) holding dataset.yaml and the sample data files. Not used by Terraform."
  type        = string
  default     = "data"

  validation {
    condition     = length(trimspace(var.dataset_dir)) > 0
    error_message = "dataset_dir must name a folder, e.g. \"data\"."
  }
}

variable "model_quality_metric" {
  description = "Read by the CLI: the metric ModelQualityCalcStep checks; \"\" (the default): the data set's model_quality metric. It must fit the data set's problem type (regression: rmse, mse, mae, r2; binary: f1, accuracy, precision, recall, auc, logloss; multiclass: macro_f1, weighted_f1, accuracy, logloss). Not used by Terraform."
  type        = string
  default     = ""

  validation {
    condition     = contains(["", "rmse", "mse", "mae", "r2", "f1", "accuracy", "precision", "recall", "auc", "logloss", "macro_f1", "weighted_f1"], var.model_quality_metric)
    error_message = "model_quality_metric must be \"\" or one of rmse, mse, mae, r2, f1, accuracy, precision, recall, auc, logloss, macro_f1, weighted_f1."
  }
}

variable "model_quality_threshold" {
  description = "Read by the CLI: ModelQualityCalcStep fails when the metric breaches this (and the HPO pipeline starts); null (the default): the data set's model_quality threshold. Not used by Terraform."
  type        = number
  default     = null
}

variable "role_arn" {
  description = "SageMaker execution role of the pipelines (read by the CLI). Terraform lets it use the KMS key created here."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$", var.role_arn))
    error_message = "role_arn must be an IAM role ARN: arn:aws:iam::<account-id>:role/<name>."
  }
}

variable "subnet_id" {
  description = "Read by the CLI: subnet ID(s), comma-separated, the SageMaker jobs run in, or \"\" for no VPC. Not used by Terraform."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^(subnet-[0-9a-f]{8,17}(, *subnet-[0-9a-f]{8,17})*)?$", var.subnet_id))
    error_message = "subnet_id must be \"\" or subnet IDs (subnet-...), comma-separated."
  }
}

variable "sg_id" {
  description = "Read by the CLI: security group ID(s), comma-separated, of the SageMaker jobs, or \"\" for no VPC. Not used by Terraform."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^(sg-[0-9a-f]{8,17}(, *sg-[0-9a-f]{8,17})*)?$", var.sg_id))
    error_message = "sg_id must be \"\" or security group IDs (sg-...), comma-separated."
  }

  validation {
    condition     = (var.subnet_id == "") == (var.sg_id == "")
    error_message = "subnet_id and sg_id must be set together (SageMaker jobs in a VPC need both) or both be \"\"."
  }
}

# --- Lambda functions --------------------------------------------------------------------------------

variable "lambda_package_path" {
  description = "The Lambda deployment zip built by `make lambda-package` (relative to the working directory)."
  type        = string
  default     = "build/lambda/lambda_function.zip"
}

variable "lambda_log_retention_days" {
  description = "Retention of the Lambda log groups, in days (a value CloudWatch Logs accepts)."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.lambda_log_retention_days)
    error_message = "lambda_log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrency of the notifier and the deploy trigger (the pipeline trigger always has 1, which serialises its HPO check)."
  type        = number
  default     = 5

  validation {
    condition     = var.lambda_reserved_concurrency >= 1 && floor(var.lambda_reserved_concurrency) == var.lambda_reserved_concurrency
    error_message = "lambda_reserved_concurrency must be a whole number, 1 or more."
  }
}

variable "lambda_log_level" {
  description = "LOG_LEVEL of the Lambda functions."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.lambda_log_level)
    error_message = "lambda_log_level must be one of DEBUG, INFO, WARNING, ERROR."
  }
}

# --- Event rules -------------------------------------------------------------------------------------

variable "training_schedule" {
  description = "Schedule of the training pipeline, e.g. \"cron(0 3 ? * MON *)\" or \"rate(7 days)\"; null: no schedule."
  type        = string
  default     = null

  validation {
    condition = var.training_schedule == null || (
      can(regex("^cron\\(\\S+ \\S+ (\\? \\S+ \\S+|\\S+ \\S+ \\?) \\S+\\)$", var.training_schedule)) ||
      can(regex("^rate\\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\\)$", var.training_schedule))
    )
    error_message = "training_schedule must be cron(<min> <hour> <day-of-month> <month> <day-of-week> <year>) with ? in day-of-month or day-of-week, or rate(<n> <unit>) (\"1 day\", \"7 days\"), or null."
  }
}

variable "inference_schedule" {
  description = "Schedule of the batch-inference pipeline, e.g. \"cron(0 6 * * ? *)\" or \"rate(1 day)\"; null: no schedule."
  type        = string
  default     = null

  validation {
    condition = var.inference_schedule == null || (
      can(regex("^cron\\(\\S+ \\S+ (\\? \\S+ \\S+|\\S+ \\S+ \\?) \\S+\\)$", var.inference_schedule)) ||
      can(regex("^rate\\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\\)$", var.inference_schedule))
    )
    error_message = "inference_schedule must be cron(<min> <hour> <day-of-month> <month> <day-of-week> <year>) with ? in day-of-month or day-of-week, or rate(<n> <unit>) (\"1 day\", \"7 days\"), or null."
  }
}

variable "schedule_pipeline_parameters" {
  description = "Pipeline parameters of scheduled runs, over the defaults: training InputDataUri = s3://<bucket>/<bucket_train_prefix>/training-data.csv; inference InputDataUri = s3://<bucket>/<bucket_inf_prefix>/inference-data.csv and GroundTruthUri = none."
  type = object({
    training  = optional(map(string), {})
    inference = optional(map(string), {})
  })
  default = {}
}

# --- Deploy on approval ------------------------------------------------------------------------------

variable "gitlab_url" {
  description = "Base URL of the GitLab instance the deploy trigger calls."
  type        = string
  default     = "https://gitlab.com"

  validation {
    condition     = can(regex("^https?://[^/\\s]+(/[^\\s]*)?[^/\\s]$", var.gitlab_url))
    error_message = "gitlab_url must be an http(s) URL without a trailing '/', e.g. https://gitlab.com."
  }
}

variable "gitlab_project_id" {
  description = "GitLab project (numeric ID or URL-encoded path) whose deploy-on-approval pipeline an approval triggers; \"\" until set (approvals then fail in the deploy trigger and land in the dead-letter queue)."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^([0-9]+|[A-Za-z0-9_.-]+(%2F[A-Za-z0-9_.-]+)+)?$", var.gitlab_project_id))
    error_message = "gitlab_project_id must be a numeric project ID or a URL-encoded path such as group%2Fproject."
  }
}

variable "gitlab_ref" {
  description = "Branch or tag the deploy-on-approval pipeline runs on."
  type        = string
  default     = "main"

  validation {
    condition     = length(trimspace(var.gitlab_ref)) > 0
    error_message = "gitlab_ref must not be empty."
  }
}

variable "gitlab_token_secret_arn" {
  description = "Secrets Manager secret holding the GitLab pipeline trigger token (a string, or JSON with key \"token\"); null: create an empty secret <name>/gitlab-trigger-token to fill in."
  type        = string
  default     = null

  validation {
    condition     = var.gitlab_token_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$", var.gitlab_token_secret_arn))
    error_message = "gitlab_token_secret_arn must be a Secrets Manager secret ARN or null."
  }
}

# --- Data upload -------------------------------------------------------------------------------------

variable "upload_training_data" {
  description = "Read by the CLI (CI build job): upload data/training-data.csv under the training prefix. Not used by Terraform."
  type        = bool
  default     = false
}

variable "upload_inference_data" {
  description = "Read by the CLI (CI build job): upload data/inference-data.csv under the inference prefix. Not used by Terraform."
  type        = bool
  default     = false
}
