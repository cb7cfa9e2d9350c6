# Replace the network ids and CIDRs with your account's before the first deploy.
region      = "us-east-1"
name_prefix = "retailake-dev"
tags = {
  Owner = "data-platform"
}

vpc_id        = "vpc-0123456789abcdef0"
subnet_ids    = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
allowed_cidrs = ["10.0.0.0/16"]
alarm_email   = null

workflow_schedule      = null
glue_worker_type       = "G.1X"
glue_number_of_workers = 2

redshift_node_type       = "ra3.xlplus"
redshift_number_of_nodes = 1
