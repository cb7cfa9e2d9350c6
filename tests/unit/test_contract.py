"""The contract mirrors DESIGN.md, and the file check refuses exactly unreadable files and
files without a required column (row-level problems are left to the pipeline)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from retailake import contract
from retailake.contract import CONTRACTS, FileProblem, Reason, check_file

SALES_HEADER = ("order_id,line_number,order_ts,store_id,channel,customer_id,product_id,"
                "quantity,unit_price,discount_pct,currency")


def test_contract_matches_the_design():
    assert CONTRACTS["sales"].required == (
        "order_id", "line_number", "order_ts", "store_id", "product_id", "quantity", "unit_price"
    )
    assert CONTRACTS["sales"].key == ("order_id", "line_number")
    assert CONTRACTS["inventory"].required == (
        "snapshot_date", "store_id", "product_id", "product_name", "category",
        "quantity_on_hand", "unit_cost",
    )
    assert CONTRACTS["customers"].required == ("customer_id",)
    assert CONTRACTS["sales"].column("discount_pct").range_reason is Reason.DISCOUNT_OUT_OF_RANGE
    assert CONTRACTS["sales"].column(" Unit_Price ").range_reason is Reason.NEGATIVE_PRICE
    assert CONTRACTS["sales"].column("channel").allowed == ("store", "online", "mobile")


def test_a_good_csv_passes_with_rows_counted_and_malformed_lines_tolerated(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(SALES_HEADER.upper() + "\n"
                    "O1,1,2025-01-01T10:00:00,S001,store,,P1,2,9.99,,USD\n"
                    "O1,2,2025\n"
                    "O1,3,bad,S001,store,,P1,two,-1,7,USD\n"
                    '"O1,4,2025-01-01T10:00:00,S001,store,,P1,2,9.99,,USD\n'  # an unclosed quote
                    "O1,5,2025-01-01T10:00:00,S001,store,,P1,2,9.99,,USD\n"
                    "  \n")  # fmt: skip
    check = check_file(path, "sales")
    assert check.ok, check.reason
    assert check.rows == 5  # as the pipeline reads them: one a line, the blank one not
    path.write_text(path.read_text().replace("\n", "\r"), newline="")  # old Mac line ends
    assert check_file(path, "sales").rows == 5  # Spark's line reader ends a line at \r too


def test_a_missing_required_column_refuses_the_file(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(SALES_HEADER.replace(",unit_price", "") + "\nO1,1,2025-01-01,S1,,,P1,1,,\n")
    check = check_file(path, "sales")
    assert not check.ok
    assert check.problems[0][0] is FileProblem.MISSING_COLUMN
    assert "unit_price" in check.reason


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("a.csv", b"", FileProblem.EMPTY_FILE),
        ("a.csv", b"\xff\xfe\x00garbage\x00\x81\n\x00\x00", FileProblem.UNPARSEABLE),
        ("a.jsonl", b"this is not json\nnor this\n", FileProblem.UNPARSEABLE),
        ("a.parquet", b"PAR1 not really", FileProblem.UNPARSEABLE),
        ("a.xlsx", b"whatever", FileProblem.UNSUPPORTED_FORMAT),
        ("a.csv", (SALES_HEADER + ",Order_ID\n").encode(), FileProblem.DUPLICATE_COLUMN),
    ],
)
def test_unreadable_files_are_refused(tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_bytes(content)
    check = check_file(path, "sales")
    assert [p for p, _ in check.problems] == [problem]


@pytest.mark.parametrize(("name", "content"), [
    ("a.jsonl", b'{"order_id": "J0"}\n{"order_id": "J1", "store_id": "S\xe9"}\n'),
    ("a.csv", SALES_HEADER.encode() + b"\nA,1,2026-01-01,S1\nB,1,2026-01-01,S\xe9\n"),
])
def test_text_that_is_not_utf8_is_refused_by_line(tmp_path, name, content):
    """pyarrow's JSON reader took the Latin-1 byte, and staged held 'S\ufffd'."""
    path = tmp_path / name
    path.write_bytes(content)
    line = 2 if name.endswith("jsonl") else 3
    assert check_file(path, "sales").reason == (
        f"not readable as {name.split('.')[1]}: line {line} is not UTF-8 text (byte 0xe9): "
        "save the file as UTF-8")


