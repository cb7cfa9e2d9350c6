"""An independent reference for the analytics tables: plain Python over lists of dicts, written
from DESIGN.md "Derived fields and KPIs" and the definitions documented in
`retailake_etl.analytics` (it never imports that module). Loops over rows, no Spark."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

Row = dict[str, Any]  # a table row: its values' types vary by column
CENT = Decimal("0.01")
# Each table's key: one output row per key value.
KEYS = {
    "daily_store_sales": ("order_date", "store_id", "channel"),
    "product_performance_monthly": ("year", "month", "product_id"),
    "customer_segments": ("customer_id",),
    "inventory_health_daily": ("snapshot_date", "store_id", "category"),
    "kpi_summary_monthly": ("year", "month"),
}


def ratio(numerator: Decimal | int | None, denominator: Decimal | int | None) -> float | None:
    """Exact quotient rounded half-up to 4 decimals, as a float; None on a 0 or None divisor."""
    if denominator is None or numerator is None or Decimal(denominator) == 0:
        return None
    with localcontext() as ctx:
        ctx.prec = 60
        quotient = Decimal(numerator) / Decimal(denominator)
        return float(quotient.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def money_per(amount: Decimal, count: int) -> Decimal | None:
    if count == 0:
        return None
    with localcontext() as ctx:
        ctx.prec = 60
        return (amount / count).quantize(CENT, rounding=ROUND_HALF_UP)


def month_of(day: dt.date) -> tuple[int, int]:
    return day.year, day.month


def month_end(year: int, month: int) -> dt.date:
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def category_on(products: list[Row], product_id: str, day: dt.date) -> str | None:
    """The version with the latest valid_from on or before `day`, else the earliest one."""
    versions = sorted((p for p in products if p["product_id"] == product_id),
                      key=lambda p: p["valid_from"])
    if not versions:
        return None
    chosen = versions[0]
    for version in versions:
        if version["valid_from"] <= day:
            chosen = version
    return chosen["category"]


def daily_store_sales(sales: list[Row]) -> list[Row]:
    groups: dict[tuple, list[Row]] = defaultdict(list)
    for line in sales:
        groups[(line["order_date"], line["store_id"], line["channel"])].append(line)
    out = []
    for (day, store, channel), lines in groups.items():
        orders = len({line["order_id"] for line in lines})
        net = sum((line["net_amount"] for line in lines), Decimal(0))
        out.append({
            "order_date": day, "store_id": store, "channel": channel,
            "orders": orders, "lines": len(lines),
            "units": sum(line["quantity"] for line in lines if line["quantity"] > 0),
            "returned_units": -sum(line["quantity"] for line in lines if line["quantity"] < 0),
            "gross_amount": sum((line["gross_amount"] for line in lines), Decimal(0)),
            "discount_amount": sum((line["discount_amount"] for line in lines), Decimal(0)),
            "net_amount": net,
            "avg_order_value": money_per(net, orders),
            "year": day.year, "month": day.month,
        })
    return out


def unit_cost(snapshots: list[Row], product_id: str, until: dt.date) -> Decimal | None:
    """Cost at the product's latest snapshot on or before `until`; lowest store_id on a tie."""
    rows = [s for s in snapshots if s["product_id"] == product_id and s["snapshot_date"] <= until]
    if not rows:
        return None
    latest = max(s["snapshot_date"] for s in rows)
    return min((s for s in rows if s["snapshot_date"] == latest),
               key=lambda s: s["store_id"])["unit_cost"]


def ending_on_hand(snapshots: list[Row], product_id: str, year: int, month: int) -> int | None:
    """Per store its last snapshot of the product in the month, summed; None without any."""
    last: dict[str, Row] = {}
    for s in snapshots:
        if s["product_id"] != product_id or month_of(s["snapshot_date"]) != (year, month):
            continue
        seen = last.get(s["store_id"])
        if seen is None or s["snapshot_date"] > seen["snapshot_date"]:
            last[s["store_id"]] = s
    return sum(s["quantity_on_hand"] for s in last.values()) if last else None


