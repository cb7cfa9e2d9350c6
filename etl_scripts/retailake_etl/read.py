"""Raw objects of one source, in any of the contract's formats, as one DataFrame of text.

Every value stays a string here (typing is a row-level rule with its own reject reasons), and
every row carries where it came from: `_source_file` (the object key below the raw root),
`_row_number` (1-based data row within its file: the CSV row after the header, the JSON line,
the Parquet row, as the sample manifest counts them), `_ingest_date` (from the key's
`ingest_date=YYYY-MM-DD` folder) and `_uploaded_ms` (the object's last-modified time, which
orders the deliveries of one ingest date). Two markers feed the reject step instead of
dropping rows: `_malformed_line` holds the text of a CSV/JSON line that does not parse,
`_file_problem` names the required columns a file lacks (all of that file's rows are then
rejected with MISSING_REQUIRED, so the row counts still add up).

Lines are numbered from `_metadata` (file path, block start) and the scan order, not from a
parser, so numbering needs no single-task read of a file. A CSV field holding a quoted line
break is therefore not supported (it reads as two malformed lines)."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.window import WindowSpec

from retailake_etl.contract import FORMATS, SourceContract

_SCHEME = r"^([A-Za-z][A-Za-z0-9+.-]*):(/+)"
_GLOB = re.compile(r"([\\\[\]{}*?])")  # what Hadoop's glob pattern gives a meaning to
_LACKS = "file lacks required column(s)"
FROM_LISTING = ("_source_file", "_ingest_date", "_uploaded_ms")  # `_with_file_columns` adds them
META_COLUMNS = (
    "_source_file", "_row_number", "_ingest_date", "_uploaded_ms", "_malformed_line",
    "_file_problem",
)  # fmt: skip


def spellings(path: str) -> list[str]:
    """Every way one object's path may be spelled: Spark says `file:/x` where Hadoop's URI
    says `file:///x`. The rows keep Spark's `_metadata.file_path` as it is (`_path`) and are
    matched against all of a file's spellings: rewriting the path on every row instead (a
    regular expression) took 3 s of a 10M-line read."""
    match = re.match(_SCHEME, path)
    if match is None or match.group(2) == "//":  # no scheme, or an authority: s3://bucket/x
        return [path]
    scheme, rest = match.group(1), path[match.end() :]
    return [f"{scheme}:///{rest}", f"{scheme}:/{rest}"]


def _literal(uri: str) -> str:
    """`uri` for Spark's reader, which takes a path as a glob pattern: an object named
    `a[1].csv` would otherwise match `a1.csv`, or nothing."""
    return _GLOB.sub(r"\\\1", uri)


@dataclass(frozen=True)
class RawFile:
    """One raw object: `uri` to read it, `spark_path` as Spark's `_metadata.file_path` spells it
    (URL-encoded), `key` relative to the raw root, and the ingest date its folder names."""

    uri: str
    spark_path: str
    key: str
    ingest_date: str | None
    fingerprint: str = ""
    uploaded_ms: int = 0  # last modified, in ms since the epoch

    @property
    def format(self) -> str | None:
        name = self.key.rsplit("/", 1)[-1].lower()
        dot = name.rfind(".")
        return FORMATS.get(name[dot:]) if dot >= 0 else None


def read_raw(
    spark: SparkSession,
    files: Sequence[RawFile],
    contract: SourceContract,
    folder: str | None = None,
) -> DataFrame:
    """All rows of `files` with the contract's columns (lower-case names, strings; a column a
    file lacks is null) plus the META_COLUMNS; unknown columns are ignored.

    `folder`, when given, holds every one of `files` (and maybe others): the text formats are
    then read by listing it, one request per subfolder, instead of naming each file, which
    costs an existence check and a listing per file (about 4 s per 365 objects on the twin).
    Spark reads only `files` from it: it prunes the others by `_metadata.file_path`."""
    by_format: dict[str, list[RawFile]] = defaultdict(list)
    for raw_file in files:
        if raw_file.format:
            by_format[raw_file.format].append(raw_file)
    parts = []
    if by_format["csv"]:
        parts.append(_read_csv(spark, by_format["csv"], contract, folder))
    if by_format["jsonl"]:
        parts.append(_read_jsonl(spark, by_format["jsonl"], contract, folder))
    if by_format["parquet"]:
        parts.append(_read_parquet(spark, by_format["parquet"], contract))
    if not parts:
        return empty_raw(spark, contract)
    result = parts[0]
    for part in parts[1:]:
        result = result.unionByName(part)
    return _with_file_columns(spark, result, files, contract)


def raw_schema(contract: SourceContract) -> T.StructType:
    fields = [T.StructField(c.name, T.StringType()) for c in contract.columns]
    fields += [
        T.StructField("_source_file", T.StringType()),
        T.StructField("_row_number", T.LongType()),
        T.StructField("_ingest_date", T.DateType()),
        T.StructField("_uploaded_ms", T.LongType()),
        T.StructField("_malformed_line", T.StringType()),
        T.StructField("_file_problem", T.StringType()),
    ]
    return T.StructType(fields)


def empty_raw(spark: SparkSession, contract: SourceContract) -> DataFrame:
    return spark.createDataFrame([], raw_schema(contract))


def _with_file_columns(
    spark: SparkSession, rows: DataFrame, files: Sequence[RawFile], contract: SourceContract
) -> DataFrame:
    """Swap Spark's encoded file path for the object key, its ingest date and upload time (a
    broadcast join on a small table: a row per file and spelling of its path)."""
    keys = spark.createDataFrame(
        [(path, f.key, f.ingest_date, f.uploaded_ms) for f in files
         for path in spellings(f.spark_path)],
        "_path string, _source_file string, _ingest_text string, _uploaded_ms long",
    )  # fmt: skip
    return rows.join(F.broadcast(keys), "_path", "left").select(
        *[c.name for c in contract.columns],
        "_source_file",
        F.col("_row_number").cast("long").alias("_row_number"),
        F.to_date("_ingest_text").alias("_ingest_date"),
        "_uploaded_ms",
        "_malformed_line",
        "_file_problem",
    )


def _in_file_order() -> WindowSpec:
    return Window.partitionBy("_path").orderBy("_block", "_scan")


def _whole_file() -> WindowSpec:
    """The same partitioning and order, so Spark computes both windows in one sort."""
    return _in_file_order().rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)


def _lines(spark: SparkSession, files: Sequence[RawFile], folder: str | None) -> DataFrame:
    """Every physical line with its file (`_path`), the start of the file's block it was read
    in (`_block`) and its place in the scan (`_scan`): consecutive within a block."""
    if folder is None:
        text = spark.read.text([_literal(f.uri) for f in files])
    else:
        wanted = sorted({path for f in files for path in spellings(f.spark_path)})
        text = spark.read.option("recursiveFileLookup", "true").text(folder)
        text = text.where(F.col("_metadata.file_path").isin(wanted))
    return text.select(
        "value",
        F.col("_metadata.file_path").alias("_path"),
        F.col("_metadata.file_block_start").alias("_block"),
        F.monotonically_increasing_id().alias("_scan"),
    )


@dataclass(frozen=True)
class _Numbered:
    """A text scan's lines, each with its 1-based number within its file (`_line`), and each
    file's first line (a CSV header) by its `_path`."""

    lines: DataFrame
    first_lines: dict[str, str]


