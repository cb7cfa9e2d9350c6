"""Glue job: staged layer -> the five analytics tables. A thin entry point: job arguments, the
Glue job lifecycle, one call into retailake_etl (shipped as a zip on --extra-py-files).
Incremental by default (only the months whose staged partitions changed); the workflow run
property `full_refresh=true` (or the argument `--full_refresh true`) rebuilds every table."""

import sys

from retailake_etl.analytics_job import run_glue_job

ARGUMENTS = [
    "JOB_NAME",
    "staged_bucket",
    "analytics_bucket",
    "staged_database",
    "analytics_database",
    "metrics_namespace",
]

if __name__ == "__main__":
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    args = getResolvedOptions(sys.argv, ARGUMENTS)
    glue = GlueContext(SparkContext.getOrCreate())
    job = Job(glue)
    job.init(args["JOB_NAME"], args)
    run_glue_job(glue.spark_session, args, sys.argv)
    job.commit()
