# =====================================================================================================
# sns.tf: the customer-managed KMS key and the notification topic. The key policy lets EventBridge, SNS,
# CloudWatch (alarms) and CloudWatch Logs use the key; the topic accepts messages only from EventBridge
# rules of this environment, its dead-letter alarm and the notifier's role, and e-mails every
# email_recipient. Policies are jsonencode()d maps so `terraform test` can read them back.
# =====================================================================================================

# --- Encryption --------------------------------------------------------------------------------------

locals {
  account_root     = "arn:${local.partition}:iam::${local.account_id}:root"
  rule_arn_pattern = "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/${local.name}-*"

  # Key policies name "*" as the resource: it means this key.
  kms_key_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        # The account administers the key and delegates its use through IAM (iam.tf grants the
        # Lambda roles theirs). Listed actions, not kms:*, so nothing new is granted silently.
        Sid       = "AccountAdministersAndDelegatesThroughIAM"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action = [
          "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:CreateGrant", "kms:Decrypt", "kms:DeleteAlias",
          "kms:DescribeKey", "kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey",
          "kms:EnableKeyRotation", "kms:Encrypt", "kms:GenerateDataKey",
          "kms:GenerateDataKeyWithoutPlaintext", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus",
          "kms:ListAliases", "kms:ListGrants", "kms:ListKeyPolicies", "kms:ListKeyRotations",
          "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:ReEncryptFrom", "kms:ReEncryptTo",
          "kms:RetireGrant", "kms:RevokeGrant", "kms:RotateKeyOnDemand", "kms:ScheduleKeyDeletion",
          "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
        ]
        Resource = "*"
      },
      {
        # EventBridge (encrypted targets, the dead-letter queue), SNS and CloudWatch alarms.
        Sid       = "ServicesOfThisAccountUseTheKey"
        Effect    = "Allow"
        Principal = { Service = ["events.amazonaws.com", "sns.amazonaws.com", "cloudwatch.amazonaws.com"] }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
      {
        # CloudWatch Logs, for the three Lambda log groups only.
        Sid       = "CloudWatchLogsEncryptsTheLambdaLogGroups"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action = [
          "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey",
          "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo",
        ]
        Resource = "*"
        Condition = {
          ArnEquals = {
            "kms:EncryptionContext:aws:logs:arn" = [
              for function in local.functions :
              "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${function.name}"
            ]
          }
        }
      },
      {
        # The SageMaker execution role reads and writes the bucket, encrypted with this key.
        Sid       = "SageMakerExecutionRoleUsesTheBucketKey"
        Effect    = "Allow"
        Principal = { AWS = var.role_arn }
        Action = [
          "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom",
          "kms:ReEncryptTo",
        ]
        Resource = "*"
      },
    ]
  }
}

resource "aws_kms_key" "this" {
  count                   = var.create_kms_key ? 1 : 0
  description             = "${local.name}: notifications, dead-letter queue, Lambda logs and environment, GitLab token, data bucket"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = jsonencode(local.kms_key_policy)
}

resource "aws_kms_alias" "this" {
  count         = var.create_kms_key ? 1 : 0
  name          = "alias/${local.name}"
  target_key_id = aws_kms_key.this[0].key_id
}

# --- Notifications -----------------------------------------------------------------------------------

resource "aws_sns_topic" "notifications" {
  name              = "${local.name}-notifications"
  display_name      = "MLOps ${var.environment}"
  kms_master_key_id = local.kms_key_arn
}

resource "aws_sns_topic_policy" "notifications" {
  arn = aws_sns_topic.notifications.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # The owner account manages the topic; publishing is granted below, to three principals only
        # (other principals of the account would need an IAM policy granting sns:Publish).
        Sid       = "AccountManagesTheTopic"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action = [
          "sns:AddPermission", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic",
          "sns:RemovePermission", "sns:SetTopicAttributes", "sns:Subscribe",
        ]
        Resource = aws_sns_topic.notifications.arn
      },
      {
        # EventBridge rules of this environment (none targets the topic today; one added later may).
        Sid       = "EventBridgeRulesPublish"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.notifications.arn
        Condition = { ArnLike = { "aws:SourceArn" = local.rule_arn_pattern } }
      },
      {
        # The dead-letter alarm (lambda.tf).
        Sid       = "DeadLetterAlarmPublishes"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.notifications.arn
        Condition = { ArnLike = { "aws:SourceArn" = "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${local.name}-*" } }
      },
      {
        Sid       = "NotifierPublishes"
        Effect    = "Allow"
        Principal = { AWS = aws_iam_role.lambda["notifier"].arn }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.notifications.arn
      },
    ]
  })
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.email_recipient)
  topic_arn = aws_sns_topic.notifications.arn
  protocol  = "email"
  endpoint  = each.value
}
