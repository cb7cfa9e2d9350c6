"""Sales transform: every reject reason, derived amounts (half-up cents), UTC dates and the
dedupe order, each against hand-written expected rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any

import pytest
from retailake_etl.sales import transform_sales

from tests.etl.raw import collect, raw_rows

GOOD = {
    "order_id": "o1", "line_number": "1", "order_ts": "2025-01-05T10:00:00", "store_id": "s1",
    "channel": "store", "customer_id": "c1", "product_id": "p1", "quantity": "2",
    "unit_price": "10.00", "discount_pct": "0", "currency": "USD",
}  # fmt: skip


def line(order_id: str, **changes: str | None) -> dict:
    return {**GOOD, "order_id": order_id, **changes}


def test_every_reject_reason(spark):
    rows = [
        line("ok"),
        line("r2", product_id=None),
        line("r3", quantity="two"),
        line("r4", unit_price="-1.00"),
        line("r5", quantity="0"),
        line("r6", discount_pct="1.5"),
        line("r7", order_ts="2025-02-30T10:00:00"),
        line("r8", channel="kiosk"),
        line("r9", line_number="0"),
        line("ok"),  # row 10: same key as row 1 in the same file -> the repeat is the duplicate
        {"order_id": "o", "line_number": "1", "_malformed_line": "o,1,20"},
        line("r12", unit_price="$4.50"),
        line("r13", store_id="  "),
        line("r14", quantity="3000000000"),  # an integer, past an int's range
        line("r15", unit_price="12345678901.5"),  # past decimal(12,2)
        line("r16", discount_pct="-0.1"),
        line("b1", discount_pct="1"),  # the bounds are allowed: a free line
        line("b0", unit_price="0"),
        line("r19", quantity="1000001"),  # its amount at the top price would not fit
        line("r20", quantity="-1000001"),
        line("b2", quantity="-1000000", unit_price="9999999999.99"),  # the largest amount
    ]
    result = transform_sales(raw_rows(spark, "sales", rows))
    assert collect(result.rejects, "row_number", "reason") == sorted(
        [
            (2, "MISSING_REQUIRED"), (3, "BAD_TYPE"), (4, "NEGATIVE_PRICE"), (5, "ZERO_QUANTITY"),
            (6, "DISCOUNT_OUT_OF_RANGE"), (7, "BAD_TIMESTAMP"), (8, "INVALID_VALUE"),
            (9, "INVALID_VALUE"), (10, "DUPLICATE_KEY"), (11, "MALFORMED_LINE"), (12, "BAD_TYPE"),
            (13, "MISSING_REQUIRED"), (14, "BAD_TYPE"), (15, "BAD_TYPE"),
            (16, "DISCOUNT_OUT_OF_RANGE"), (19, "INVALID_VALUE"), (20, "INVALID_VALUE"),
        ],
        key=lambda r: (False, str(r[0]), False, r[1]),
    )  # fmt: skip
    details = {r["row_number"]: r for r in result.rejects.collect()}
    assert details[2]["reason_detail"] == "product_id is empty"
    assert details[3]["reason_detail"] == "quantity is not an integer: 'two'"
    assert details[3]["quantity"] == "two"  # the raw text is kept
    assert details[14]["reason_detail"] == "quantity is out of range for int: '3000000000'"
    assert details[15]["reason_detail"] == (
        "unit_price is out of range for decimal(12,2): '12345678901.5'")
    assert details[6]["reason_detail"] == "discount_pct above 1: 1.5"
    assert details[16]["reason_detail"] == "discount_pct below 0: -0.1"
    assert details[8]["reason_detail"] == "channel not one of store, online, mobile: 'kiosk'"
    assert details[10]["reason_detail"] == (
        "key (order_id, line_number) also in sales/ingest_date=2025-01-10/f1.csv row 1, "
        "which is kept"
    )
    assert details[11]["raw_line"] == "o,1,20"
    assert details[19]["reason_detail"] == "quantity above 1000000: 1000001"
    assert details[20]["reason_detail"] == "quantity below -1000000: -1000001"
    assert collect(result.rows, "order_id", "_row_number") == [
        ("b0", 18), ("b1", 17), ("b2", 21), ("ok", 1)]  # fmt: skip
    largest = result.rows.where("order_id = 'b2'").first()
    assert largest["gross_amount"] == D("-9999999999990000.00")


def test_derived_amounts_round_half_up(spark):
    rows = [
        line("a", quantity="1", unit_price="1.00", discount_pct="0.005"),  # 0.005 -> 0.01
        line("b", quantity="1", unit_price="0.10", discount_pct="0.05"),  # 0.005 -> 0.01
        line("c", quantity="3", unit_price="0.35", discount_pct="0.1"),  # 0.105 -> 0.11
        line("d", quantity="-1", unit_price="1.00", discount_pct="0.005"),  # -0.005 -> -0.01
        line("e", quantity="1", unit_price="0.10", discount_pct="0.04"),  # 0.004 -> 0.00
        line("f", quantity="7", unit_price="19.99", discount_pct=None, currency=None, channel=None),
        line("g", quantity="+2", unit_price="1E1", discount_pct="0.25", channel="Online"),
    ]
    result = transform_sales(raw_rows(spark, "sales", rows))
    got = collect(
        result.rows, "order_id", "quantity", "unit_price", "discount_pct", "gross_amount",
        "discount_amount", "net_amount", "is_return", "channel", "currency",
    )  # fmt: skip
    assert got == [
        ("a", 1, D("1.00"), D("0.0050"), D("1.00"), D("0.01"), D("0.99"), False, "store", "USD"),
        ("b", 1, D("0.10"), D("0.0500"), D("0.10"), D("0.01"), D("0.09"), False, "store", "USD"),
        ("c", 3, D("0.35"), D("0.1000"), D("1.05"), D("0.11"), D("0.94"), False, "store", "USD"),
        ("d", -1, D("1.00"), D("0.0050"), D("-1.00"), D("-0.01"), D("-0.99"), True, "store", "USD"),
        ("e", 1, D("0.10"), D("0.0400"), D("0.10"), D("0.00"), D("0.10"), False, "store", "USD"),
        ("f", 7, D("19.99"), D("0.0000"), D("139.93"), D("0.00"), D("139.93"), False, "store",
         "USD"),
        ("g", 2, D("10.00"), D("0.2500"), D("20.00"), D("5.00"), D("15.00"), False, "online",
         "USD"),
    ]  # fmt: skip
    assert result.rejects.count() == 0


def test_numbers_are_read_by_the_documented_rules(spark):
    """Integers: ASCII digits, a sign, a fraction of zeros; decimals: ASCII digits, a sign, a
    point, an exponent; a tab around either is ignored. Anything else is BAD_TYPE."""
    quantities = {"+3": 3, "007": 7, "4.0": 4, "5.": 5, "\t6": 6, "\t8.0\t": 8, "-0": None,
                  "2.5": None, "1e3": None, "\u0663": None, "0x1F": None, "12345678901": None,
                  "1 2": None}  # fmt: skip
    prices = {"1e1": D("10.00"), ".5": D("0.50"), "5.": D("5.00"), "+2.25": D("2.25"),
              "1.5\x0b": D("1.50"),
              "1.004999999995": D("1.00"),  # rounded once, half-up: not to 1.005, then 1.01
              "-1E-2": None, "\u0663": None, "\uff13": None,
              "1,5": None, "NaN": None, "Infinity": None, "1.5d": None, "1e": None}  # fmt: skip
    rows = [line(f"q{i}", quantity=text) for i, text in enumerate(quantities)]
    rows += [line(f"p{i}", unit_price=text) for i, text in enumerate(prices)]
    result = transform_sales(raw_rows(spark, "sales", rows))
    kept = {r["order_id"]: r for r in result.rows.collect()}
    rejected = {r["order_id"]: r["reason"] for r in result.rejects.collect()}
    for prefix, texts, column in (("q", quantities, "quantity"), ("p", prices, "unit_price")):
        for i, (text, value) in enumerate(texts.items()):
            order = f"{prefix}{i}"
            if value is None:
                # -0 is an integer (0), refused as a zero quantity; -0.01 as a negative price
                expected = {"-0": "ZERO_QUANTITY", "-1E-2": "NEGATIVE_PRICE"}.get(text, "BAD_TYPE")
                assert rejected.get(order) == expected, (column, text)
            else:
                assert order not in rejected and kept[order][column] == value, (column, text)


def test_timestamps_are_utc(spark):
    rows = [
        line("z", order_ts="2025-01-31T23:30:00"),  # no zone: UTC, stays in January
        line("ny", order_ts="2025-01-31T20:30:00-05:00"),  # 01:30 UTC on Feb 1
        line("tk", order_ts="2025-02-01T08:00:00+0900"),  # 23:00 UTC on Jan 31
        line("sp", order_ts="2025-03-01 00:00"),
        line("zz", order_ts="2025-03-02T12:00:00.250Z"),
        line("dt", order_ts="2025-03-03"),
        line("mz", order_ts="2025-03-04T10:15+02"),  # minutes, then a zone: 08:15 UTC
        line("mu", order_ts="2025-03-05 23:45Z"),
    ]
    result = transform_sales(raw_rows(spark, "sales", rows))
    assert collect(result.rows, "order_id", "order_ts", "order_date", "year", "month") == [
        ("dt", dt.datetime(2025, 3, 3, 0, 0), dt.date(2025, 3, 3), "2025", "03"),
        ("mu", dt.datetime(2025, 3, 5, 23, 45), dt.date(2025, 3, 5), "2025", "03"),
        ("mz", dt.datetime(2025, 3, 4, 8, 15), dt.date(2025, 3, 4), "2025", "03"),
        ("ny", dt.datetime(2025, 2, 1, 1, 30), dt.date(2025, 2, 1), "2025", "02"),
        ("sp", dt.datetime(2025, 3, 1, 0, 0), dt.date(2025, 3, 1), "2025", "03"),
        ("tk", dt.datetime(2025, 1, 31, 23, 0), dt.date(2025, 1, 31), "2025", "01"),
        ("z", dt.datetime(2025, 1, 31, 23, 30), dt.date(2025, 1, 31), "2025", "01"),
        ("zz", dt.datetime(2025, 3, 2, 12, 0, 0, 250000), dt.date(2025, 3, 2), "2025", "03"),
    ]


@pytest.mark.parametrize(
    ("setting", "value", "words"),
    [
        # a timestamp without a zone would be read in New York's
        ("spark.sql.session.timeZone", "America/New_York", "America/New_York"),
        # `quantity="two"` would fail the whole job instead of being rejected
        ("spark.sql.ansi.enabled", "true", "ansi"),
    ],
)
def test_the_check_refuses_a_session_that_would_misread_text(spark, setting, value, words):
    raw = raw_rows(spark, "sales", [line("z", quantity="two")])
    before = spark.conf.get(setting)
    spark.conf.set(setting, value)
    try:
        with pytest.raises(ValueError, match=words):
            transform_sales(raw)
    finally:
        spark.conf.set(setting, before)


def test_dedupe_later_delivery_wins_and_first_copy_within_a_file(spark):
    early = raw_rows(
        spark, "sales",
        [line("k", quantity="1"), line("k", quantity="2")],
        file="a.csv", ingest="2025-01-10",
    )  # fmt: skip
    late = raw_rows(spark, "sales", [line("k", quantity="3")], file="a.csv", ingest="2025-01-11")
    same_day_later_name = raw_rows(
        spark, "sales", [line("m", quantity="4")], file="b.csv", ingest="2025-01-10"
    )
    same_day_earlier_name = raw_rows(
        spark, "sales", [line("m", quantity="5")], file="a.csv", ingest="2025-01-10"
    )
    raw = early.union(late).union(same_day_later_name).union(same_day_earlier_name)
    result = transform_sales(raw)
    assert collect(result.rows, "order_id", "quantity", "_source_file") == [
        ("k", 3, "sales/ingest_date=2025-01-11/a.csv"),
        ("m", 4, "sales/ingest_date=2025-01-10/b.csv"),
    ]
    assert collect(
        result.rejects, "order_id", "quantity", "source_file", "row_number", "reason"
    ) == [
        ("k", "1", "sales/ingest_date=2025-01-10/a.csv", 1, "DUPLICATE_KEY"),
        ("k", "2", "sales/ingest_date=2025-01-10/a.csv", 2, "DUPLICATE_KEY"),
        ("m", "5", "sales/ingest_date=2025-01-10/a.csv", 1, "DUPLICATE_KEY"),
    ]


def _rows_shuffled(frame: Any) -> int:
    """Collect `frame`, then add up the rows its executed plan wrote to shuffles (the py4j
    plan walked through adaptive query stages)."""
    frame.collect()
    total, plans = 0, [frame._jdf.queryExecution().executedPlan()]
    while plans:
        plan = plans.pop()
        name = plan.nodeName()
        if name.startswith("AdaptiveSparkPlan"):
            plans.append(plan.executedPlan())
            continue
        if "QueryStage" in name:
            plans.append(plan.plan())
        metric = plan.metrics().get("shuffleRecordsWritten")
        if metric.isDefined():
            total += metric.get().value()
        children = plan.children()
        plans.extend(children.apply(i) for i in range(children.size()))
    return total


def test_with_its_two_frames_cached_only_rows_whose_key_repeats_are_ranked(spark):
    """A job caches `judged`, `repeated` and `ranked` before writing, as here. `ranked` holds
    only the two rows of the repeated key, not every row; the rows and the rejects (duplicate
    copies included) are then read from the caches without another shuffle."""
    rows = [line("ok"), line("ok"), line("bad", quantity="x"), line("other"), line("more")]
    result = transform_sales(raw_rows(spark, "sales", rows))
    cached = [result.judged, *result.dedupe_caches]
    for frame in cached:
        frame.persist().count()
    try:
        assert collect(result.ranked, "order_id", "_row_number") == [("ok", 1), ("ok", 2)]
        assert _rows_shuffled(result.rows) == 0
        assert _rows_shuffled(result.rejects) == 0
        assert collect(result.rows, "order_id", "_row_number") == [
            ("more", 5), ("ok", 1), ("other", 4),
        ]  # fmt: skip
        assert collect(result.rejects, "row_number", "reason") == [
            (2, "DUPLICATE_KEY"), (3, "BAD_TYPE"),
        ]  # fmt: skip
    finally:
        for frame in cached:
            frame.unpersist()
