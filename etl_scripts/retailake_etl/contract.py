"""The raw data contract as data: columns, types, rules and the reason codes a row breaking
them gets. Pure data with no third-party import, so the Glue zip and the CLI share one copy
(the CLI's `retailake.contract` adds the pyarrow file checks on top)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ColumnType(StrEnum):
    STRING = "string"
    INT = "int"
    DECIMAL = "decimal"
    TIMESTAMP = "timestamp"
    DATE = "date"


class Reason(StrEnum):
    """Why the pipeline rejects a row (written beside every row in staged/_rejects/)."""

    MISSING_REQUIRED = "MISSING_REQUIRED"  # a required field is empty
    BAD_TYPE = "BAD_TYPE"  # a number field holds text that is not a number
    NEGATIVE_PRICE = "NEGATIVE_PRICE"  # unit_price or unit_cost below 0
    NEGATIVE_QUANTITY = "NEGATIVE_QUANTITY"  # a stock quantity below 0
    ZERO_QUANTITY = "ZERO_QUANTITY"  # a sales quantity of 0
    DISCOUNT_OUT_OF_RANGE = "DISCOUNT_OUT_OF_RANGE"  # discount_pct outside 0..1
    BAD_TIMESTAMP = "BAD_TIMESTAMP"  # a timestamp or date that is not a valid ISO-8601 value
    INVALID_VALUE = "INVALID_VALUE"  # not allowed: a channel, line_number < 1, |quantity| > 1e6
    DUPLICATE_KEY = "DUPLICATE_KEY"  # the key was seen before; the earlier copy is kept
    MALFORMED_LINE = "MALFORMED_LINE"  # a CSV / JSON line that does not parse


@dataclass(frozen=True)
class Column:
    """One contract column; the bounds carry the reason code a row breaking them gets."""

    name: str
    type: ColumnType
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    range_reason: Reason = Reason.INVALID_VALUE
    nonzero: bool = False
    allowed: tuple[str, ...] | None = None
    default: str | None = None


@dataclass(frozen=True)
class SourceContract:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    date_column: str  # the column whose date names the file's ingest_date when seeding

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name.strip().lower())


S, INT, D, TS, DT = (
    ColumnType.STRING,
    ColumnType.INT,
    ColumnType.DECIMAL,
    ColumnType.TIMESTAMP,
    ColumnType.DATE,
)
CONTRACTS: dict[str, SourceContract] = {
    "sales": SourceContract(
        "sales",
        (
            Column("order_id", S, required=True),
            Column("line_number", INT, required=True, minimum=1),
            Column("order_ts", TS, required=True),
            Column("store_id", S, required=True),
            Column("channel", S, allowed=("store", "online", "mobile"), default="store"),
            Column("customer_id", S),
            Column("product_id", S, required=True),
            # A million units at most, either way, on one line: quantity x unit_price then fits
            # the staged amounts' decimal(18,2), which Spark would fill with null past it.
            Column(
                "quantity", INT, required=True, nonzero=True, minimum=-1_000_000, maximum=1_000_000
            ),
            Column("unit_price", D, required=True, minimum=0, range_reason=Reason.NEGATIVE_PRICE),
            Column(
                "discount_pct",
                D,
                minimum=0,
                maximum=1,
                range_reason=Reason.DISCOUNT_OUT_OF_RANGE,
                default="0",
            ),
            Column("currency", S, default="USD"),
        ),
        key=("order_id", "line_number"),
        date_column="order_ts",
    ),
    "inventory": SourceContract(
        "inventory",
        (
            Column("snapshot_date", DT, required=True),
            Column("store_id", S, required=True),
            Column("product_id", S, required=True),
            Column("product_name", S, required=True),
            Column("category", S, required=True),
            Column("brand", S),
            Column(
                "quantity_on_hand",
                INT,
                required=True,
                minimum=0,
                range_reason=Reason.NEGATIVE_QUANTITY,
            ),
            Column(
                "quantity_on_order",
                INT,
                minimum=0,
                range_reason=Reason.NEGATIVE_QUANTITY,
                default="0",
            ),
            Column("unit_cost", D, required=True, minimum=0, range_reason=Reason.NEGATIVE_PRICE),
            Column("reorder_point", INT, minimum=0, range_reason=Reason.NEGATIVE_QUANTITY),
        ),
        key=("snapshot_date", "store_id", "product_id"),
        date_column="snapshot_date",
    ),
    "customers": SourceContract(
        "customers",
        (
            Column("customer_id", S, required=True),
            *(Column(name, S) for name in ("first_name", "last_name", "email", "phone", "street")),
            *(Column(name, S) for name in ("city", "state", "postal_code", "country")),
            Column("birth_date", DT),
            Column("signup_date", DT),
            Column("loyalty_tier", S),
        ),
        key=("customer_id",),
        date_column="signup_date",
    ),
}
SOURCES = tuple(CONTRACTS)
# The file formats a raw object may have, by its name's extension (lower case): what `ingest`
# uploads and the transforms read.
FORMATS = {".csv": "csv", ".json": "jsonl", ".jsonl": "jsonl", ".parquet": "parquet"}


def contract_for(source: str) -> SourceContract:
    """The contract of one source; an unknown name is a usage error, so say which exist."""
    try:
        return CONTRACTS[source]
    except KeyError:
        raise ValueError(f"unknown source '{source}': choose one of {', '.join(SOURCES)}") from None


def skipped_name(name: str) -> bool:
    """Whether Spark's listing skips a file or folder of this name, as it does `.x`, and `_x`
    without a `=` (a partition folder such as `_x=1` is kept): read by folder, such an object
    is never seen."""
    return name.startswith(".") or (name.startswith("_") and "=" not in name)
