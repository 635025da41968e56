# =====================================================================================================
# s3.tf: the data bucket. Managed here (var.manage_bucket, the default) with SSE-KMS, versioning, no
# public access, bucket-owner-enforced ownership and a TLS-only policy; otherwise an existing bucket is
# only looked up. Either way its "Object Created" events go to EventBridge (no CloudTrail needed).
# =====================================================================================================

# --- Storage -----------------------------------------------------------------------------------------

data "aws_s3_bucket" "this" {
  count  = var.manage_bucket ? 0 : 1
  bucket = var.bucket_name
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:Server access logs need a second bucket per environment; CloudTrail data events are the account-level choice
  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery decision per organisation, not a template default
  count  = var.manage_bucket ? 1 : 0
  bucket = var.bucket_name
}

resource "aws_s3_bucket_ownership_controls" "this" {
  count  = var.manage_bucket ? 1 : 0
  bucket = aws_s3_bucket.this[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  count                   = var.manage_bucket ? 1 : 0
  bucket                  = aws_s3_bucket.this[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  count  = var.manage_bucket ? 1 : 0
  bucket = aws_s3_bucket.this[0].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  count  = var.manage_bucket ? 1 : 0
  bucket = aws_s3_bucket.this[0].id

  rule {
    bucket_key_enabled = true

    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = local.kms_key_arn
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  count  = var.manage_bucket ? 1 : 0
  bucket = aws_s3_bucket.this[0].id

  rule {
    id     = "abort-incomplete-uploads-and-expire-old-versions"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }

    noncurrent_version_expiration {
      noncurrent_days = 90
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_policy" "this" {
  count  = var.manage_bucket ? 1 : 0
  bucket = aws_s3_bucket.this[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.this[0].arn, "${aws_s3_bucket.this[0].arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })

  depends_on = [aws_s3_bucket_public_access_block.this]
}

# "Object Created" events for the training-data and inference-data rules (events.tf).
resource "aws_s3_bucket_notification" "this" {
  bucket      = local.bucket_name
  eventbridge = true
}
