"""The transform jobs: incremental by default, idempotent, kill-safe.

Ledger: `<staged_root>/_state/<source>/processed.json`, written last (and marked
`unfinished` before the first write), one entry per raw object key processed: its fingerprint
(S3 ETag, else size and mtime), ingest date, row count and the `YYYY-MM` partitions its valid
rows fall in.

A run reads the raw objects that are new and finds the partitions they touch; recomputes each
touched partition from *every* raw object that contributes to it (ledger) plus the new ones,
repeating until closed: the objects read touch no partition outside the set, and no key read
is already staged in a partition outside it (a key duplicated across months). Staged output is
therefore a pure function of raw: a rerun gives the same tables. A run with nothing new writes
nothing. `full_refresh` forgets the ledger and rebuilds every partition from raw (with nothing
left in raw, every partition and reject goes), and two things make a run one:
- an object removed or changed (its fingerprint differs) since it was processed: it may have
  held the winning copy of a key whose other copies lie in objects no run would read again;
- a run that stopped while writing (killed, or failed): its ledger still says `unfinished`,
  and its output is whatever that run left, in any partition.

Rejects go to `<staged_root>/_rejects/<source>/ingest_month=YYYY-MM/` (`unknown` when the
key names no ingest date), each row carrying its `source_file`, `row_number` and `ingest_date`.
A month folder holds many raw objects' rejects, so a run rewrites the months of the objects it
reads: their fresh rejects plus the rows already there from every other object. They too are a
pure function of raw. A folder per month, not per object: a day's object is a folder of a few
rows, and on S3 each folder written costs dozens of requests (about 40 per folder through S3A,
most of a job's time on the twin)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from retailake_etl import customers, inventory, sales, storage, tables, validate
from retailake_etl.arguments import (
    full_refresh_requested,
    workflow_run_properties,
)
from retailake_etl.catalog import Catalog, GlueCatalog
from retailake_etl.common import Cleaned
from retailake_etl.contract import CONTRACTS, Reason
from retailake_etl.metrics import RunCounts, report
from retailake_etl.read import RawFile, read_raw

PARTITION = ("year", "month")
REJECT_PARTITION = ("ingest_month",)
UNKNOWN_MONTH = "unknown"
MAX_ROUNDS = 20


@dataclass(frozen=True)
class Settings:
    """Everything a transform run needs, as plain values (the entry point builds it)."""

    source: str
    raw_root: str  # e.g. s3://<raw bucket>; objects under <raw_root>/<source>/
    staged_root: str  # e.g. s3://<staged bucket>
    catalog: Catalog = field(repr=False)  # the staged database: it names the tables' files
    full_refresh: bool = False
    hmac_key: bytes | None = field(default=None, repr=False)  # customers only; never printed


@dataclass(frozen=True)
class Table:
    name: str  # folder below the staged root; `_x`: the job's own, in no catalog
    select: Callable[[DataFrame], DataFrame]  # Cleaned.rows -> the table's rows
    plain: tuple[str, ...] = ()  # columns written without a dictionary (storage.write_parquet)


@dataclass(frozen=True)
class Spec:
    transform: Callable[[DataFrame, Settings], Cleaned]
    tables: tuple[Table, ...]
    probe: tuple[str, tuple[str, ...]] | None  # (table, key) when a key can change partition
    finish: Callable[[SparkSession, Settings], None] | None = None


@dataclass
class Entry:
    fingerprint: str
    ingest_date: str | None
    rows: int = 0
    partitions: list[str] = field(default_factory=list)


def _customers(raw: DataFrame, settings: Settings) -> Cleaned:
    if settings.hmac_key is None:
        raise ValueError("customers need the PII HMAC key")
    return customers.transform_customers(raw, settings.hmac_key)


def _rebuild_products(spark: SparkSession, settings: Settings) -> None:
    """Products history from all observations; only partitions whose rows changed are
    rewritten (a new version also closes the previous one, often in an older partition)."""
    observed = _read(spark, settings, OBSERVATIONS)
    current = _read(spark, settings, "products")
    if observed is None:  # no inventory object is left in raw: no history either
        if current is not None:
            gone = _partitions(spark, settings, "products")
            _replace(spark, settings, "products", current.where(F.lit(False)), gone)
        return
    fresh = inventory.product_history(observed).persist()
    if current is None:
        changed = {tuple(r) for r in fresh.select(*PARTITION).distinct().collect()}
    else:
        current = current.select(*inventory.PRODUCT_COLUMNS)
        difference = fresh.exceptAll(current).unionByName(current.exceptAll(fresh))
        changed = {tuple(r) for r in difference.select(*PARTITION).distinct().collect()}
    _replace(spark, settings, "products", fresh, changed)
    fresh.unpersist()


OBSERVATIONS = "_state/inventory/product_observations"
SPECS: dict[str, Spec] = {
    "sales": Spec(
        transform=lambda raw, _s: sales.transform_sales(raw),
        tables=(
            Table("sales", lambda rows: rows.select(*sales.COLUMNS), plain=sales.NEARLY_UNIQUE),
        ),
        probe=("sales", ("order_id", "line_number")),
    ),
    "inventory": Spec(
        transform=lambda raw, _s: inventory.transform_inventory(raw),
        tables=(
            Table("inventory_snapshots", inventory.snapshots),
            Table(OBSERVATIONS, inventory.observations),
        ),
        probe=None,  # the key holds snapshot_date, so a key never changes partition
        finish=_rebuild_products,
    ),
    "customers": Spec(
        transform=_customers,
        tables=(Table("customers", lambda rows: rows.select(*customers.COLUMNS)),),
        probe=("customers", ("customer_id",)),
    ),
}


def _uri(settings: Settings, table: str) -> str:
    return f"{settings.staged_root.rstrip('/')}/{table}"


def _own(table: str) -> bool:
    """A folder only the job reads (its state), not a table of the catalog."""
    return table.startswith("_")


def _read(spark: SparkSession, settings: Settings, table: str) -> DataFrame | None:
    if _own(table):
        return storage.read_table(spark, _uri(settings, table))
    return tables.read(spark, settings.catalog, table, _uri(settings, table))


def _partitions(spark: SparkSession, settings: Settings, table: str) -> set[tuple]:
    if _own(table):
        return storage.existing_partitions(spark, _uri(settings, table), PARTITION)
    return tables.partitions(settings.catalog, table)


def _replace(
    spark: SparkSession, settings: Settings, table: str, frame: DataFrame,
    partitions: set[tuple], plain: tuple[str, ...] = (),
) -> None:  # fmt: skip
    """Each of `partitions` of `table` made to hold `frame`'s rows for it: a new generation
    swapped in the catalog (`tables`), or rewritten in place in the job's own folders."""
    if _own(table):
        storage.replace_partitions(spark, frame, _uri(settings, table), PARTITION, partitions)
    else:
        tables.replace(spark, settings.catalog, table, _uri(settings, table), frame, PARTITION,
                       partitions, plain=plain)  # fmt: skip


