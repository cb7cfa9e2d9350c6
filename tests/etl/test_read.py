"""Reading raw objects: CSV, JSON lines and Parquet into one text DataFrame with row numbers
as the sample manifest counts them; malformed lines and files lacking a column kept as
rejects, never dropped."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from retailake_etl import read, storage
from retailake_etl.contract import CONTRACTS
from retailake_etl.read import read_raw, spellings
from retailake_etl.sales import transform_sales

from tests.etl.raw import collect, write_raw

CSV = (
    "Quantity,ORDER_ID,line_number,order_ts,store_id,product_id,unit_price,note\n"
    "2,a,1,2025-01-05T10:00:00,s1,p1,1.50,hello\n"
    "1,a,2\n"
    "3,b,1,2025-01-05T11:00:00,s1,p2,2.00,x\n"
)
JSONL = (
    '{"order_id": "c", "LINE_NUMBER": 1, "order_ts": "2025-01-06T09:00:00Z", "store_id": "s2", '
    '"product_id": "p1", "quantity": 4, "unit_price": 12.50, "extra": {"k": 1}}\n'
    '{"order_id": "c", "line_number": 2, "order_ts": "2025-01-0\n'
    "[1, 2]\n"
    "  \n"  # a blank line: no row, yet it counts in the numbering
    '{"order_id": "d", "line_number": 1, "order_ts": "2025-01-06T10:00:00Z", "store_id": "s2", '
    '"product_id": "p9", "quantity": "n/a", "unit_price": 1}\n'
)
# Windows line ends: a line ends at CR LF, and the CR is not kept in its last field.
NO_PRICE = (
    "order_id,line_number,order_ts,store_id,product_id,quantity\r\ne,1,2025-01-07,s1,p1,1\r\n"
)


def _parquet() -> bytes:
    table = pa.table(
        {
            "order_id": ["p", "q"],
            "Line_Number": pa.array([1, 1], pa.int32()),
            "order_ts": pa.array([1736157600, 1736161200], pa.timestamp("s")),
            "store_id": ["s3", "s3"],
            "product_id": ["p1", "p2"],
            "quantity": pa.array([1, -2], pa.int64()),
            "unit_price": pa.array([3.25, 4.0]),
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def test_formats_row_numbers_and_file_level_rejects(spark, tmp_path):
    write_raw(tmp_path, "sales", "2025-01-05", "a.csv", CSV)
    write_raw(tmp_path, "sales", "2025-01-06", "b.jsonl", JSONL)
    write_raw(tmp_path, "sales", "2025-01-06", "c.parquet", _parquet())
    write_raw(tmp_path, "sales", "2025-01-07", "d.csv", NO_PRICE)
    write_raw(tmp_path, "sales", "2025-01-07", "_manifest.json", "{}")
    files = storage.list_raw(spark, f"file://{tmp_path}", "sales")
    assert [f.key for f in files] == [
        "sales/ingest_date=2025-01-05/a.csv",
        "sales/ingest_date=2025-01-06/b.jsonl",
        "sales/ingest_date=2025-01-06/c.parquet",
        "sales/ingest_date=2025-01-07/d.csv",
    ]
    raw = read_raw(spark, files, CONTRACTS["sales"]).persist()
    assert collect(
        raw, "_source_file", "_row_number", "_ingest_date", "order_id", "quantity", "unit_price",
        "order_ts",
    ) == sorted(
        [
            ("sales/ingest_date=2025-01-05/a.csv", 1, _d("2025-01-05"), "a", "2", "1.50",
             "2025-01-05T10:00:00"),
            ("sales/ingest_date=2025-01-05/a.csv", 2, _d("2025-01-05"), "a", "1", None, None),
            ("sales/ingest_date=2025-01-05/a.csv", 3, _d("2025-01-05"), "b", "3", "2.00",
             "2025-01-05T11:00:00"),
            ("sales/ingest_date=2025-01-06/b.jsonl", 1, _d("2025-01-06"), "c", "4", "12.5",
             "2025-01-06T09:00:00Z"),
            ("sales/ingest_date=2025-01-06/b.jsonl", 2, _d("2025-01-06"), None, None, None, None),
            ("sales/ingest_date=2025-01-06/b.jsonl", 3, _d("2025-01-06"), None, None, None, None),
            ("sales/ingest_date=2025-01-06/b.jsonl", 5, _d("2025-01-06"), "d", "n/a", "1",
             "2025-01-06T10:00:00Z"),
            ("sales/ingest_date=2025-01-06/c.parquet", 1, _d("2025-01-06"), "p", "1", "3.25",
             "2025-01-06 10:00:00"),
            ("sales/ingest_date=2025-01-06/c.parquet", 2, _d("2025-01-06"), "q", "-2", "4.0",
             "2025-01-06 11:00:00"),
            ("sales/ingest_date=2025-01-07/d.csv", 1, _d("2025-01-07"), "e", "1", None,
             "2025-01-07"),
        ],
        key=lambda r: tuple((v is None, str(v)) for v in r),
    )  # fmt: skip
    result = transform_sales(raw)
    assert collect(result.rejects, "source_file", "row_number", "reason", "reason_detail") == [
        ("sales/ingest_date=2025-01-05/a.csv", 2, "MALFORMED_LINE", "line does not parse"),
        ("sales/ingest_date=2025-01-06/b.jsonl", 2, "MALFORMED_LINE", "line does not parse"),
        ("sales/ingest_date=2025-01-06/b.jsonl", 3, "MALFORMED_LINE", "line does not parse"),
        ("sales/ingest_date=2025-01-06/b.jsonl", 5, "BAD_TYPE",
         "quantity is not an integer: 'n/a'"),
        ("sales/ingest_date=2025-01-07/d.csv", 1, "MISSING_REQUIRED",
         "file lacks required column(s): unit_price"),
    ]  # fmt: skip
    raw.unpersist()


def test_csv_quotes_are_doubled_inside_quoted_values_and_a_backslash_is_only_text(
    spark, tmp_path
):
    # RFC 4180, as `ingest` reads a file and pyarrow writes one: `""` is a quote, `\` text
    lines = (
        "order_id,line_number,store_id,product_id\n"
        '"P00""4",1,"a ""quoted"", comma",x\n'
        '"back\\",2,"s\\1",y\n'
        'plain,3,"""",z\n'
    )
    write_raw(tmp_path, "sales", "2025-01-05", "q.csv", lines)
    files = storage.list_raw(spark, f"file://{tmp_path}", "sales")
    raw = read_raw(spark, files, CONTRACTS["sales"])
    assert collect(raw, "_row_number", "order_id", "store_id", "product_id",
                   "_malformed_line") == [
        (1, 'P00"4', 'a "quoted", comma', "x", None),
        (2, "back\\", "s\\1", "y", None),
        (3, "plain", '"', "z", None),
    ]  # fmt: skip


