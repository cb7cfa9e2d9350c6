"""Customers: keyed hashes (checked against Python's hmac), address normalization, bands,
segment, updates by later deliveries, and no clear-text PII anywhere in the output."""

from __future__ import annotations

import hashlib
import hmac

from retailake_etl.customers import transform_customers

from tests.etl.raw import collect, raw_rows

KEY = b"test-key-0123456789abcdef"


def mac(text: str) -> str:
    return hmac.new(KEY, text.encode(), hashlib.sha256).hexdigest()


def person(customer_id: str, **changes: str | None) -> dict:
    row = {
        "customer_id": customer_id, "first_name": "Ada", "last_name": "Lovelace",
        "email": " Ada.Lovelace@Example.COM ", "phone": "(415) 555-0134",
        "street": "12 Analytical Engine Rd", "city": "  san francisco ", "state": "Calif.",
        "postal_code": "94105", "country": "United States", "birth_date": "1990-06-15",
        "signup_date": "2023-02-20", "loyalty_tier": "gold",
    }  # fmt: skip
    return {**row, **changes}


def test_anonymized_normalized_rows(spark):
    rows = [
        person("c1"),
        person(
            "c2",
            state=" ny ",
            country="U.S.",
            postal_code="2139",
            birth_date="2003-01-10",
            loyalty_tier=None,
            email=None,
            phone="+1 212.555.0100",
        ),
        person(
            "c3",
            state="Ontario",
            country="canada",
            city="TORONTO",
            postal_code="m5v 2t6",
            birth_date=None,
            signup_date=None,
            loyalty_tier="Platinum",
        ),
        person(
            "c4",
            state="new york",
            country="usa ",
            birth_date="1958-01-11",
            signup_date="2025-03-01",
        ),
        person("c5", country="DE", state="Bayern", birth_date="1970-01-10"),
    ]
    result = transform_customers(raw_rows(spark, "customers", rows, ingest="2025-01-10"), KEY)
    phone = mac("4155550134")
    assert collect(result.rows) == [
        ("c1", mac("ada.lovelace@example.com"), phone, "San Francisco", "CA", "94105", "US",
         "25-34", 22, "Gold", "young_gold", "2025", "01",
         "customers/ingest_date=2025-01-10/f1.csv", 1, _d("2025-01-10")),
        ("c2", None, mac("12125550100"), "San Francisco", "NY", "02139", "US", "<25", 22, None,
         "young_none", "2025", "01", "customers/ingest_date=2025-01-10/f1.csv", 2,
         _d("2025-01-10")),
        ("c3", mac("ada.lovelace@example.com"), phone, "Toronto", "Ontario", "M5V 2T6", "CA",
         "unknown", None, "Platinum", "unknown_platinum", "2025", "01",
         "customers/ingest_date=2025-01-10/f1.csv", 3, _d("2025-01-10")),
        ("c4", mac("ada.lovelace@example.com"), phone, "San Francisco", "NY", "94105", "US",
         "65+", 0, "Gold", "senior_gold", "2025", "01",
         "customers/ingest_date=2025-01-10/f1.csv", 4, _d("2025-01-10")),
        ("c5", mac("ada.lovelace@example.com"), phone, "San Francisco", "Bayern", "94105", "DE",
         "55-64", 22, "Gold", "senior_gold", "2025", "01",
         "customers/ingest_date=2025-01-10/f1.csv", 5, _d("2025-01-10")),
    ]  # fmt: skip