def ledger_uri(settings: Settings) -> str:
    return _uri(settings, f"_state/{settings.source}/processed.json")


def load_ledger(spark: SparkSession, settings: Settings) -> dict[str, Entry] | None:
    """The objects processed, by key; None when the last run stopped while writing."""
    text = storage.read_text(spark, ledger_uri(settings))
    if not text:
        return {}
    document = json.loads(text)
    if document.get("unfinished"):
        return None
    return {key: Entry(**value) for key, value in document.get("files", {}).items()}


def save_ledger(
    spark: SparkSession, settings: Settings, ledger: dict[str, Entry], *, unfinished: bool = False
) -> None:
    document = {
        "version": 1,
        "source": settings.source,
        "files": {key: vars(ledger[key]) for key in sorted(ledger)},
        **({"unfinished": True} if unfinished else {}),
    }
    storage.write_text(spark, ledger_uri(settings), json.dumps(document, indent=1, sort_keys=True))


def _month(partition: tuple) -> str:
    return f"{partition[0]}-{partition[1]}"


def _as_partition(month: str) -> tuple[str, str]:
    year, number = month.split("-")
    return year, number


def _valid_rows(cleaned: Cleaned) -> dict[str, dict[str, int]]:
    """Per object, how many valid rows (duplicates included) fall in each YYYY-MM partition:
    the partitions an object touches, and with the rejects, how many rows it holds."""
    found: dict[str, dict[str, int]] = {}
    for row in cleaned.valid.groupBy("_source_file", *PARTITION).count().collect():
        found.setdefault(row["_source_file"], {})[f"{row['year']}-{row['month']}"] = row["count"]
    return found


def _probe(
    spark: SparkSession, settings: Settings, spec: Spec, cleaned: Cleaned, months: set[str]
) -> set[str]:
    """Partitions outside `months` that already hold a key among the rows read."""
    if spec.probe is None:
        return set()
    table, key = spec.probe
    staged = _read(spark, settings, table)
    if staged is None:
        return set()
    outside = staged.where(~F.concat_ws("-", *PARTITION).isin(sorted(months))).select(
        *key, *PARTITION
    )
    hits = outside.join(cleaned.valid.select(*key).distinct(), list(key), "left_semi")
    return {f"{r['year']}-{r['month']}" for r in hits.select(*PARTITION).distinct().collect()}


