# Replace the network ids, CIDRs and e-mail with your account's before the first deploy.
region      = "us-east-1"
name_prefix = "retailake-prod"
tags = {
  Owner = "data-platform"
}

vpc_id        = "vpc-0fedcba9876543210"
subnet_ids    = ["subnet-0fedcba9876543210", "subnet-0fedcba9876543211"]
allowed_cidrs = ["10.0.0.0/16"]
alarm_email   = "data-alerts@example.com"

workflow_schedule      = "cron(0 3 * * ? *)"
glue_worker_type       = "G.2X"
glue_number_of_workers = 10

redshift_node_type       = "ra3.4xlarge"
redshift_number_of_nodes = 2
