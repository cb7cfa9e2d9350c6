"""ETL test fixtures: one local Spark session for the whole run (a cold start costs ~10 s),
tuned for 2 cores, in UTC so timestamps mean the same on every machine."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The Glue jobs ship `retailake_etl` as a zip on --extra-py-files; tests import it from source.
ETL_SCRIPTS = Path(__file__).resolve().parents[2] / "etl_scripts"
if str(ETL_SCRIPTS) not in sys.path:
    sys.path.insert(0, str(ETL_SCRIPTS))

from pyspark.sql import SparkSession  # noqa: E402


@pytest.fixture(scope="session")
def spark(tmp_path_factory) -> Iterator[SparkSession]:
    """The local Glue runner's own Spark settings (S3A jars on the driver's class path
    included): a JVM's class path is fixed at launch, so a session started here without them
    would leave any later in-process runner, sharing this JVM, unable to reach S3."""
    from retailake.local.glue.spark import compile_twin_classes, find_s3a_jars, spark_conf
    from retailake.local.root_keys import RootKeys

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    jars = find_s3a_jars()
    classes = compile_twin_classes(jars, tmp_path_factory.mktemp("spark-cache"))
    builder = SparkSession.builder
    unused = RootKeys("AKIAUNUSED0000000000", "unused")  # a runner sharing the JVM sets its own
    for key, value in spark_conf("http://127.0.0.1:9", "us-east-1", unused, jars,
                                 classes).items():  # fmt: skip
        builder = builder.config(key, value)  # the endpoint is never reached: tests use file://
    session = (
        builder.appName("retailake-etl-tests")
        .config("spark.default.parallelism", "4")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.executor.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.sql.sources.partitionOverwriteMode", "static")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