def run_transform(spark: SparkSession, settings: Settings) -> RunCounts:
    """One incremental (or full) run of a transform job; returns what it did."""
    started = time.monotonic()
    for key, value in validate.SESSION.items():
        spark.conf.set(key, value)
    # A CSV read scans its files twice (read._numbered_lines) and both scans must split them
    # alike. The split size follows the cores the cluster has, which change as Glue's
    # executors come and go: fixed here for the job's run.
    parallelism = spark.sparkContext.defaultParallelism
    spark.conf.set("spark.sql.files.minPartitionNum", str(parallelism))
    spec = SPECS[settings.source]
    contract = CONTRACTS[settings.source]
    listing = {f.key: f for f in storage.list_raw(spark, settings.raw_root, settings.source)}
    ledger = None if settings.full_refresh else load_ledger(spark, settings)
    if ledger is not None:
        processed = {key: entry.fingerprint for key, entry in ledger.items()}
        new = {k for k, f in listing.items() if processed.get(k) != f.fingerprint}
        if not new and ledger.keys() == listing.keys():
            return RunCounts(duration_seconds=round(time.monotonic() - started, 3))
        if new & ledger.keys() or ledger.keys() - listing.keys():
            ledger = None  # an object changed or went: rebuild (see the module docstring)
    months: set[str] = set()
    if ledger is None:
        settings, ledger, new = replace(settings, full_refresh=True), {}, set(listing)
        for table in spec.tables:
            months |= {_month(p) for p in _partitions(spark, settings, table.name)}
    keys: set[str] = set()
    pending = set(new)  # objects whose partitions are known only once read
    for _round in range(MAX_ROUNDS):
        keys |= pending
        files = [listing[k] for k in sorted(keys)]
        # Most of the source (a first or full run): list its folder once, not each file.
        most = 2 * len(files) > len(listing)
        folder = storage.source_folder(settings.raw_root, settings.source) if most else None
        cleaned = spec.transform(read_raw(spark, files, contract, folder), settings)
        cleaned.judged.persist()  # every later step reads it: raw is read and checked once
        per_file = _valid_rows(cleaned)
        months |= {m for found in per_file.values() for m in found}
        months |= _probe(spark, settings, spec, cleaned, months)
        # Close over the ledger: every object with rows in a recomputed partition is read,
        # and every partition such an object has rows in is recomputed.
        while True:
            more = {k for k, e in ledger.items() if months.intersection(e.partitions)}
            grown = months | {m for k in more - keys for m in ledger[k].partitions}
            if grown == months:
                break
            months = grown
        pending = more - keys
        if not pending:
            break
        cleaned.judged.unpersist()
    else:
        raise RuntimeError(f"partitions did not close after {MAX_ROUNDS} rounds")

    save_ledger(spark, settings, ledger, unfinished=True)  # before the first write
    counts = _write(spark, settings, spec, files, cleaned, months, per_file)
    for raw_file in files:
        ledger[raw_file.key] = Entry(
            fingerprint=raw_file.fingerprint,
            ingest_date=raw_file.ingest_date,
            rows=counts.pop_rows(raw_file.key),
            partitions=sorted(per_file.get(raw_file.key, {})),
        )
    save_ledger(spark, settings, ledger)
    cleaned.judged.unpersist()
    return RunCounts(
        rows_read=counts.read,
        rows_written=counts.written,
        rows_rejected=counts.rejected,
        duplicates_dropped=counts.duplicates,
        duration_seconds=round(time.monotonic() - started, 3),
        files_read=len(files),
        new_files=len(new),
        partitions_rewritten=len(months),
    )


@dataclass
class _Written:
    written: int
    rejected: int
    duplicates: int
    rows_by_file: dict[str, int]

    @property
    def read(self) -> int:
        """Every row read is a valid row or a contract reject, and each valid row is either
        written or a dropped duplicate copy. Not another count of the rows read: the tests
        compare this sum with the rows their inputs hold."""
        return self.written + self.rejected + self.duplicates

    def pop_rows(self, key: str) -> int:
        return self.rows_by_file.pop(key, 0)


