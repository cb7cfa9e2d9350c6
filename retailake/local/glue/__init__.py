"""The local twin's Glue runtime: moto stores crawler, job, trigger and workflow definitions
but runs none of them, so this package does the work itself.

It reads the definitions Terraform registered back from the emulator (the same boto3 calls
work against AWS), orders the nodes the way the workflow's triggers do, emulates crawlers
against the emulator's S3 and Glue catalog, and runs each job's own script in one warm local
SparkSession whose S3A filesystem points at the emulator. Entry point: `runner.run_workflow`.
"""