def product_performance_monthly(
    sales: list[Row], snapshots: list[Row], products: list[Row]
) -> list[Row]:
    keys = {(*month_of(line["order_date"]), line["product_id"]) for line in sales}
    keys |= {(*month_of(s["snapshot_date"]), s["product_id"]) for s in snapshots}
    out = []
    for year, month, product in keys:
        lines = [line for line in sales
                 if line["product_id"] == product and month_of(line["order_date"]) == (year, month)]
        units = sum(line["quantity"] for line in lines)
        revenue = sum((line["net_amount"] for line in lines), Decimal(0))
        cost = unit_cost(snapshots, product, month_end(year, month))
        cogs = None if cost is None else units * cost
        margin = None if cogs is None else revenue - cogs
        ending = ending_on_hand(snapshots, product, year, month)
        out.append({
            "year": year, "month": month, "product_id": product,
            "category": category_on(products, product, month_end(year, month)),
            "units_sold": units,
            "returned_units": -sum(line["quantity"] for line in lines if line["quantity"] < 0),
            "net_revenue": revenue, "unit_cost": cost, "cogs": cogs, "gross_margin": margin,
            "gross_margin_pct": ratio(margin, revenue),
            "ending_on_hand": ending,
            # null when returns outnumber sales: no share of the stock was sold
            "sell_through_rate": None if ending is None or units < 0
            else ratio(units, units + ending),
        })
    return out


def _score(values: dict[str, Any], customer: str, better_is_higher: bool) -> int:
    """1 + floor(5 * (customers with a strictly worse value) / customers)."""
    mine = values[customer]
    worse = sum(1 for v in values.values() if (v < mine if better_is_higher else v > mine))
    return 1 + (5 * worse) // len(values)


def rfm_segment(r: int, f: int, m: int) -> str:
    if r >= 4:
        if f >= 4:
            return "Champions" if m >= 4 else "Loyal"
        return "Potential Loyalist" if f >= 2 else "New"
    if r == 3:
        return "Loyal" if f >= 4 else "Need Attention"
    return "At Risk" if f >= 3 or m >= 4 else "Hibernating"


def customer_segments(sales: list[Row], customers: list[Row]) -> list[Row]:
    as_of = max(line["order_date"] for line in sales)
    lines_of: dict[Any, list[Row]] = defaultdict(list)
    for line in sales:
        if line["customer_id"] is not None:
            lines_of[line["customer_id"]].append(line)
    last = {c: max(line["order_date"] for line in lines) for c, lines in lines_of.items()}
    recency = {c: (as_of - last[c]).days for c in lines_of}
    frequency = {c: len({line["order_id"] for line in lines}) for c, lines in lines_of.items()}
    monetary = {c: sum((line["net_amount"] for line in lines), Decimal(0))
                for c, lines in lines_of.items()}
    attributes = {c["customer_id"]: c for c in customers}
    out = []
    for c in lines_of:
        r = _score(recency, c, better_is_higher=False)
        f = _score(frequency, c, better_is_higher=True)
        m = _score(monetary, c, better_is_higher=True)
        who = attributes.get(c, {})
        out.append({
            "customer_id": c, "as_of_date": as_of, "last_order_date": last[c],
            "recency_days": recency[c], "frequency": frequency[c], "monetary": monetary[c],
            "r_score": r, "f_score": f, "m_score": m, "rfm_segment": rfm_segment(r, f, m),
            "age_band": who.get("age_band"), "state": who.get("state"),
        })
    return out


def inventory_health_daily(
    snapshots: list[Row], sales: list[Row], products: list[Row]
) -> list[Row]:
    groups: dict[tuple, list[Row]] = defaultdict(list)
    for s in snapshots:
        category = category_on(products, s["product_id"], s["snapshot_date"])
        groups[(s["snapshot_date"], s["store_id"], category)].append(s)
    sold_on: dict[tuple, int] = defaultdict(int)  # (store, product, day) -> units sold
    for line in sales:
        if line["quantity"] > 0:
            sold_on[(line["store_id"], line["product_id"], line["order_date"])] += line["quantity"]
    out = []
    for (day, store, category), skus in groups.items():
        window = [day - dt.timedelta(days=back) for back in range(28)]
        sold = sum(sold_on.get((store, product, d), 0)
                   for product in {s["product_id"] for s in skus} for d in window)
        on_hand = sum(s["quantity_on_hand"] for s in skus)
        stockouts = sum(1 for s in skus if s["quantity_on_hand"] == 0)
        out.append({
            "snapshot_date": day, "store_id": store, "category": category,
            "skus": len(skus), "stockout_skus": stockouts,
            "stockout_rate": ratio(stockouts, len(skus)),
            "below_reorder_skus": sum(
                1 for s in skus
                if s["reorder_point"] is not None and s["quantity_on_hand"] < s["reorder_point"]
            ),
            "on_hand": on_hand,
            "inventory_value": sum((s["quantity_on_hand"] * s["unit_cost"] for s in skus),
                                   Decimal(0)),
            "units_sold_28d": sold,
            # on_hand / (sold / 28) == on_hand * 28 / sold, exactly
            "days_of_supply": ratio(on_hand * 28, sold),
            "year": day.year, "month": day.month,
        })
    return out


