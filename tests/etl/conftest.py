"""ETL test fixtures: one local Spark session for the whole run (a cold start costs ~10 s),
tuned for 2 cores, in UTC so timestamps mean the same on every machine; and a Glue catalog
(moto's, in process) for the tables the jobs write."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

# The Glue jobs ship `retailake_etl` as a zip on --extra-py-files; tests import it from source.
ETL_SCRIPTS = Path(__file__).resolve().parents[2] / "etl_scripts"
if str(ETL_SCRIPTS) not in sys.path:
    sys.path.insert(0, str(ETL_SCRIPTS))

from pyspark.sql import SparkSession  # noqa: E402
from retailake_etl.catalog import GlueCatalog  # noqa: E402


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


@pytest.fixture
def glue() -> Iterator[Any]:
    """moto's Glue, in this process: the catalog the jobs name their tables' files in."""
    with mock_aws():
        yield boto3.client("glue", region_name="us-east-1")


@pytest.fixture
def new_catalog(glue: Any) -> Callable[[], GlueCatalog]:
    """A maker of empty catalog databases (one per staged or analytics root of a test)."""
    numbers = itertools.count()

    def make() -> GlueCatalog:
        name = f"layer{next(numbers)}"
        glue.create_database(DatabaseInput={"Name": name})
        return GlueCatalog(name, glue)

    return make


@pytest.fixture
def catalog(new_catalog: Callable[[], GlueCatalog]) -> GlueCatalog:
    return new_catalog()
