"""Row-level contract checks, driven by the contract's column metadata so every source gets
the same rules: one reason per rejected row (the first broken rule, in the order: malformed
line, file lacking a column, empty required field, unparseable value, value out of range),
and the raw text kept beside it. Deduplication on the key lives here too.

Parsing rules: blank text is null; integers are digits with an optional sign (a trailing
`.0` is tolerated, as JSON and spreadsheets write it); decimals may use an exponent and are
rounded half-up to their scale; timestamps are ISO-8601 (`T` or a space, seconds and zone
optional, no zone means UTC); dates are `YYYY-MM-DD` (a time part is ignored)."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from retailake_etl.contract import ColumnType, Reason, SourceContract

# Decimal precision per contract column (decimal(12,2) money unless named here).
DECIMAL_TYPES = {"discount_pct": "decimal(5,4)"}
MONEY = "decimal(12,2)"
_WIDE = "decimal(38,10)"
_INT = r"^[+-]?[0-9]{1,18}(\.0*)?$"  # 18 digits: the bigint cast cannot overflow
_DECIMAL = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_TIMESTAMP = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?)?"
    r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$"
)
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ].*)?$"
REJECT_META = ("source_file", "row_number", "ingest_date", "reason", "reason_detail", "raw_line")


@dataclass(frozen=True)
class Checked:
    """Rows that passed (typed, under the contract's names) and the rejects (raw text)."""

    valid: DataFrame
    rejects: DataFrame


def typed_name(name: str) -> str:
    return f"_typed_{name}"


def _text(name: str) -> Column:
    trimmed = F.trim(F.col(name))
    return F.when(trimmed != "", trimmed)


def _quote(value: Column) -> Column:
    return F.concat(F.lit("'"), value, F.lit("'"))


def check(raw: DataFrame, contract: SourceContract) -> Checked:
    """Type every column, pick each row's reason (null when valid), split the two."""
    missing: list[tuple[Column, Column]] = []
    unparsed: list[tuple[Column, str, Column]] = []
    out_of_range: list[tuple[Column, str, Column]] = []
    typed: dict[str, Column] = {}
    for column in contract.columns:
        text = _text(column.name)
        value: Column
        if column.required:
            missing.append((text.isNull(), F.lit(f"{column.name} is empty")))
        if column.type is ColumnType.INT:
            ok = text.rlike(_INT)
            value = F.when(ok, F.regexp_replace(text, r"\.0*$", "")).cast("bigint")
            value = F.when((value >= -(2**31)) & (value < 2**31), value.cast("int"))
            unparsed.append(
                (
                    text.isNotNull() & value.isNull(),
                    Reason.BAD_TYPE,
                    F.concat(F.lit(f"{column.name} is not an integer: "), _quote(text)),
                )
            )
        elif column.type is ColumnType.DECIMAL:
            wide = F.when(text.rlike(_DECIMAL), text).cast(_WIDE)
            value = wide.cast(DECIMAL_TYPES.get(column.name, MONEY))
            unparsed.append(
                (
                    text.isNotNull() & value.isNull(),
                    Reason.BAD_TYPE,
                    F.concat(F.lit(f"{column.name} is not a decimal number: "), _quote(text)),
                )
            )
        elif column.type is ColumnType.TIMESTAMP:
            value = _parse_timestamp(text)
            unparsed.append(
                (
                    text.isNotNull() & value.isNull(),
                    Reason.BAD_TIMESTAMP,
                    F.concat(F.lit(f"{column.name} is not an ISO-8601 timestamp: "), _quote(text)),
                )
            )
        elif column.type is ColumnType.DATE:
            value = F.when(text.rlike(_DATE), F.substring(text, 1, 10)).cast("date")
            unparsed.append(
                (
                    text.isNotNull() & value.isNull(),
                    Reason.BAD_TIMESTAMP,
                    F.concat(F.lit(f"{column.name} is not an ISO-8601 date: "), _quote(text)),
                )
            )
        else:
            value = F.lower(text) if column.allowed else text
        if column.default is not None:
            default = F.lit(column.default)
            if column.type is ColumnType.DECIMAL:
                default = default.cast(DECIMAL_TYPES.get(column.name, MONEY))
            elif column.type is ColumnType.INT:
                default = default.cast("int")
            value = F.when(text.isNull(), default).otherwise(value)
        typed[column.name] = value
        compare = (
            F.when(text.rlike(_DECIMAL), text).cast(_WIDE)
            if column.type
            in (
                ColumnType.INT,
                ColumnType.DECIMAL,
            )
            else None
        )
        if compare is not None and column.minimum is not None:
            out_of_range.append(
                (
                    compare < F.lit(column.minimum),
                    column.range_reason,
                    F.concat(F.lit(f"{column.name} below {column.minimum:g}: "), text),
                )
            )
        if compare is not None and column.maximum is not None:
            out_of_range.append(
                (
                    compare > F.lit(column.maximum),
                    column.range_reason,
                    F.concat(F.lit(f"{column.name} above {column.maximum:g}: "), text),
                )
            )
        if compare is not None and column.nonzero:
            out_of_range.append((compare == 0, Reason.ZERO_QUANTITY, F.lit(f"{column.name} is 0")))
        if column.allowed:
            out_of_range.append(
                (
                    text.isNotNull() & ~F.lower(text).isin(*column.allowed),
                    Reason.INVALID_VALUE,
                    F.concat(
                        F.lit(f"{column.name} not one of {', '.join(column.allowed)}: "),
                        _quote(text),
                    ),
                )
            )

    rules: list[tuple[Column, str, Column]] = [
        (F.col("_malformed_line").isNotNull(), Reason.MALFORMED_LINE, F.lit("line does not parse")),
        (F.col("_file_problem").isNotNull(), Reason.MISSING_REQUIRED, F.col("_file_problem")),
        *[(cond, Reason.MISSING_REQUIRED, detail) for cond, detail in missing],
        *unparsed,
        *out_of_range,
    ]
    reason = F.lit(None).cast("string")
    detail = F.lit(None).cast("string")
    for condition, code, text_detail in reversed(rules):
        reason = F.when(condition, F.lit(str(code))).otherwise(reason)
        detail = F.when(condition, text_detail).otherwise(detail)
    marked = raw.select(
        "*",
        *[value.alias(typed_name(name)) for name, value in typed.items()],
        reason.alias("reason"),
        detail.alias("reason_detail"),
    )
    valid = marked.where(F.col("reason").isNull()).select(
        *[F.col(typed_name(c.name)).alias(c.name) for c in contract.columns],
        "_source_file",
        "_row_number",
        "_ingest_date",
    )
    rejects = marked.where(F.col("reason").isNotNull()).select(
        *reject_columns(contract, [F.col(c.name) for c in contract.columns], raw_line=True)
    )
    return Checked(valid, rejects)


def reject_columns(
    contract: SourceContract, values: list[Column], *, raw_line: bool
) -> list[Column]:
    """The reject layout: where the row came from, why, then its raw text column by column."""
    return [
        F.col("_source_file").alias("source_file"),
        F.col("_row_number").alias("row_number"),
        F.col("_ingest_date").alias("ingest_date"),
        F.col("reason"),
        F.col("reason_detail"),
        (F.col("_malformed_line") if raw_line else F.lit(None).cast("string")).alias("raw_line"),
        *[v.cast("string").alias(c.name) for v, c in zip(values, contract.columns, strict=True)],
    ]


def _parse_timestamp(text: Column) -> Column:
    """ISO-8601 to a UTC instant whatever the session time zone: a missing zone becomes `Z`,
    `+hhmm` becomes `+hh:mm`, `HH:MM` gets `:00` (Spark's cast needs the seconds)."""
    shaped = F.when(text.rlike(_TIMESTAMP), F.regexp_replace(text, " ", "T"))
    shaped = F.regexp_replace(shaped, r"^([0-9-]{10})$", "$1T00:00:00")
    shaped = F.regexp_replace(shaped, r"(T[0-9]{2}:[0-9]{2})($|Z|[+-])", "$1:00$2")
    shaped = F.regexp_replace(shaped, r"([+-][0-9]{2})([0-9]{2})$", "$1:$2")
    shaped = F.regexp_replace(shaped, r"([+-][0-9]{2})$", "$1:00")
    zoned = F.when(shaped.rlike(r"(Z|[+-][0-9]{2}:[0-9]{2})$"), shaped).otherwise(
        F.concat(shaped, F.lit("Z"))
    )
    return zoned.cast("timestamp")


def deduplicate(valid: DataFrame, key: tuple[str, ...]) -> tuple[DataFrame, DataFrame]:
    """One row per key: the latest delivery wins (later `_ingest_date`, then later object key);
    within one file the first occurrence wins (a repeated line is the duplicate, as the
    sample manifest records it). Returns (kept rows, dropped copies with a `_kept_by` note)."""
    order = Window.partitionBy(*key).orderBy(
        F.col("_ingest_date").desc_nulls_last(),
        F.col("_source_file").desc_nulls_last(),
        F.col("_row_number").asc(),
    )
    ranked = valid.select(
        "*",
        F.row_number().over(order).alias("_rank"),
        F.first("_source_file").over(order).alias("_kept_file"),
        F.first("_row_number").over(order).alias("_kept_row"),
    )
    kept = ranked.where(F.col("_rank") == 1).drop("_rank", "_kept_file", "_kept_row")
    dropped = ranked.where(F.col("_rank") > 1).select(
        *[c for c in valid.columns],
        F.lit(str(Reason.DUPLICATE_KEY)).alias("reason"),
        F.concat(
            F.lit(f"key ({', '.join(key)}) also in "),
            F.col("_kept_file"),
            F.lit(" row "),
            F.col("_kept_row").cast("string"),
            F.lit(", which is kept"),
        ).alias("reason_detail"),
    )
    return kept, dropped