def test_a_parquet_file_spark_cannot_read_is_named_in_the_error(spark, tmp_path):
    table = pa.table({"order_id": ["o1"], "at": pa.array([1], pa.timestamp("ns"))})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    write_raw(tmp_path, "sales", "2025-01-05", "ns.parquet", sink.getvalue())
    files = storage.list_raw(spark, f"file://{tmp_path}", "sales")
    with pytest.raises(ValueError, match=r"raw object sales/ingest_date=2025-01-05/ns\.parquet "
                       r"cannot be read as Parquet: .*TIMESTAMP\(NANOS"):
        read_raw(spark, files, CONTRACTS["sales"])


def test_header_cells_of_any_text_are_ignored_or_read_as_columns(spark, tmp_path):
    """Extra columns are ignored whatever their header says: spaces, dots, backticks, accents
    or the parser's own corrupt-record name."""
    header = "Order Notes,order_id,unit.cost,line_number,`x`,order_ts,país,_corrupt,store_id"
    line = "hi there,o1,2.5,1,y,2025-01-05T10:00:00,es,z,s1"
    write_raw(tmp_path, "sales", "2025-01-05", "a.csv", f"{header}\n{line}\n")
    files = storage.list_raw(spark, f"file://{tmp_path}", "sales")
    raw = read_raw(spark, files, CONTRACTS["sales"])
    assert collect(raw, "order_id", "line_number", "order_ts", "store_id", "quantity",
                   "_malformed_line") == [
        ("o1", "1", "2025-01-05T10:00:00", "s1", None, None)
    ]  # fmt: skip


