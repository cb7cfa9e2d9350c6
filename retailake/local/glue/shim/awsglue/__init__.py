"""A local stand-in for AWS Glue's `awsglue` package: just what a job's entry point uses.

The runner puts this folder's parent on sys.path for the duration of one job run only. The
real package (AWSGlueDataplanePython) cannot run on plain pyspark: its GlueContext needs the
Glue JVM classes."""
