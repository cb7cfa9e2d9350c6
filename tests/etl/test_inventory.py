"""Inventory: every reject reason, the snapshot table, and product history versions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from retailake_etl.inventory import observations, product_history, snapshots, transform_inventory

from tests.etl.raw import collect, raw_rows


def snap(day: str, store: str, product: str, **changes: str | None) -> dict:
    row = {
        "snapshot_date": day, "store_id": store, "product_id": product, "product_name": "Mug",
        "category": "Kitchen", "brand": "Acme", "quantity_on_hand": "5",
        "quantity_on_order": "1", "unit_cost": "2.50", "reorder_point": "3",
    }  # fmt: skip
    return {**row, **changes}


def test_rejects_and_snapshots(spark):
    rows = [
        snap("2025-01-01", "s1", "p1"),
        snap("2025-01-01", "s1", "p2", product_name=None),
        snap("2025-01-01", "s1", "p3", quantity_on_hand="lots"),
        snap("2025-01-01", "s1", "p4", unit_cost="-0.01"),
        snap("2025-01-01", "s1", "p5", quantity_on_hand="-1"),
        snap("2025-02-30", "s1", "p6"),
        snap("2025-01-01", "s1", "p1", quantity_on_hand="9"),  # same key, same file: duplicate
        {"snapshot_date": "2025-01-01", "_malformed_line": "2025-01-01,s1,Mu"},
        snap("2025-01-31", "s2", "p1", quantity_on_order=None, reorder_point=None, brand=None),
        snap("2025-02-01", "s2", "p1", quantity_on_order="-2"),
        snap("2025-02-01", "s3", "p1", reorder_point="-1"),
    ]
    result = transform_inventory(raw_rows(spark, "inventory", rows))
    kept = "inventory/ingest_date=2025-01-10/f1.csv row 1"
    assert collect(result.rejects, "row_number", "reason", "reason_detail") == [
        (10, "NEGATIVE_QUANTITY", "quantity_on_order below 0: -2"),
        (11, "NEGATIVE_QUANTITY", "reorder_point below 0: -1"),
        (2, "MISSING_REQUIRED", "product_name is empty"),
        (3, "BAD_TYPE", "quantity_on_hand is not an integer: 'lots'"),
        (4, "NEGATIVE_PRICE", "unit_cost below 0: -0.01"),
        (5, "NEGATIVE_QUANTITY", "quantity_on_hand below 0: -1"),
        (6, "BAD_TIMESTAMP", "snapshot_date is not an ISO-8601 date: '2025-02-30'"),
        (7, "DUPLICATE_KEY",
         f"key (snapshot_date, store_id, product_id) also in {kept}, which is kept"),
        (8, "MALFORMED_LINE", "line does not parse"),
    ]  # fmt: skip
    # a reject keeps the row's values as delivered, beside the line of a malformed one
    assert collect(result.rejects.where("row_number in (3, 8)"), "row_number",
                   "quantity_on_hand", "unit_cost", "raw_line") == [
        (3, "lots", "2.50", None), (8, None, None, "2025-01-01,s1,Mu")]  # fmt: skip
    assert collect(snapshots(result.rows)) == [
        (dt.date(2025, 1, 1), "s1", "p1", 5, 1, D("2.50"), 3, "2025", "01"),
        (dt.date(2025, 1, 31), "s2", "p1", 5, 0, D("2.50"), None, "2025", "01"),
    ]


def test_dates_are_read_by_the_documented_rules(spark):
    """`YYYY-MM-DD`, maybe followed by a timestamp's time part, which is ignored (its zone
    too); anything else after the date, or a date that does not exist, is BAD_TIMESTAMP."""
    texts = {"2025-01-02": dt.date(2025, 1, 2), "2025-01-03T10:00:00Z": dt.date(2025, 1, 3),
             "2025-01-04 23:30": dt.date(2025, 1, 4),
             "2025-01-05T23:00:00-05:00": dt.date(2025, 1, 5),
             "2025-01-06 garbage": None, "2025-01-07T": None, "2025-01-08 10": None,
             "2025-1-9": None, "2025-02-30": None, "20250110": None}  # fmt: skip
    rows = [snap(text, "s1", f"p{i}") for i, text in enumerate(texts)]
    result = transform_inventory(raw_rows(spark, "inventory", rows))
    kept = {r["product_id"]: r["snapshot_date"] for r in snapshots(result.rows).collect()}
    rejected = {r["product_id"]: r["reason"] for r in result.rejects.collect()}
    for i, (text, day) in enumerate(texts.items()):
        if day is None:
            assert rejected.get(f"p{i}") == "BAD_TIMESTAMP", text
        else:
            assert kept.get(f"p{i}") == day and f"p{i}" not in rejected, text


def test_product_history_versions(spark):
    rows = [
        snap("2025-01-01", "s1", "p1"),
        snap("2025-01-02", "s1", "p1"),
        snap("2025-01-03", "s1", "p1", unit_cost="2.75"),  # cost change: version 2
        snap("2025-01-03", "s2", "p1", unit_cost="2.60", _row_number=1),  # earlier row loses
        snap("2025-02-10", "s1", "p1", unit_cost="2.75", category="Home"),  # version 3
        snap("2025-02-11", "s1", "p1", unit_cost="2.50"),  # back to the first: version 4
        snap("2025-01-05", "s1", "p2", brand=None, product_name="Bowl"),
        snap("2025-01-06", "s1", "p2", brand="Acme", product_name="Bowl"),  # brand appears
    ]
    for number, row in enumerate(rows, start=1):
        row.setdefault("_row_number", number + 10)
    cleaned = transform_inventory(raw_rows(spark, "inventory", rows))
    history = product_history(observations(cleaned.rows))
    assert collect(history) == [
        ("p1", "Mug", "Home", "Acme", D("2.75"), dt.date(2025, 2, 10), dt.date(2025, 2, 11),
         False, "2025", "02"),
        ("p1", "Mug", "Kitchen", "Acme", D("2.50"), dt.date(2025, 1, 1), dt.date(2025, 1, 3),
         False, "2025", "01"),
        ("p1", "Mug", "Kitchen", "Acme", D("2.50"), dt.date(2025, 2, 11), None, True, "2025",
         "02"),
        ("p1", "Mug", "Kitchen", "Acme", D("2.75"), dt.date(2025, 1, 3), dt.date(2025, 2, 10),
         False, "2025", "01"),
        ("p2", "Bowl", "Kitchen", "Acme", D("2.50"), dt.date(2025, 1, 6), None, True, "2025",
         "01"),
        ("p2", "Bowl", "Kitchen", None, D("2.50"), dt.date(2025, 1, 5), dt.date(2025, 1, 6),
         False, "2025", "01"),
    ]  # fmt: skip
