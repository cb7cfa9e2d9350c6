"""What every source transform returns, and the partition columns all staged tables share."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from retailake_etl.validate import Checked, Deduplicated


@dataclass(frozen=True)
class Cleaned:
    """`valid`: every row that passed the contract, before deduplication (its partitions are
    what a raw file touches); `rows`: one row per key; `rejects`: contract rejects plus the
    dropped duplicate copies (DUPLICATE_KEY), in the reject layout. Two frames are read more
    than once, so a job caches them: `judged`, what all three are read from
    (validate.Checked.judged), then the `dedupe_caches`: `repeated`, the hashes of the keys
    found more than once, and `ranked`, the rows with such a hash (validate.Deduplicated),
    which `rows` and the duplicate copies both need."""

    valid: DataFrame
    rows: DataFrame
    rejects: DataFrame
    judged: DataFrame
    repeated: DataFrame
    ranked: DataFrame

    @classmethod
    def of(
        cls,
        checked: Checked,
        deduplicated: Deduplicated,
        *,
        valid: DataFrame,
        rows: DataFrame,
        rejects: DataFrame,
    ) -> Cleaned:
        """The three frames a transform shapes, with the ones its check and dedupe cache."""
        judged, repeated, ranked = checked.judged, deduplicated.repeated, deduplicated.ranked
        return cls(valid, rows, rejects, judged, repeated, ranked)

    @property
    def dedupe_caches(self) -> tuple[DataFrame, DataFrame]:
        """What a job caches after `judged`, before it writes, in this order."""
        return self.repeated, self.ranked


def year_month(day: Column) -> list[Column]:
    """`year=YYYY/month=MM` as zero-padded text, the layout the crawlers and Spectrum read.
    Built from the date's numbers: `date_format` took twice as long, and every pass a job
    makes over its checked rows works them out."""
    return [
        F.lpad(F.year(day).cast("string"), 4, "0").alias("year"),
        F.lpad(F.month(day).cast("string"), 2, "0").alias("month"),
    ]
