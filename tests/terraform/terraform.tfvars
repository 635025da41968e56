# Variables for every test file in this directory (terraform test loads terraform.tfvars from the test
# directory); a run block overrides what it needs.
environment                = "local"
aws_region                 = "us-east-1"
bucket_name                = "mlops-local-bucket"
bucket_prefix              = "abalone"
bucket_train_prefix        = "abalone/training"
bucket_inf_prefix          = "abalone/inference"
notification_function_name = "mlops-local-notifier"
email_recipient            = ["data-scientist@example.com"]
custom_notification_config = [
  { step_name = "ModelQualityCalcStep", step_status = "Failed", step_msg = "HPO starts." },
  { step_name = "CandidateModel-RegisterModel", step_status = "Succeeded", step_msg = "Approve it." },
]
pipeline_train           = "mlops-local-training"
pipeline_trainwhpo       = "mlops-local-training-hpo"
pipeline_inf             = "mlops-local-batch-inference"
model_package_group_name = "mlops-local-abalone"
model_quality_threshold  = 3.0
role_arn                 = "arn:aws:iam::123456789012:role/mlops-local-sagemaker-execution"
user_id                  = "local-developer"
lambda_package_path      = "tests/terraform/fixtures/lambda_function.zip.txt"
