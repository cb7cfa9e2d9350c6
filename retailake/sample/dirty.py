"""Dirty rows: every kind of row the contract rejects, injected at chosen positions of the
clean tables, and recorded so a test can check that the pipeline rejects exactly those.

Each dirty row breaks exactly one rule. Dirty rows sit only at odd rows within a file, so
the row before each one is clean: a duplicate copies that row (the copy is the injected one,
identical to the original, so whichever the pipeline keeps the data is the same)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retailake.contract import Reason
from retailake.sample.arrays import as_text, concat, decimal, flat, ints, pick, text


@dataclass(frozen=True)
class DirtyKind:
    name: str
    reason: Reason
    columns: tuple[str, ...] = ()  # the column it breaks, one per injected row, in turn


_BAD_NUMBERS = {
    "quantity": ("two", "1O", "n/a", "3 pcs"),
    "quantity_on_hand": ("lots", "n/a", "12 units", "-"),
    "unit_price": ("12,99", "N/A", "$4.50", "free"),
    "unit_cost": ("3,10", "tbd", "$2.25", "?"),
}
_BAD_TIMESTAMPS = ("2025-02-30T10:15:00", "2025-13-01T09:00:00", "31/12/2025 14:00", "yesterday")
_BAD_DATES = ("2025-02-30", "2025-13-01", "31/12/1985", "unknown")
_DISCOUNTS_ABOVE_ONE_BP = (11000, 15000, 25000)

KINDS: dict[str, tuple[DirtyKind, ...]] = {
    "sales": (
        DirtyKind(
            "missing_required", Reason.MISSING_REQUIRED,
            ("product_id", "store_id", "order_ts", "quantity", "unit_price"),
        ),
        DirtyKind("bad_type", Reason.BAD_TYPE, ("quantity", "unit_price")),
        DirtyKind("negative_price", Reason.NEGATIVE_PRICE, ("unit_price",)),
        DirtyKind("zero_quantity", Reason.ZERO_QUANTITY, ("quantity",)),
        DirtyKind("discount_above_one", Reason.DISCOUNT_OUT_OF_RANGE, ("discount_pct",)),
        DirtyKind("bad_timestamp", Reason.BAD_TIMESTAMP, ("order_ts",)),
        DirtyKind("duplicate_key", Reason.DUPLICATE_KEY),
        DirtyKind("malformed_line", Reason.MALFORMED_LINE),
    ),
    "inventory": (
        DirtyKind(
            "missing_required", Reason.MISSING_REQUIRED,
            ("product_name", "category", "quantity_on_hand", "unit_cost"),
        ),
        DirtyKind("bad_type", Reason.BAD_TYPE, ("quantity_on_hand", "unit_cost")),
        DirtyKind("negative_price", Reason.NEGATIVE_PRICE, ("unit_cost",)),
        DirtyKind("negative_quantity", Reason.NEGATIVE_QUANTITY, ("quantity_on_hand",)),
        DirtyKind("bad_timestamp", Reason.BAD_TIMESTAMP, ("snapshot_date",)),
        DirtyKind("duplicate_key", Reason.DUPLICATE_KEY),
        DirtyKind("malformed_line", Reason.MALFORMED_LINE),
    ),
    "customers": (
        DirtyKind("missing_required", Reason.MISSING_REQUIRED, ("customer_id",)),
        DirtyKind("bad_timestamp", Reason.BAD_TIMESTAMP, ("birth_date", "signup_date")),
        DirtyKind("duplicate_key", Reason.DUPLICATE_KEY),
        DirtyKind("malformed_line", Reason.MALFORMED_LINE),
    ),
}


@dataclass(frozen=True)
class Injection:
    """Where the dirt went: global row positions (sorted), kind and column of each."""

    source: str
    kinds: tuple[DirtyKind, ...]
    positions: np.ndarray
    kind: np.ndarray  # index into kinds
    column: np.ndarray  # column name, "" when the kind has none

    def of(self, name: str) -> np.ndarray:
        """Mask over positions of the rows of one kind."""
        names = np.array([k.name for k in self.kinds])
        return names[self.kind] == name if len(self.kind) else np.zeros(0, bool)


def plan(
    rng: np.random.Generator,
    source: str,
    file_starts: np.ndarray,
    rows: int,
    rate: float,
    fmt: str,
) -> Injection:
    """Choose round(rate x rows) positions among odd rows of each file and deal the kinds out
    evenly, so every kind appears once there are as many dirty rows as kinds."""
    kinds = tuple(k for k in KINDS[source] if fmt != "parquet" or k.name != "malformed_line")
    row_in_file = np.arange(rows) - np.repeat(file_starts, np.diff(np.append(file_starts, rows)))
    candidates = np.flatnonzero(row_in_file % 2 == 1)
    count = min(round(rate * rows), len(candidates))
    positions = np.sort(rng.choice(candidates, count, replace=False))
    kind = rng.permutation(np.arange(count) % len(kinds))
    column = np.full(count, "", dtype=object)
    for index, k in enumerate(kinds):
        chosen = np.flatnonzero(kind == index)
        if k.columns:
            turn = np.arange(len(chosen)) % len(k.columns)
            column[chosen] = np.array(k.columns, dtype=object)[turn]
    return Injection(source, kinds, positions, kind, column.astype(str))


def apply(rng: np.random.Generator, table: pa.Table, injection: Injection) -> pa.Table:
    """The table with every planned dirty value in place (malformed lines are the writer's).

    One row index for the whole table (a duplicate reads the row before it), then per column
    one `take` over the column followed by its replacement values. Columns that get no
    replacement values share the index; with no duplicates they are left as they are."""
    rows = table.num_rows
    duplicates = injection.positions[injection.of("duplicate_key")]
    index = np.arange(rows)
    index[duplicates] = duplicates - 1
    targets: dict[str, list[tuple[DirtyKind, np.ndarray]]] = {}
    for number, kind in enumerate(injection.kinds):
        for name in kind.columns:
            mask = (injection.kind == number) & (injection.column == name)
            if mask.any():
                targets.setdefault(name, []).append((kind, injection.positions[mask]))
    shared = ints(index)
    columns = {}
    for name in table.column_names:
        column = flat(table[name])
        if name not in targets:
            columns[name] = column.take(shared) if len(duplicates) else column
            continue
        pieces, column_index, extra = [column], index.copy(), rows
        for kind, at in targets[name]:
            column_index[at] = extra + np.arange(len(at))
            extra += len(at)
            pieces.append(_values(rng, kind.reason, column, name, at))
        if any(pa.types.is_string(piece.type) for piece in pieces[1:]):
            pieces = [as_text(piece) for piece in pieces]  # text in a number column
        columns[name] = pa.concat_arrays(pieces).take(ints(column_index))
    return pa.table(columns)


def malformed_lines(table: pa.Table, at: np.ndarray, fmt: str) -> pa.Array:
    """Truncated lines, as an export cut off mid-write leaves them: the first fields of the
    row, the third cut short. Never a quote in CSV, so no other line is swallowed."""
    names = table.column_names[:3]
    values = [
        pc.fill_null(as_text(flat(table[name]).take(ints(at))), text("")) for name in names
    ]
    if fmt == "csv":
        return concat(values[0], ",", values[1], ",", pc.utf8_slice_codeunits(values[2], 0, 4))
    return concat(
        '{"', names[0], '": "', values[0], '", "', names[1], '": "', values[1], '", "', names[2],
        '": "', pc.utf8_slice_codeunits(values[2], 0, 4),
    )


def _values(
    rng: np.random.Generator, reason: Reason, column: pa.Array, name: str, at: np.ndarray
) -> pa.Array:
    """The dirty values for rows `at` of a column: its own type, or text where text is the dirt."""
    n = len(at)
    if reason is Reason.MISSING_REQUIRED:
        return pa.nulls(n, column.type)
    if reason is Reason.BAD_TYPE:
        return pick(_BAD_NUMBERS[name], rng.integers(0, 4, n))
    if reason is Reason.BAD_TIMESTAMP:
        choices = _BAD_TIMESTAMPS if name == "order_ts" else _BAD_DATES
        return pick(choices, rng.integers(0, len(choices), n))
    if reason is Reason.NEGATIVE_PRICE:
        return pc.negate(column.take(ints(at)))
    if reason is Reason.NEGATIVE_QUANTITY:
        return ints(-rng.integers(1, 20, n)).cast(column.type)
    if reason is Reason.ZERO_QUANTITY:
        return ints(np.zeros(n, np.int64)).cast(column.type)
    if reason is Reason.DISCOUNT_OUT_OF_RANGE:
        bp = np.array(_DISCOUNTS_ABOVE_ONE_BP)[rng.integers(0, 3, n)]
        return decimal(bp, column.type.precision, column.type.scale)
    raise ValueError(f"no way to inject {reason}")