def _numbered_lines(spark: SparkSession, files: Sequence[RawFile], folder: str | None) -> _Numbered:
    """Lines are numbered without moving one: Spark reads a file block by block, a block's
    lines one after another in one task, where `_scan` counts them. A first, light pass over
    the same scan counts each block's lines and finds its first `_scan` and line; a line's
    number is then its `_scan` less its block's base (a broadcast join on a row per block).
    Numbering with a window over each file instead shuffled and sorted every line: a sixth of
    a 10M-line sales job. The first pass also gives each file's header, which was a request
    per file of its own."""
    lines = _lines(spark, files, folder)
    counted = (
        lines.groupBy("_path", "_block")
        .agg(
            F.count(F.lit(1)).alias("lines"),
            F.min("_scan").alias("first"),
            F.min_by("value", "_scan").alias("first_line"),
        )
        .collect()
    )
    blocks: dict[str, list[Any]] = defaultdict(list)
    for row in counted:
        blocks[row["_path"]].append(row)
    bases, first_lines = [], {}
    for path, found in blocks.items():
        in_order = sorted(found, key=lambda r: r["_block"])
        before = 0  # lines in the file's earlier blocks
        for row in in_order:
            last = row["first"] + row["lines"] - 1
            bases.append((path, row["_block"], row["first"], last, row["first"] - before - 1))
            before += row["lines"]
        first_lines[path] = in_order[0]["first_line"] or ""
    schema = "_path string, _block long, _first long, _last long, _base long"
    table = spark.createDataFrame(bases, schema)
    # Both passes must split the files alike (the job fixes what the split size follows, the
    # cluster's cores, see jobs.run_transform). Were a block missing or read elsewhere in the
    # scan, its lines would get wrong numbers, or none: the job fails instead.
    scan = F.col("_scan")
    line = F.when(scan.between(F.col("_first"), F.col("_last")), scan - F.col("_base"))
    moved = F.raise_error(F.lit("raw files were split otherwise when read than when their "
                                "lines were counted: rerun the job"))
    numbered = lines.join(F.broadcast(table), ["_path", "_block"], "left").select(
        "value", "_path", F.coalesce(line, moved).alias("_line")
    )
    return _Numbered(numbered, first_lines)


