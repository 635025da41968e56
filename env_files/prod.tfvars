# prod environment: replace the account IDs, ARNs and network IDs with your own before the first deploy.
# Read by Terraform (`-var-file=env_files/prod.tfvars`) and by Python (`pipeline_scripts.config`).

environment = "prod"
aws_region  = "us-east-1"

# --- Storage ---------------------------------------------------------------
bucket_name         = "mlops-prod-bucket"
bucket_prefix       = "abalone"
bucket_train_prefix = "abalone/training"
bucket_inf_prefix   = "abalone/inference"

# --- Notifications -----------------------------------------------------------
notification_function_name = "mlops-prod-notifier"
email_recipient            = ["data-scientist@example.com"]
custom_notification_config = [
  { step_name = "ModelQualityCalcStep", step_status = "Failed", step_msg = "Model quality breached its threshold: the HPO retraining pipeline is starting. Review the new model version when it is registered." },
  { step_name = "CandidateModel-RegisterModel", step_status = "Succeeded", step_msg = "A new model version is waiting for your approval in the model registry (mlops models approve)." },
  { step_name = "DataQualityCheck", step_status = "Succeeded", step_msg = "Data-quality check finished: open its report to see whether the batch drifted from the training baseline." },
]

# --- SageMaker pipelines ---------------------------------------------------------
pipeline_train           = "mlops-prod-training"
pipeline_trainwhpo       = "mlops-prod-training-hpo"
pipeline_inf             = "mlops-prod-batch-inference"
recreate_pipelines       = false
model_package_group_name = "mlops-prod-abalone"

# The data set: the folder holding dataset.yaml (the schema, the problem type and the default model
# quality) and the sample data files. ModelQualityCalcStep fails when the data set's model_quality metric
# breaches its threshold, unless this environment sets its own (the metric must fit the problem type):
dataset_dir = "data"
# model_quality_metric    = "rmse"
# model_quality_threshold = 3.0

# --- Identity, encryption, network -------------------------------------------------
role_arn  = "arn:aws:iam::333333333333:role/mlops-prod-sagemaker-execution"
kms_key   = "arn:aws:kms:us-east-1:333333333333:key/00000000-0000-0000-0000-000000000000"
subnet_id = "subnet-0123456789abcdef0"
sg_id     = "sg-0123456789abcdef0"

# --- Data upload on deploy (the CI build job) ------------------------------------------
upload_training_data  = false
upload_inference_data = false

user_id = "ml-engineer"