def kpi_summary_monthly(
    sales: list[Row], snapshots: list[Row], products: list[Row]
) -> list[Row]:
    months = {month_of(line["order_date"]) for line in sales}
    months |= {month_of(s["snapshot_date"]) for s in snapshots}
    performance = product_performance_monthly(sales, snapshots, products)
    health = inventory_health_daily(snapshots, sales, products)
    out = []
    for year, month in months:
        lines = [line for line in sales if month_of(line["order_date"]) == (year, month)]
        revenue = sum((line["net_amount"] for line in lines), Decimal(0))
        orders = len({line["order_id"] for line in lines})
        units = sum(line["quantity"] for line in lines if line["quantity"] > 0)
        returned = -sum(line["quantity"] for line in lines if line["quantity"] < 0)
        # margins over the products with a known cost only (none: unknown)
        costed = [p for p in performance
                  if (p["year"], p["month"]) == (year, month) and p["cogs"] is not None]
        cogs = sum((p["cogs"] for p in costed), Decimal(0)) if costed else None
        margin = sum((p["gross_margin"] for p in costed), Decimal(0)) if costed else None
        costed_revenue = sum((p["net_revenue"] for p in costed), Decimal(0))
        orders_of: dict[str, set] = defaultdict(set)
        for line in lines:
            if line["customer_id"] is not None:
                orders_of[line["customer_id"]].add(line["order_id"])
        repeat = sum(1 for placed in orders_of.values() if len(placed) > 1)
        days = [h for h in health if (h["year"], h["month"]) == (year, month)]
        out.append({
            "year": year, "month": month, "revenue": revenue, "orders": orders,
            "avg_order_value": money_per(revenue, orders),
            "units": units, "units_per_transaction": ratio(units, orders),
            "cogs": cogs, "gross_margin": margin,
            "gross_margin_pct": ratio(margin, costed_revenue),
            "customers": len(orders_of), "repeat_customers": repeat,
            "repeat_customer_rate": ratio(repeat, len(orders_of)),
            "returned_units": returned, "return_rate": ratio(returned, units),
            "stockout_rate": ratio(sum(h["stockout_skus"] for h in days),
                                   sum(h["skus"] for h in days)) if days else None,
        })
    return out


def _sort_key(row: Row, keys: tuple[str, ...]) -> tuple:
    return tuple((row[k] is None, row[k] if row[k] is not None else "") for k in keys)


def assert_same_rows(table: str, got: list[Row], want: list[Row]) -> None:
    """The same key values and, row by row, the same columns: decimals, dates and integers
    exact, doubles within 1e-9."""
    keys = KEYS[table]
    got = sorted(got, key=lambda r: _sort_key(r, keys))
    want = sorted(want, key=lambda r: _sort_key(r, keys))
    assert [_sort_key(r, keys) for r in got] == [_sort_key(r, keys) for r in want], table
    for mine, theirs in zip(got, want, strict=True):
        assert set(mine) == set(theirs), (table, set(mine) ^ set(theirs))
        for column, value in theirs.items():
            found = mine[column]
            where = (table, [mine[k] for k in keys], column, found, value)
            if isinstance(value, float):
                assert isinstance(found, float), where
                assert math.isclose(found, value, rel_tol=0, abs_tol=1e-9), where
            else:
                assert found == value, where
                assert type(found) is type(value) or {type(found), type(value)} <= {int}, where