def test_the_listing_skips_what_spark_skips_and_reads_only_real_ingest_dates(spark, tmp_path):
    body = "order_id\no1\n"
    for key in ("sales/_backfill/ingest_date=2025-01-08/a.csv", "sales/.tmp/b.csv",
                "sales/_x=1/ingest_date=2025-01-08/c.csv", "sales/ingest_date=2025-02-30/d.csv",
                "sales/ingest_date=2025-02-28/e.csv", "sales/f.csv"):  # fmt: skip
        path = tmp_path / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    files = storage.list_raw(spark, f"file://{tmp_path}", "sales")
    assert [(f.key, f.ingest_date) for f in files] == [
        ("sales/_x=1/ingest_date=2025-01-08/c.csv", "2025-01-08"),
        ("sales/f.csv", None),
        ("sales/ingest_date=2025-02-28/e.csv", "2025-02-28"),
        ("sales/ingest_date=2025-02-30/d.csv", None),
    ]
    # and a read of the whole folder finds the same objects
    folder = storage.source_folder(f"file://{tmp_path}", "sales")
    raw = read_raw(spark, files, CONTRACTS["sales"], folder)
    assert sorted(r["_source_file"] for r in raw.collect()) == [f.key for f in files]


def _d(text: str):
    import datetime as dt

    return dt.date.fromisoformat(text)


def test_a_json_lines_file_lacking_required_keys_rejects_every_row(spark, tmp_path):
    line = '{{"order_id": "{0}", "line_number": 1, "order_ts": "2025-01-08", "product_id": "p1", '
    lacking = line + '"quantity": 1}}\n'
    complete = line + '"quantity": 1, "store_id": "s1", "unit_price": {1}}}\n'
    # f.jsonl has store_id and unit_price on one line of three: the file has both columns
    write_raw(tmp_path, "sales", "2025-01-08", "e.jsonl", lacking.format("e1") + "{}\n")
    lines = lacking.format("f1") + complete.format("f2", "null") + lacking.format("f3")
    write_raw(tmp_path, "sales", "2025-01-08", "f.jsonl", lines)
    files = storage.list_raw(spark, f"file://{tmp_path}", "sales")
    result = transform_sales(read_raw(spark, files, CONTRACTS["sales"]))
    lacks = "file lacks required column(s): store_id, unit_price"
    assert collect(result.rejects, "source_file", "row_number", "reason", "reason_detail") == [
        ("sales/ingest_date=2025-01-08/e.jsonl", 1, "MISSING_REQUIRED", lacks),
        ("sales/ingest_date=2025-01-08/e.jsonl", 2, "MISSING_REQUIRED", lacks),
        ("sales/ingest_date=2025-01-08/f.jsonl", 1, "MISSING_REQUIRED", "store_id is empty"),
        ("sales/ingest_date=2025-01-08/f.jsonl", 2, "MISSING_REQUIRED", "unit_price is empty"),
        ("sales/ingest_date=2025-01-08/f.jsonl", 3, "MISSING_REQUIRED", "store_id is empty"),
    ]


def test_json_keys_match_columns_ignoring_case_and_the_last_of_several_counts(spark, tmp_path):
    # Keys that name one column only once case and spaces are ignored (" Store_Id ", store_id)
    # used to make a map with a repeated key, which failed the whole job.
    lines = (
        '{"ORDER_ID": "g1", " Store_Id ": "s1", "store_id": "s2", "Channel": "web"}\n'
        '{"order_id": "g2", "store_id": "s3", "STORE_ID": "s4"}\n'
        '{"order_id": "g3", "store_id": "s5", "channel": null}\n'
        '{"order_id": "g4", "store_id": "s6", "store_id": "s7"}\n'  # the same spelling twice
    )
    write_raw(tmp_path, "sales", "2025-01-09", "g.jsonl", lines)
    # store_id and order_id only ever spelled in other cases: the file still has them
    write_raw(tmp_path, "sales", "2025-01-09", "h.jsonl", '{"Order_Id": "h1", "STORE_id": 7}\n')
    files = storage.list_raw(spark, f"file://{tmp_path}", "sales")
    raw = read_raw(spark, files, CONTRACTS["sales"])
    lacks = "file lacks required column(s): line_number, order_ts, product_id, quantity, unit_price"
    assert collect(raw, "order_id", "store_id", "channel", "_file_problem") == [
        ("g1", "s2", "web", lacks),
        ("g2", "s4", None, lacks),
        ("g3", "s5", None, lacks),
        ("g4", "s7", None, lacks),
        ("h1", "7", None, lacks),
    ]


