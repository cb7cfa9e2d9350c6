# The CLI adds endpoint_url (from RETAILAKE_LOCAL_PORT) through its own -var-file.
name_prefix = "retailake-local"
region      = "us-east-1"
tags = {
  Owner = "local-twin"
}