def _missing(names: Sequence[str], contract: SourceContract) -> str | None:
    lacking = [c for c in contract.required if c not in names]
    return f"{_LACKS}: {', '.join(lacking)}" if lacking else None


def _header_names(header: str) -> list[str]:
    cells = next(csv.reader([header.lstrip("\ufeff")]), [])
    names, seen = [], set()
    for index, cell in enumerate(cells):
        name = cell.strip().lower()
        # A repeated name keeps its first column; later ones get a throw-away name.
        names.append(name if name and name not in seen else f"_ignored_{index}")
        seen.add(name)
    return names


def _read_csv(
    spark: SparkSession, files: Sequence[RawFile], contract: SourceContract, folder: str | None
) -> DataFrame:
    """Each file by its own header (files may order columns differently), with `from_csv` in
    PERMISSIVE mode: a line with the wrong field count lands in the corrupt-record column.
    All files are read in one scan; with more than one header, a line is parsed by its
    file's."""
    numbered = _numbered_lines(spark, files, folder)
    groups: dict[str, list[str]] = defaultdict(list)
    for raw_file in files:
        paths = spellings(raw_file.spark_path)
        header = next((numbered.first_lines[p] for p in paths if p in numbered.first_lines), "")
        groups[header.rstrip("\r")].extend(paths)
    # RFC 4180 quoting, as `ingest` checks a file: a quote inside a quoted value is doubled
    # (Spark's default escape, a backslash, kept `""` and broke a value ending in `\`)
    options = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": "_corrupt", "escape": '"'}
    parsers, values, corrupt, problems = [], defaultdict(list), [], []
    for index, (header, paths) in enumerate(groups.items()):
        names = _header_names(header)
        # Fields named by position: a header cell may hold any text (spaces, dots, backticks),
        # which a schema string would have to quote.
        schema = ", ".join([*(f"_c{i} string" for i in range(len(names))), "_corrupt string"])
        parsed = F.from_csv("value", schema, options)
        mine = F.col("_path").isin(paths) if len(groups) > 1 else F.lit(True)
        parsers.append(F.when(mine, parsed).alias(f"_r{index}"))
        for position, name in enumerate(names):
            values[name].append(F.col(f"_r{index}._c{position}"))
        corrupt.append(F.col(f"_r{index}._corrupt"))
        problems.append(F.when(mine, F.lit(_missing(names, contract)).cast("string")))
    lines = numbered.lines.where((F.col("_line") > 1) & (F.trim("value") != ""))
    return lines.select("*", *parsers).select(
        *[_first_of(values[c.name]).alias(c.name) for c in contract.columns],
        "_path",
        (F.col("_line") - 1).alias("_row_number"),
        F.when(_first_of(corrupt).isNotNull(), F.col("value")).alias("_malformed_line"),
        _first_of(problems).alias("_file_problem"),
    )


def _first_of(columns: Sequence[Column]) -> Column:
    """The first non-null of `columns` as text (null when there are none)."""
    if not columns:
        return F.lit(None).cast("string")
    return columns[0] if len(columns) == 1 else F.coalesce(*columns)


def _read_jsonl(
    spark: SparkSession, files: Sequence[RawFile], contract: SourceContract, folder: str | None
) -> DataFrame:
    """Each line as a map of key to text (numbers keep their digits; see `_json_value` for how
    keys match columns); a line that is not a JSON object parses to null and is marked
    malformed. Which required keys a file lacks comes from the same window over the file that
    numbers its lines (parsing before it, so no second pass over the data and no second sort).
    The window's shuffle carries only what the rows need, the contract's values, not the map
    (every key beside its value) nor the line's text (kept for a malformed line only): without
    them the window's stage of a 10M-line inventory read took 10.4 s, not 14.5 s. (CSV numbers
    its lines in a light first pass instead, see `_numbered_lines`; here that pass would need
    every line's keys too, and `json_object_keys` made it cost 31 s at 3M lines.)"""
    as_map = F.from_json("value", "map<string, string>")
    parsed = (
        _lines(spark, files, folder)
        .withColumn("_m", as_map)
        .withColumn("_plain", _plain(F.col("_m"), [c.name for c in contract.columns]))
    )
    lines = parsed.select(
        *[_json_value(c.name).alias(c.name) for c in contract.columns],
        "_path",
        "_block",
        "_scan",
        *[_has_json_key(n).alias(f"_key_{n}") for n in contract.required],
        F.when(F.col("_m").isNull(), F.col("value")).alias("_malformed_line"),
        (F.trim("value") == "").alias("_blank"),
    ).select(
        "*",
        F.row_number().over(_in_file_order()).alias("_line"),
        *[
            F.max(f"_key_{name}").over(_whole_file()).alias(f"_has_{name}")
            for name in contract.required
        ],
    )
    lacking = [
        F.when(~F.coalesce(F.col(f"_has_{n}"), F.lit(False)), F.lit(n)) for n in contract.required
    ]
    lacked = F.concat_ws(", ", *lacking) if lacking else F.lit("")
    return lines.where(~F.col("_blank")).select(
        *[c.name for c in contract.columns],
        "_path",
        F.col("_line").cast("long").alias("_row_number"),
        "_malformed_line",
        F.when(lacked != "", F.concat(F.lit(f"{_LACKS}: "), lacked)).alias("_file_problem"),
    )