def _write(
    spark: SparkSession,
    settings: Settings,
    spec: Spec,
    files: Sequence[RawFile],
    cleaned: Cleaned,
    months: set[str],
    valid_rows: dict[str, dict[str, int]],
) -> _Written:
    """Tables first, then rejects, then the products rebuild; the caller writes the ledger.

    The counts come from `valid_rows` and the rejects, not from another pass over the rows
    written (4 s of a 10M-line sales job): the kept rows are the valid ones less the dropped
    duplicate copies, and an object's rows are its valid rows plus its contract rejects."""
    partitions = {_as_partition(m) for m in months}
    # The rows and the duplicate copies both need the rows whose key repeats: found and ranked
    # once, before either is planned. Their hashes are counted first, so that Spark sees how
    # few they are and broadcasts them (were a whole delivery repeated, it would see how many
    # and join them by sort instead). `ranked` is cached only after that: its plan is made
    # when it is cached.
    cached = cleaned.dedupe_caches
    for frame in cached:
        frame.persist().count()
    rows = cleaned.rows
    for table in spec.tables:
        _replace(spark, settings, table.name, table.select(rows), partitions, table.plain)

    rejects = cleaned.rejects.withColumn("ingest_month", _ingest_month(F.col("ingest_date")))
    rejects = rejects.persist()
    touched = {_month_of(f.ingest_date) for f in files}
    reject_uri = _uri(settings, f"_rejects/{settings.source}")
    if settings.full_refresh:  # also drop the rejects of objects no longer in raw
        everything = storage.existing_partitions(spark, reject_uri, REJECT_PARTITION)
        touched |= {month for (month,) in everything}
        kept = None
    else:
        kept = _other_rejects(spark, reject_uri, rejects.schema, touched, {f.key for f in files})
        if kept is not None:
            kept = validate.repoint_duplicates(kept, rows, CONTRACTS[settings.source].key)
    storage.replace_partitions(
        spark, rejects if kept is None else rejects.unionByName(kept), reject_uri,
        REJECT_PARTITION, {(month,) for month in touched},
    )  # fmt: skip
    valid = {key: sum(by_month.values()) for key, by_month in valid_rows.items()}
    per_file = dict(valid)
    by_reason: dict[str, int] = {}
    duplicate = str(Reason.DUPLICATE_KEY)
    for r in rejects.groupBy("source_file", "reason").count().collect():
        by_reason[r["reason"]] = by_reason.get(r["reason"], 0) + r["count"]
        if r["reason"] != duplicate:  # a duplicate copy is already among the valid rows
            per_file[r["source_file"]] = per_file.get(r["source_file"], 0) + r["count"]
    rejects.unpersist()
    for frame in cached:
        frame.unpersist()
    if spec.finish:
        spec.finish(spark, settings)
    duplicates = by_reason.pop(duplicate, 0)
    rejected = sum(by_reason.values())
    return _Written(
        written=sum(valid.values()) - duplicates,
        rejected=rejected,
        duplicates=duplicates,
        rows_by_file=per_file,
    )


def _ingest_month(day: Column) -> Column:
    return F.coalesce(F.date_format(day, "yyyy-MM"), F.lit(UNKNOWN_MONTH))


def _month_of(day: str | None) -> str:
    return day[:7] if day else UNKNOWN_MONTH


def _other_rejects(
    spark: SparkSession, uri: str, schema: T.StructType, months: set[str], read: set[str]
) -> DataFrame | None:
    """The rejects already stored in `months` that came from objects not read this run: they
    stay. (A run that stopped while writing makes the next one a full refresh, which keeps none
    of them: so no partition here holds two generations of files.)"""
    if not storage.files_under(spark, uri):
        return None
    stored = spark.read.schema(schema).option("basePath", uri).parquet(uri)
    return stored.where(
        F.col("ingest_month").isin(sorted(months)) & ~F.col("source_file").isin(sorted(read))
    )


def settings_from_args(
    args: dict[str, str], argv: Sequence[str], run_properties: Mapping[str, str] | None = None
) -> Settings:
    """Glue job arguments -> Settings (the HMAC key is fetched separately)."""
    full = full_refresh_requested(argv, run_properties or {})
    return Settings(
        source=args["source"],
        raw_root=f"s3://{args['raw_bucket']}",
        staged_root=f"s3://{args['staged_bucket']}",
        catalog=GlueCatalog(args["staged_database"]),
        full_refresh=full,
    )


def fetch_hmac_key(secret_arn: str) -> bytes:
    """The PII key from Secrets Manager: the SecretString's UTF-8 bytes (or SecretBinary)."""
    import boto3

    secret = boto3.client("secretsmanager").get_secret_value(SecretId=secret_arn)
    if secret.get("SecretString"):
        return secret["SecretString"].encode("utf-8")
    return bytes(secret["SecretBinary"])


def run_glue_job(spark: SparkSession, args: dict[str, str], argv: Sequence[str]) -> RunCounts:
    """What a Glue entry point calls: settings, key, the run, then its report
    (`metrics.report`)."""
    settings = settings_from_args(args, argv, workflow_run_properties(argv))
    if settings.source == "customers":
        settings = replace(settings, hmac_key=fetch_hmac_key(args["pii_hmac_secret_arn"]))
    counts = run_transform(spark, settings)
    report(counts, args, argv)
    return counts