def test_long_csv_rows_pass_up_to_the_block_and_past_it_are_refused_in_words(
    tmp_path, monkeypatch
):
    path = tmp_path / "c.csv"
    many = "C0,a\n" * 1000
    path.write_text(f"customer_id,city\n{many}C1,{'x' * (2 << 20)}\nC2,y\n")  # past 1 MiB
    assert check_file(path, "customers").ok
    monkeypatch.setattr(contract, "_CSV_BLOCK", 4096)
    path.write_text(f"customer_id,city\n{many}C1,{'x' * 20_000}\nC2,y\n")
    assert check_file(path, "customers").reason == (
        "not readable as csv: a row is longer than 4,096 bytes")


def test_json_lines_with_a_bad_line_pass(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"Customer_ID": "C1", "email": "a@b.c"}\n{"Customer_ID": "C2", "em\n'
                    '{"Customer_ID": "C3"}\n')
    check = check_file(path, "customers")
    assert check.ok and check.rows == 3


def test_json_lines_may_spell_a_key_differently_from_line_to_line_or_repeat_it(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"customer_id": "C1"}\n{"Customer_ID": "C2"}\n'
                    '{"CUSTOMER_ID": "C3", " customer_id ": "C3b"}\n')
    check = check_file(path, "customers")
    assert check.ok, check.reason
    assert check.rows == 3


def test_json_lines_without_the_key_are_refused(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"id": "C1"}\n')
    assert "customer_id" in check_file(path, "customers").reason


def test_parquet_types_are_checked(tmp_path):
    good = pa.table({"customer_id": ["C1"], "birth_date": pa.array([1], pa.date32())})
    bad = pa.table({"customer_id": ["C1"], "birth_date": [True]})
    pq.write_table(good, tmp_path / "good.parquet")
    pq.write_table(bad, tmp_path / "bad.parquet")
    assert check_file(tmp_path / "good.parquet", "customers").ok
    refused = check_file(tmp_path / "bad.parquet", "customers")
    assert [p for p, _ in refused.problems] == [FileProblem.INCOMPATIBLE_TYPE]


def test_int96_timestamps_as_spark_writes_them_pass(tmp_path):
    table = pa.table({"customer_id": ["C1"], "signup_ts": pa.array([1], pa.timestamp("ns"))})
    pq.write_table(table, tmp_path / "c.parquet", use_deprecated_int96_timestamps=True)
    assert pq.ParquetFile(tmp_path / "c.parquet").metadata.schema.column(1).physical_type == (
        "INT96")
    check = check_file(tmp_path / "c.parquet", "customers")
    assert check.ok, check.reason


@pytest.mark.parametrize(
    ("column", "words"),
    [
        (pa.array([1], pa.timestamp("ns")), "column extra holds nanosecond timestamps"),
        (pa.array([1], pa.time64("us")), "column extra is time64[us], a time of day"),
        (pa.array([[1]], pa.list_(pa.timestamp("ns"))), "column extra holds nanosecond"),
        (pa.array([b"0123456789abcdef"], pa.uuid()), "column extra holds UUIDs"),
        (pa.array([1], pa.decimal256(50, 2)), "column extra is decimal256(50, 2), more digits"),
    ],
)
def test_parquet_types_spark_cannot_read_refuse_the_file_even_in_an_extra_column(
    tmp_path, column, words
):
    # Spark fails on such a column when it reads the file's schema: the whole job would fail
    table = pa.table({"customer_id": ["C1"], "extra": column})
    pq.write_table(table, tmp_path / "c.parquet")
    refused = check_file(tmp_path / "c.parquet", "customers")
    assert [p for p, _ in refused.problems] == [FileProblem.INCOMPATIBLE_TYPE]
    assert refused.reason.startswith(words)


