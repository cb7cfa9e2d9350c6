output "sns_topic_arn" {
  description = "ARN of the alert topic (alarms and Glue job failures)."
  value       = aws_sns_topic.this.arn
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "log_group_names" {
  description = "Log group names by key: glue, redshift_<log>."
  value       = { for key, group in aws_cloudwatch_log_group.this : key => group.name }
}

output "alarm_names" {
  description = "Alarm names: rows_rejected_<job key> and redshift_<cpu|disk|query_duration>."
  value = merge(
    { for key, alarm in aws_cloudwatch_metric_alarm.rows_rejected : "rows_rejected_${key}" => alarm.alarm_name },
    { for key, alarm in aws_cloudwatch_metric_alarm.redshift : "redshift_${key}" => alarm.alarm_name },
  )
}

output "trail_arn" {
  description = "ARN of the CloudTrail trail."
  value       = aws_cloudtrail.this.arn
}