def test_a_byte_order_mark_is_not_part_of_the_first_row(spark, tmp_path):
    """Excel's "CSV UTF-8" and Notepad's "UTF-8 with BOM" start a file with U+FEFF, which
    Hadoop's line reader skips (Jackson would refuse it on a JSON line)."""
    write_raw(tmp_path, "sales", "2025-01-05", "a.csv", "\ufeff" + CSV)
    write_raw(tmp_path, "sales", "2025-01-06", "b.jsonl", "\ufeff" + JSONL)
    with_mark = collect(read_raw(spark, storage.list_raw(spark, f"file://{tmp_path}", "sales"),
                                 CONTRACTS["sales"]).drop("_uploaded_ms"))  # fmt: skip
    write_raw(tmp_path, "sales", "2025-01-05", "a.csv", CSV)
    write_raw(tmp_path, "sales", "2025-01-06", "b.jsonl", JSONL)
    plain = read_raw(spark, storage.list_raw(spark, f"file://{tmp_path}", "sales"),
                     CONTRACTS["sales"]).drop("_uploaded_ms")  # written again: a later time
    without, without_names = collect(plain), plain.columns
    assert with_mark == without
    firsts = [r for r in without if r[without_names.index("_row_number")] == 1]
    assert sorted(r[without_names.index("order_id")] for r in firsts) == ["a", "c"]


def test_a_folder_read_gives_the_same_rows_and_only_the_files_asked_for(spark, tmp_path):
    write_raw(tmp_path, "sales", "2025-01-05", "a.csv", CSV)
    write_raw(tmp_path, "sales", "2025-01-06", "b.jsonl", JSONL)
    write_raw(tmp_path, "sales", "2025-01-07", "d.csv", NO_PRICE)
    root = f"file://{tmp_path}"
    wanted = [f for f in storage.list_raw(spark, root, "sales") if not f.key.endswith("d.csv")]
    by_name = read_raw(spark, wanted, CONTRACTS["sales"])
    folder = storage.source_folder(root, "sales")
    by_folder = read_raw(spark, wanted, CONTRACTS["sales"], folder)
    assert collect(by_folder) == collect(by_name)
    assert {r["_source_file"] for r in by_folder.select("_source_file").collect()} == {
        "sales/ingest_date=2025-01-05/a.csv",
        "sales/ingest_date=2025-01-06/b.jsonl",
    }


def _numbered_text(count: int, header: str | None, line) -> tuple[str, list[tuple[int, str]]]:
    """A file of `count` physical lines (every fifth blank) and its (row number, order_id)
    pairs, counted here line by line: the header is no row, a blank line no row but a line."""
    lines, expected = [header] if header else [], []
    for index in range(count):
        if index % 5 == 3:
            lines.append("   ")
            continue
        lines.append(line(f"o{index}"))
        expected.append((len(lines) - (1 if header else 0), f"o{index}"))
    return "\n".join(lines) + "\n", expected


def test_files_read_in_many_blocks_are_numbered_across_them(spark, tmp_path):
    """Tiny splits: each file is read as many blocks in several tasks, and a task reads blocks
    of more than one file, so a line's number must add up the lines of the blocks before."""
    header = "order_id,line_number,order_ts,store_id,product_id,quantity,unit_price"
    row = "{},1,2025-01-05T10:00:00,s1,p1,1,1.00"
    json_row = '{{"order_id": "{}", "line_number": 1, "order_ts": "2025-01-05"}}'
    expected = []
    for name, head, form in (("a.csv", header, row), ("b.csv", header, row),
                             ("c.jsonl", None, json_row)):  # fmt: skip
        text, numbered = _numbered_text(120, head, form.format)
        write_raw(tmp_path, "sales", "2025-01-05", name, text)
        expected += [(f"sales/ingest_date=2025-01-05/{name}", n, o) for n, o in numbered]
    settings = {"spark.sql.files.maxPartitionBytes": "700", "spark.sql.files.openCostInBytes": "1"}
    before = {key: spark.conf.get(key) for key in settings}
    for key, value in settings.items():
        spark.conf.set(key, value)
    try:
        files = storage.list_raw(spark, f"file://{tmp_path}", "sales")
        raw = read_raw(spark, files, CONTRACTS["sales"])
        blocks = raw.rdd.getNumPartitions()
        rows = collect(raw, "_source_file", "_row_number", "order_id")
    finally:
        for key, value in before.items():
            spark.conf.set(key, value)
    assert blocks > 6  # the files really were read in many parts
    assert rows == sorted(expected, key=lambda r: tuple((v is None, str(v)) for v in r))