def _plain(keys_to_text: Column, names: Sequence[str]) -> Column:
    """Whether every key of a line is a column name spelled as the contract does, and none
    repeats: then a direct lookup finds a column's value (a map keeps a repeated key twice,
    and a lookup finds the first). Told by counting the names the map holds against its
    size, as any other key (another spelling of a column included) is one more than the
    names found. Testing each key's `lower(trim(...))` instead took 3 s of a 3M-line read."""
    found = sum((F.map_contains_key(keys_to_text, n).cast("int") for n in names), F.lit(0))
    return F.size(keys_to_text) == found


def _json_value(name: str) -> Column:
    """The text of the line's key `name`, matched ignoring case and surrounding spaces; of
    several keys matching it, the last counts (as a repeated key does in a JSON parser). Most
    lines spell every key as the contract does (`_plain`): a direct lookup for them, the
    case-blind search only for the rest. Lower-casing every line's keys into a new map
    instead made a 3M-line read take 28.9 s, not 18.9 s, and failed the job on keys that
    collide (`Brand`, `brand`)."""
    matching = F.filter(F.map_entries("_m"), lambda e: _column_key(e["key"]) == name)
    return F.when(F.col("_plain"), F.col("_m")[name]).otherwise(
        F.try_element_at(matching, F.lit(-1))["value"]
    )


def _has_json_key(name: str) -> Column:
    return F.when(F.col("_plain"), F.map_contains_key("_m", name)).otherwise(
        F.exists(F.map_keys("_m"), lambda k: _column_key(k) == name)
    )


def _column_key(key: Column) -> Column:
    """A JSON key as the contract's column names are spelled: trimmed, lower case."""
    return F.lower(F.trim(key))


def _read_parquet(
    spark: SparkSession, files: Sequence[RawFile], contract: SourceContract
) -> DataFrame:
    """Files grouped by schema (one read per distinct schema), every column cast to text."""
    groups: dict[tuple[tuple[str, str], ...], list[str]] = defaultdict(list)
    for raw_file in files:
        uri = _literal(raw_file.uri)
        try:
            schema = spark.read.parquet(uri).schema
        except Exception as error:  # Spark's words (a type it cannot read), and which object
            cause = _root_cause(error)
            if "parquet" not in cause.lower():  # not the file's fault: the store, say
                raise
            raise ValueError(
                f"raw object {raw_file.key} cannot be read as Parquet: {cause}; "
                "replace it (`retailake ingest --replace`)"
            ) from error
        groups[tuple((f.name, f.dataType.simpleString()) for f in schema.fields)].append(uri)
    parts = []
    for schema_key, uris in groups.items():
        actual: dict[str, str] = {}
        for name, _type in schema_key:
            actual.setdefault(name.strip().lower(), name)
        frame = spark.read.parquet(*uris)
        parts.append(
            frame.select(
                *[
                    (
                        F.col(f"`{actual[c.name]}`").cast("string")
                        if c.name in actual
                        else F.lit(None).cast("string")
                    ).alias(c.name)
                    for c in contract.columns
                ],
                F.col("_metadata.file_path").alias("_path"),
                (F.col("_metadata.row_index") + 1).cast("long").alias("_row_number"),
                F.lit(None).cast("string").alias("_malformed_line"),
                F.lit(_missing(list(actual), contract)).cast("string").alias("_file_problem"),
            )
        )
    return _union(parts, spark, contract)


def _root_cause(error: Exception) -> str:
    """The first line of the innermost Java cause of a Spark error (py4j's own message only
    says which call failed), else of the error itself."""
    cause = getattr(error, "java_exception", None) or getattr(error, "_origin", None)
    while cause is not None and cause.getCause() is not None:
        cause = cause.getCause()
    text = str(cause.getMessage() if cause is not None else error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _union(parts: list[DataFrame], spark: SparkSession, contract: SourceContract) -> DataFrame:
    if not parts:
        schema = T.StructType(
            [
                f
                for f in raw_schema(contract).fields
                if f.name not in FROM_LISTING
            ]
            + [T.StructField("_path", T.StringType())]
        )
        return spark.createDataFrame([], schema)
    result = parts[0]
    for part in parts[1:]:
        result = result.unionByName(part)
    return result
