"""GlueContext over the runner's warm SparkContext: `spark_session` and a logger."""

from __future__ import annotations

import logging
from typing import Any


class GlueContext:
    def __init__(self, spark_context: Any) -> None:
        from pyspark.sql import SparkSession

        self._sc = spark_context
        self.spark_session = SparkSession.builder.getOrCreate()

    @property
    def sparkSession(self) -> Any:
        return self.spark_session

    def get_logger(self) -> logging.Logger:
        return logging.getLogger("awsglue")