def test_a_path_is_matched_in_every_spelling_spark_and_hadoop_give_it():
    local = ["file:///tmp/raw/a.csv", "file:/tmp/raw/a.csv"]
    assert spellings("file:/tmp/raw/a.csv") == local
    assert spellings("file:///tmp/raw/a.csv") == local
    assert spellings("s3://bucket/sales/a.csv") == ["s3://bucket/sales/a.csv"]
    assert spellings("relative/a.csv") == ["relative/a.csv"]


def test_objects_named_with_glob_characters_are_read_by_name_as_they_are(spark, tmp_path):
    """A key may hold `[`, `*`, `?`, `{` or `\\`, which Spark's reader takes as a glob pattern:
    `a[1].csv` would match `a1.csv` (or nothing) instead of itself."""
    write_raw(tmp_path, "sales", "2025-01-05", "a[1].csv", "order_id\nbracket\n")
    write_raw(tmp_path, "sales", "2025-01-05", "a1.csv", "order_id\ndecoy\n")
    write_raw(tmp_path, "sales", "2025-01-05", "b*{x,y}?.jsonl", '{"order_id": "star"}\n')
    parquet = io.BytesIO()
    pq.write_table(pa.table({"order_id": ["slash"]}), parquet)
    write_raw(tmp_path, "sales", "2025-01-05", "c\\d.parquet", parquet.getvalue())
    listed = storage.list_raw(spark, f"file://{tmp_path}", "sales")
    wanted = [f for f in listed if not f.key.endswith("a1.csv")]
    assert len(wanted) == 3
    raw = read_raw(spark, wanted, CONTRACTS["sales"])
    assert collect(raw, "_source_file", "order_id") == [
        ("sales/ingest_date=2025-01-05/a[1].csv", "bracket"),
        ("sales/ingest_date=2025-01-05/b*{x,y}?.jsonl", "star"),
        ("sales/ingest_date=2025-01-05/c\\d.parquet", "slash"),
    ]


def test_files_split_otherwise_in_the_read_than_in_the_line_count_fail_it(spark, tmp_path):
    """Lines are counted in one scan and numbered in another. Were the files split otherwise
    the second time (on Glue the split size follows the executors' cores), lines would get
    numbers of other files' blocks, negative ones among them, and such rows would vanish:
    the read fails instead. A split alike numbers every line from 2, below its header."""
    lines = {day: [f"{day}-{n}" for n in range(count)]
             for day, count in enumerate([40, 3, 25, 7, 60, 1, 12, 30], start=1)}  # fmt: skip
    for day, values in lines.items():
        write_raw(tmp_path, "sales", f"2025-01-{day:02d}", "lines.csv",
                  "".join(f"{value}\n" for value in ["header", *values]))  # fmt: skip
    files = storage.list_raw(spark, f"file://{tmp_path}", "sales")
    numbered = read._numbered_lines(spark, files, f"file://{tmp_path}/sales")
    assert collect(numbered.lines.where("value != 'header'"), "value", "_line") == sorted(
        (value, number) for values in lines.values() for number, value in enumerate(values, 2))
    spark.conf.set("spark.sql.leafNodeDefaultParallelism", "1")  # fewer cores, larger splits
    spark.conf.set("spark.sql.files.openCostInBytes", "1")  # small files packed together
    try:
        with pytest.raises(Exception, match="split otherwise when read"):
            numbered.lines.collect()
    finally:
        spark.conf.unset("spark.sql.leafNodeDefaultParallelism")
        spark.conf.unset("spark.sql.files.openCostInBytes")