def test_later_delivery_updates_and_rejects_carry_no_pii(spark):
    january = raw_rows(
        spark, "customers",
        [person("c1"), person("c2"), person("c2"), person("c3", birth_date="1990-02-30"),
         {"customer_id": "c9", "_malformed_line": "c9,Grace,Hopper,grace@navy.mil"},
         person(None), person("c4", birth_date="grace@navy.mil"),  # columns shifted
         person("c5", birth_date="grace@navy.mil\nHopper")],  # a JSON value may hold a newline
        ingest="2025-01-10",
    )  # fmt: skip
    march = raw_rows(
        spark, "customers",
        [person("c1", loyalty_tier="Platinum", email="new@example.com", city="Oakland")],
        ingest="2025-03-02",
    )  # fmt: skip
    result = transform_customers(january.union(march), KEY)
    assert collect(result.rows, "customer_id", "email_hash", "city", "loyalty_tier", "year",
                   "month") == [
        ("c1", mac("new@example.com"), "Oakland", "Platinum", "2025", "03"),
        ("c2", mac("ada.lovelace@example.com"), "San Francisco", "Gold", "2025", "01"),
    ]  # fmt: skip
    # Whole reject rows: where, why, the key, and the hashes; every other raw column withheld
    # (a shifted delivery puts an email in any of them), the quoted value in the reason too.
    january_file = "customers/ingest_date=2025-01-10/f1.csv"
    email, phone = mac("ada.lovelace@example.com"), mac("4155550134")
    bad_date = "birth_date is not an ISO-8601 date: (value withheld: it may be PII)"
    text_columns = ("city", "state", "postal_code", "country", "birth_date", "signup_date",
                    "loyalty_tier", "raw_line")  # fmt: skip
    assert result.rejects.columns == ["source_file", "row_number", "ingest_date", "reason",
                                      "reason_detail", "customer_id", *text_columns,
                                      "email_hash", "phone_hash"]  # fmt: skip
    withheld = (None,) * len(text_columns)
    assert collect(result.rejects) == [
        (january_file, 1, _d("2025-01-10"), "DUPLICATE_KEY", "key (customer_id) also in "
         "customers/ingest_date=2025-03-02/f1.csv row 1, which is kept", "c1", *withheld,
         email, phone),
        (january_file, 3, _d("2025-01-10"), "DUPLICATE_KEY", "key (customer_id) also in "
         f"{january_file} row 2, which is kept", "c2", *withheld, email, phone),
        (january_file, 4, _d("2025-01-10"), "BAD_TIMESTAMP", bad_date, "c3", *withheld,
         email, phone),
        (january_file, 5, _d("2025-01-10"), "MALFORMED_LINE", "line does not parse", "c9",
         *withheld, None, None),
        (january_file, 6, _d("2025-01-10"), "MISSING_REQUIRED", "customer_id is empty", None,
         *withheld, email, phone),
        (january_file, 7, _d("2025-01-10"), "BAD_TIMESTAMP", bad_date, "c4", *withheld,
         email, phone),
        (january_file, 8, _d("2025-01-10"), "BAD_TIMESTAMP", bad_date, "c5", *withheld,
         email, phone),
    ]  # fmt: skip
    clear = {"Ada", "Lovelace", "Ada.Lovelace@Example.COM", "ada.lovelace@example.com",
             "new@example.com", "(415) 555-0134", "4155550134", "12 Analytical Engine Rd",
             "Grace", "Hopper", "grace@navy.mil"}  # fmt: skip
    for frame in (result.rows, result.rejects):
        for row in frame.collect():
            for value in row:
                assert not any(text.lower() in str(value).lower() for text in clear), row


def _d(text: str):
    import datetime as dt

    return dt.date.fromisoformat(text)


def test_the_key_is_nowhere_in_a_plan_or_an_error(spark):
    """An analysis error quotes the plan, and so would a literal in it: one XOR of an HMAC
    pad gives the key, and errors reach the job's log and `run-pipeline`'s output."""
    key = bytes(range(40))
    pads = [bytes(b ^ pad for b in key.ljust(64, b"\0")).hex() for pad in (0x36, 0x5C)]
    result = transform_customers(raw_rows(spark, "customers", [person("c1")],
                                          ingest="2025-01-10"), key)  # fmt: skip
    shown = [frame._jdf.queryExecution().toString() for frame in (result.rows, result.rejects)]
    try:
        result.rows.select("no_such_column").collect()
    except Exception as error:  # AnalysisException, which prints the plan it failed on
        shown.append(str(error))
    assert len(shown) == 3 and "email_hash" in shown[0]
    assert not [pad for pad in pads for text in shown if pad[:24] in text.lower()]
    assert collect(result.rows, "email_hash") == [
        (hmac.new(key, b"ada.lovelace@example.com", hashlib.sha256).hexdigest(),)]


def test_any_iso_country_spelling_becomes_its_alpha_2_code(spark):
    """Every ISO 3166-1 code and English name, not only the spellings exports use most."""
    from pyspark.sql import functions as F
    from retailake_etl.customers import normalize_country

    spelled = {
        "Sweden": "SE", "CAN": "CA", " gbr": "GB", "South Korea": "KR",
        "Korea, Republic of": "KR", "Türkiye": "TR", "Viet Nam": "VN", "côte d'ivoire": "CI",
        "U.S.A.": "US", "xk": "XK", "Atlantis": "Atlantis", "  ": None, "Turkey": "TR",
        "Cote d'Ivoire": "CI", "Curacao": "CW", "N/A": "N/A", "#N/A": "#N/A", "n.a.": "n.a.",
    }  # fmt: skip
    frame = spark.createDataFrame([(text,) for text in spelled], "country string")
    got = frame.select("country", normalize_country(F.col("country")).alias("code")).collect()
    assert {row.country: row.code for row in got} == spelled
