"""Glue job: one raw source (`--source sales|inventory|customers`) -> the staged layer.

A thin entry point shared by the three transform jobs: job arguments, the Glue job
lifecycle, one call into retailake_etl (shipped as a zip on --extra-py-files). customers
also takes `--pii_hmac_secret_arn`. The workflow run property `full_refresh=true` (or the
argument `--full_refresh true`) rebuilds every partition."""

import sys

from retailake_etl.jobs import run_glue_job

ARGUMENTS = [
    "JOB_NAME",
    "raw_bucket",
    "staged_bucket",
    "raw_database",
    "staged_database",
    "metrics_namespace",
    "source",
]

if __name__ == "__main__":
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    args = getResolvedOptions(sys.argv, ARGUMENTS)
    if args["source"] == "customers":
        args.update(getResolvedOptions(sys.argv, ["pii_hmac_secret_arn"]))
    glue = GlueContext(SparkContext.getOrCreate())
    job = Job(glue)
    job.init(args["JOB_NAME"], args)
    run_glue_job(glue.spark_session, args, sys.argv)
    job.commit()
