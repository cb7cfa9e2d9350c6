data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition

  redshift_log_groups = {
    for log in var.redshift_audit_log_exports : "redshift_${log}" => "/aws/redshift/cluster/${var.redshift_cluster_identifier}/${log}"
  }
  glue_log_groups = merge([
    for job, prefix in var.glue_job_log_groups : {
      for stream in ["error", "output"] : "glue_${job}_${stream}" => "${prefix}/${stream}"
    }
  ]...)
  log_groups = merge(local.glue_log_groups, local.redshift_log_groups)

  custom_metrics = ["RowsRead", "RowsWritten", "RowsRejected", "DuplicatesDropped", "DurationSeconds"]
}

################################################################################
# Alarm topic
################################################################################

resource "aws_sns_topic" "this" {
  name              = "${var.name_prefix}-alerts"
  kms_master_key_id = var.kms_key_arn

  tags = var.tags
}

data "aws_iam_policy_document" "topic" {
  statement {
    sid       = "AccountOwnerManagesTopic"
    actions   = ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:Subscribe", "SNS:Publish", "SNS:ListSubscriptionsByTopic"]
    resources = [aws_sns_topic.this.arn]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "EventBridgePublishesGlueFailures"
    actions   = ["SNS:Publish"]
    resources = [aws_sns_topic.this.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [for rule in aws_cloudwatch_event_rule.this : rule.arn]
    }
  }

  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["SNS:Publish"]
    resources = [aws_sns_topic.this.arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "this" {
  arn    = aws_sns_topic.this.arn
  policy = data.aws_iam_policy_document.topic.json
}

resource "aws_sns_topic_subscription" "email" {
  count = var.alarm_email == null ? 0 : 1

  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

################################################################################
# Glue job runs FAILED / TIMEOUT and crawls Failed -> topic
################################################################################

locals {
  # Each rule matches one Glue event for this lake's jobs or crawlers, in EventBridge's words
  # (a job run's state is upper case, a crawl's is not).
  failure_rules = {
    job = {
      event  = "Glue Job State Change"
      field  = "jobName"
      names  = sort(values(var.glue_job_names))
      states = ["FAILED", "TIMEOUT"]
    }
    crawler = {
      event  = "Glue Crawler State Change"
      field  = "crawlerName"
      names  = sort(values(var.glue_crawler_names))
      states = ["Failed"]
    }
  }
}

resource "aws_cloudwatch_event_rule" "this" {
  for_each = local.failure_rules

  name        = "${var.name_prefix}-glue-${each.key}-failures"
  description = "Glue ${each.key} runs of ${var.name_prefix} that ended ${join(" or ", each.value.states)}"
  event_pattern = jsonencode({
    source        = ["aws.glue"]
    "detail-type" = [each.value.event]
    detail        = { (each.value.field) = each.value.names, state = each.value.states }
  })

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "this" {
  for_each = aws_cloudwatch_event_rule.this

  rule      = each.value.name
  target_id = "sns"
  arn       = aws_sns_topic.this.arn
}

moved {
  from = aws_cloudwatch_event_rule.this
  to   = aws_cloudwatch_event_rule.this["job"]
}

moved {
  from = aws_cloudwatch_event_target.this
  to   = aws_cloudwatch_event_target.this["job"]
}

################################################################################
# Log groups (retention, KMS): the Glue jobs' logs and Redshift audit logs
################################################################################

resource "aws_cloudwatch_log_group" "this" {
  for_each = local.log_groups

  name              = each.value
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

################################################################################
# Alarms
################################################################################

resource "aws_cloudwatch_metric_alarm" "rows_rejected" {
  for_each = var.glue_job_names

  alarm_name          = "${var.name_prefix}-${replace(each.key, "_", "-")}-rows-rejected"
  alarm_description   = "${each.value} rejected more than ${var.rows_rejected_threshold} rows in an hour; see staged/_rejects/."
  namespace           = var.metrics_namespace
  metric_name         = "RowsRejected"
  dimensions          = { JobName = each.value }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.rows_rejected_threshold
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [aws_sns_topic.this.arn]

  tags = var.tags
}

locals {
  redshift_alarms = {
    cpu = {
      metric      = "CPUUtilization"
      dimensions  = { ClusterIdentifier = var.redshift_cluster_identifier }
      threshold   = var.redshift_cpu_threshold
      periods     = 3
      description = "Redshift CPU above ${var.redshift_cpu_threshold}% for 15 minutes"
    }
    disk = {
      metric      = "PercentageDiskSpaceUsed"
      dimensions  = { ClusterIdentifier = var.redshift_cluster_identifier }
      threshold   = var.redshift_disk_threshold
      periods     = 1
      description = "Redshift disk use above ${var.redshift_disk_threshold}%"
    }
    query_duration = {
      metric      = "QueryDuration"
      dimensions  = { ClusterIdentifier = var.redshift_cluster_identifier, latency = "long" }
      threshold   = var.redshift_query_duration_threshold_seconds * 1000000 # the metric is in microseconds
      periods     = 3
      description = "Average long-query duration above ${var.redshift_query_duration_threshold_seconds} s for 15 minutes"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "redshift" {
  for_each = local.redshift_alarms

  alarm_name          = "${var.name_prefix}-redshift-${replace(each.key, "_", "-")}"
  alarm_description   = each.value.description
  namespace           = "AWS/Redshift"
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = "Average"
  period              = 300
  evaluation_periods  = each.value.periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  treat_missing_data  = "missing"
  actions_enabled     = true
  alarm_actions       = [aws_sns_topic.this.arn]
  ok_actions          = [aws_sns_topic.this.arn]

  tags = var.tags
}

################################################################################
# Dashboard
################################################################################

locals {
  job_names_sorted = sort(values(var.glue_job_names))

  dashboard_widgets = concat(
    [
      {
        type   = "metric"
        x      = 0
        y      = 0
        width  = 12
        height = 6
        properties = {
          title  = "Glue job runs: completed vs failed tasks"
          region = local.region
          stat   = "Sum"
          period = 3600
          view   = "timeSeries"
          metrics = concat(
            [for job in local.job_names_sorted : ["Glue", "glue.driver.aggregate.numCompletedTasks", "JobName", job, "JobRunId", "ALL", "Type", "count"]],
            [for job in local.job_names_sorted : ["Glue", "glue.driver.aggregate.numFailedTasks", "JobName", job, "JobRunId", "ALL", "Type", "count"]],
          )
        }
      },
    ],
    [
      for index, metric in local.custom_metrics : {
        type   = "metric"
        x      = 12 * ((index + 1) % 2)
        y      = 6 * floor((index + 1) / 2)
        width  = 12
        height = 6
        properties = {
          title   = "${metric} per job (${var.metrics_namespace})"
          region  = local.region
          stat    = metric == "DurationSeconds" ? "Maximum" : "Sum"
          period  = 3600
          view    = "timeSeries"
          metrics = [for job in local.job_names_sorted : [var.metrics_namespace, metric, "JobName", job]]
        }
      }
    ],
    [
      for index, metric in ["CPUUtilization", "PercentageDiskSpaceUsed", "DatabaseConnections"] : {
        type   = "metric"
        x      = 8 * index
        y      = 18
        width  = 8
        height = 6
        properties = {
          title   = "Redshift ${metric}"
          region  = local.region
          stat    = "Average"
          period  = 300
          view    = "timeSeries"
          metrics = [["AWS/Redshift", metric, "ClusterIdentifier", var.redshift_cluster_identifier]]
        }
      }
    ],
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = "${var.name_prefix}-lake"
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}

################################################################################
# CloudTrail: management events plus S3 data events on the lake buckets
################################################################################

resource "aws_cloudtrail" "this" {
  #checkov:skip=CKV_AWS_252:Log-file delivery notifications are not wanted on the alert topic; the trail is read from S3.
  #checkov:skip=CKV2_AWS_10:The trail is queried from the access-log bucket; streaming S3 data events to CloudWatch Logs would double their cost.
  name                          = var.trail_name
  s3_bucket_name                = var.trail_bucket_name
  s3_key_prefix                 = "cloudtrail"
  kms_key_id                    = var.kms_key_arn
  enable_log_file_validation    = true
  include_global_service_events = true
  is_multi_region_trail         = true

  event_selector {
    read_write_type           = "All"
    include_management_events = true

    data_resource {
      type   = "AWS::S3::Object"
      values = [for arn in var.data_event_bucket_arns : "${arn}/"]
    }
  }

  tags = var.tags
}