def test_what_spark_reads_as_its_values_passes(tmp_path):
    """pandas' categoricals are dictionary columns; wide decimals within 38 digits are read."""
    table = pa.table({"customer_id": pa.array(["C1", "C2"]).dictionary_encode(),
                      "extra": pa.array([1, 2], pa.decimal256(38, 2))})  # fmt: skip
    pq.write_table(table, tmp_path / "c.parquet")
    check = check_file(tmp_path / "c.parquet", "customers")
    assert check.ok, check.reason


@pytest.mark.parametrize("name", ["s.csv", "i.csv"])
def test_a_csv_saved_with_a_byte_order_mark_passes(tmp_path, name):
    """Excel's "CSV UTF-8": the mark is not part of the first column's name, numbers or not."""
    path = tmp_path / name
    if name == "s.csv":
        source, text = "sales", f"{SALES_HEADER}\n1001,1,2025-01-01,S1,store,,P1,2,3.5,,USD\n"
    else:
        source = "inventory"
        text = ("snapshot_date,store_id,product_id,product_name,category,quantity_on_hand,"
                "unit_cost\n2025-01-01,S1,P1,Tea,Food,4,1.25\n")
    path.write_text("\ufeff" + text, encoding="utf-8")
    check = check_file(path, source)
    assert check.ok, check.reason
    assert check.rows == 1


def test_nameless_columns_are_not_duplicates(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("customer_id,email,,\nC1,a@b.c,,\n")  # a spreadsheet's trailing commas
    assert check_file(path, "customers").ok, check_file(path, "customers").reason


def test_another_sources_file_is_refused_even_with_the_required_columns(tmp_path):
    sales = tmp_path / "sales.csv"
    sales.write_text(f"{SALES_HEADER}\nO1,1,2025-01-01T10:00:00,S1,store,C1,P1,1,2.50,0,USD\n")
    refused = check_file(sales, "customers")  # customer_id is there: customers' one required
    assert [p for p, _ in refused.problems] == [FileProblem.OTHER_SOURCE]
    assert refused.reason == (
        "its columns fit the sales contract (11 of 11), not the customers one (1 of 13): "
        "ingest it with --source sales"
    )
    assert check_file(sales, "sales").ok


def test_extra_columns_alone_do_not_refuse_a_file(tmp_path):
    # A customers file that also carries sales' key columns still fits customers best.
    path = tmp_path / "c.csv"
    path.write_text("customer_id,email,city,order_id,product_id,note\nC1,a@b.c,Austin,O1,P1,x\n")
    assert check_file(path, "customers").ok
    # A sales export that carries its customers' details (more of customers' columns than
    # of sales') meets sales' stricter contract: it is sales.
    wide = tmp_path / "wide_sales.csv"
    details = "first_name,last_name,email,phone,street,city,state,country"
    wide.write_text("order_id,line_number,order_ts,store_id,product_id,quantity,unit_price,"
                    f"customer_id,{details}\n"
                    "O1,1,2025-01-01T10:00:00,S1,P1,1,2.50,C1,A,B,a@b.c,1,St,X,TX,US\n")
    assert check_file(wide, "sales").ok
    assert [p for p, _ in check_file(wide, "customers").problems] == [FileProblem.OTHER_SOURCE]


def test_a_line_break_inside_a_quoted_value_refuses_the_file(tmp_path):
    # The pipeline reads a row per line: this row would reach it as two malformed pieces.
    path = tmp_path / "notes.csv"
    path.write_text(f"{SALES_HEADER}\r\n"
                    "X-1,1,2025-11-20T10:00:00,S4,store,C1,P1,1,1.00,0,USD\r\n"
                    'X-2,1,2025-11-20T10:00:00,S4,"gift, wrap\r\nplease",C1,P1,1,1.00,0,USD\r\n')
    refused = check_file(path, "sales")
    assert [p for p, _ in refused.problems] == [FileProblem.UNPARSEABLE]
    assert "row 2 holds a line break inside its quoted 'channel' value" in refused.reason
    path.write_bytes(path.read_bytes().replace(b"wrap\r\nplease", b"wrap please"))
    assert check_file(path, "sales").ok
