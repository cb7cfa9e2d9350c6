"""The incremental runs on local file-system paths (the same Hadoop code path as s3://):
nothing new writes nothing, a new object rewrites only its partitions, a run killed before
the ledger update heals on rerun, full refresh equals incremental."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import pytest
from retailake_etl import jobs, sales, storage, tables
from retailake_etl.jobs import Settings, run_transform

from tests.etl.raw import collect, has_dictionary, write_raw

HEADER = "order_id,line_number,order_ts,store_id,product_id,quantity,unit_price\n"


def sales_csv(*lines: str) -> str:
    return HEADER + "".join(f"{line}\n" for line in lines)


def files_of(root: Path) -> dict[str, float]:
    """Every data file below root with its modification time (rewrites show up)."""
    return {
        str(p.relative_to(root)): p.stat().st_mtime_ns
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith((".", "_")) and p.suffix != ".json"
    }


def staged_table(spark, settings: Settings, table: str):
    """The staged table as a reader finds it: the folders the catalog names."""
    return tables.read(spark, settings.catalog, table, f"{settings.staged_root}/{table}")


def staged_sales(spark, settings: Settings) -> list[tuple]:
    frame = staged_table(spark, settings, "sales")
    assert frame is not None, "no staged sales"
    return collect(frame, "order_id", "line_number", "quantity", "year", "month")


@pytest.fixture
def full_refresh_elsewhere(spark, tmp_path: Path, new_catalog):
    """A clean full run of the same raw into a staged root (and catalog) of its own: what a
    run must match."""

    def run(settings: Settings) -> Settings:
        clean = replace(settings, staged_root=f"file://{tmp_path}/clean", catalog=new_catalog(),
                        full_refresh=True)  # fmt: skip
        run_transform(spark, clean)
        return clean

    return run


@pytest.fixture
def lake(tmp_path: Path, catalog) -> tuple[Path, Path, Settings]:
    raw, staged = tmp_path / "raw", tmp_path / "staged"
    write_raw(raw, "sales", "2025-01-05", "a.csv", sales_csv(
        "o1,1,2025-01-05T10:00:00,s1,p1,2,1.00",
        "o2,1,2025-02-01T10:00:00,s1,p1,1,1.00",  # a late February row in a January file
        "o3,1,2025-01-05T10:00:00,s1,p1,0,1.00",
    ))  # fmt: skip
    write_raw(raw, "sales", "2025-03-01", "b.csv", sales_csv("o9,1,2025-03-01T10:00:00,s1,p1,5,1"))
    return raw, staged, Settings("sales", f"file://{raw}", f"file://{staged}", catalog)


def test_incremental_runs(spark, lake):
    raw, staged, settings = lake
    first = run_transform(spark, settings)
    assert (first.rows_read, first.rows_written, first.rows_rejected, first.new_files) == (
        4,
        3,
        1,
        2,
    )
    assert staged_sales(spark, settings) == [
        ("o1", 1, 2, "2025", "01"), ("o2", 1, 1, "2025", "02"), ("o9", 1, 5, "2025", "03"),
    ]  # fmt: skip
    ledger = json.loads((staged / "_state/sales/processed.json").read_text())
    assert {k: v["partitions"] for k, v in ledger["files"].items()} == {
        "sales/ingest_date=2025-01-05/a.csv": ["2025-01", "2025-02"],
        "sales/ingest_date=2025-03-01/b.csv": ["2025-03"],
    }
    files, before = files_of(staged), what_readers_see(settings, staged)

    again = run_transform(spark, settings)
    assert (again.rows_read, again.files_read) == (0, 0)
    assert files_of(staged) == files

    # A new object with a March row: only March is recomputed (from b.csv and c.csv).
    write_raw(raw, "sales", "2025-03-02", "c.csv", sales_csv("o10,1,2025-03-02T10:00:00,s1,p1,1,1"))
    third = run_transform(spark, settings)
    assert (third.files_read, third.partitions_rewritten, third.rows_read) == (2, 1, 2)
    after = changed_since(before, what_readers_see(settings, staged))
    assert after == {"sales/year=2025/month=03"}  # b.csv and c.csv have no rejects

    # A later copy of o2 (February): February is recomputed, and with it January, because
    # a.csv holds rows of both (partitions are recomputed per connected group of objects).
    before = what_readers_see(settings, staged)
    write_raw(raw, "sales", "2025-03-03", "d.csv", sales_csv("o2,1,2025-02-01T10:00:00,s1,p1,7,1"))
    fourth = run_transform(spark, settings)
    assert (fourth.rows_read, fourth.rows_written, fourth.rows_rejected) == (4, 2, 1)
    assert fourth.duplicates_dropped == 1
    # Every row of an object counts once in the ledger: a.csv's o2, now a duplicate, too.
    ledger = json.loads((staged / "_state/sales/processed.json").read_text())
    assert {k.rsplit("/", 1)[-1]: v["rows"] for k, v in ledger["files"].items()} == {
        "a.csv": 3, "b.csv": 1, "c.csv": 1, "d.csv": 1,
    }  # fmt: skip
    assert changed_since(before, what_readers_see(settings, staged)) == {
        "sales/year=2025/month=01", "sales/year=2025/month=02",
        "_rejects/sales/ingest_month=2025-01",  # o2 in a.csv is now a duplicate
    }  # fmt: skip
    assert staged_sales(spark, settings) == [
        ("o1", 1, 2, "2025", "01"), ("o10", 1, 1, "2025", "03"), ("o2", 1, 7, "2025", "02"),
        ("o9", 1, 5, "2025", "03"),
    ]  # fmt: skip


def test_sales_ids_are_written_without_a_dictionary(spark, tmp_path, catalog):
    """An order's lines share its id, time and customer, which would get a dictionary."""
    header = "order_id,line_number,order_ts,store_id,customer_id,product_id,quantity,unit_price\n"
    lines = [f"o{n // 3},{n % 3 + 1},2025-01-05T10:0{n // 3}:00,s1,c{n // 3},p1,1,1.00\n"
             for n in range(30)]  # fmt: skip
    raw, staged = tmp_path / "raw", tmp_path / "staged"
    write_raw(raw, "sales", "2025-01-05", "a.csv", header + "".join(lines))
    settings = Settings("sales", f"file://{raw}", f"file://{staged}", catalog)
    assert run_transform(spark, settings).rows_written == 30
    files = list((staged / "sales").rglob("*.parquet"))
    assert files
    for path in files:
        assert [c for c in sales.NEARLY_UNIQUE if has_dictionary(path, c)] == [], path
        assert has_dictionary(path, "store_id"), path


def what_readers_see(settings: Settings, staged: Path) -> dict[str, object]:
    """The folder the catalog names for each staged sales partition, and each file of the job's
    own folders (rejects, state) with its modification time."""
    seen: dict[str, object] = {
        f"sales/year={year}/month={month}/": where
        for (year, month), where in settings.catalog.locations("sales").items()
    }
    seen.update((name, mtime) for name, mtime in files_of(staged).items() if name[0] == "_")
    return seen


def changed_since(before: dict[str, object], after: dict[str, object]) -> set[str]:
    """The folders where a file (or the catalog's folder of a partition) appeared, changed or
    went away."""
    names = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    return {name.rsplit("/", 1)[0] for name in names}


def test_killed_run_heals_and_matches_full_refresh(
    spark, lake, monkeypatch, full_refresh_elsewhere
):
    raw, staged, settings = lake
    run_transform(spark, settings)
    write_raw(raw, "sales", "2025-03-02", "c.csv", sales_csv(
        "o11,1,2025-03-03T10:00:00,s1,p1,1,1.00", "o1,1,2025-01-05T10:00:00,s1,p1,4,1.00",
    ))  # fmt: skip

    save_ledger = jobs.save_ledger

    def killed(*args: object, unfinished: bool = False) -> None:
        if not unfinished:  # the tables and rejects are written: die before the ledger
            raise RuntimeError("killed before the ledger update")
        save_ledger(*args, unfinished=unfinished)

    monkeypatch.setattr(jobs, "save_ledger", killed)
    with pytest.raises(RuntimeError):
        run_transform(spark, settings)
    monkeypatch.undo()
    assert json.loads((staged / "_state/sales/processed.json").read_text())["unfinished"]
    healed = run_transform(spark, settings)
    assert (healed.new_files, healed.files_read) == (3, 3)  # rebuilt from every object

    clean = full_refresh_elsewhere(settings)
    expected = [
        ("o1", 1, 4, "2025", "01"), ("o11", 1, 1, "2025", "03"), ("o2", 1, 1, "2025", "02"),
        ("o9", 1, 5, "2025", "03"),
    ]  # fmt: skip
    assert staged_sales(spark, settings) == expected
    assert staged_sales(spark, clean) == expected
    for root in (settings.staged_root, clean.staged_root):
        rejects = spark.read.parquet(f"{root}/_rejects/sales")
        assert collect(rejects, "source_file", "row_number", "reason") == [
            ("sales/ingest_date=2025-01-05/a.csv", 1, "DUPLICATE_KEY"),
            ("sales/ingest_date=2025-01-05/a.csv", 3, "ZERO_QUANTITY"),
        ]


def test_an_object_removed_or_changed_gives_back_the_copies_its_keys_had_beaten(
    spark, lake, full_refresh_elsewhere
):
    raw, staged, settings = lake
    later = write_raw(raw, "sales", "2025-03-05", "k.csv", sales_csv(
        "o1,1,2025-03-04T10:00:00,s1,p1,9,1.00",  # a later delivery of o1: it wins, in March
    ))  # fmt: skip
    run_transform(spark, settings)
    assert ("o1", 1, 9, "2025", "03") in staged_sales(spark, settings)

    def duplicates() -> list[tuple]:
        rejects = spark.read.parquet(f"file://{staged}/_rejects/sales")
        return collect(rejects.where("reason = 'DUPLICATE_KEY'"), "source_file", "row_number")

    assert duplicates() == [("sales/ingest_date=2025-01-05/a.csv", 1)]
    # Delivered again without o1: a.csv's copy, in January, which no new object touches, is
    # the one left, and it is no longer a duplicate.
    later.write_text(sales_csv("o12,1,2025-03-04T10:00:00,s1,p1,1,1.00"))
    run_transform(spark, settings)
    clean = full_refresh_elsewhere(settings)
    expected = [
        ("o1", 1, 2, "2025", "01"), ("o12", 1, 1, "2025", "03"), ("o2", 1, 1, "2025", "02"),
        ("o9", 1, 5, "2025", "03"),
    ]  # fmt: skip
    assert staged_sales(spark, settings) == expected == staged_sales(spark, clean)
    assert duplicates() == []
    # Removed: its rows go, and so does every row once nothing is left in raw.
    later.unlink()
    run_transform(spark, settings)
    assert staged_sales(spark, settings) == [r for r in expected if r[0] != "o12"]
    for path in raw.rglob("*.csv"):
        path.unlink()
    run_transform(spark, settings)
    assert staged_table(spark, settings, "sales") is None
    assert storage.files_under(spark, f"file://{staged}/_rejects/sales") == []


def test_inventory_and_customers_jobs(spark, tmp_path, catalog):
    raw, staged = tmp_path / "raw", tmp_path / "staged"
    inv = "snapshot_date,store_id,product_id,product_name,category,unit_cost,quantity_on_hand\n"
    write_raw(
        raw, "inventory", "2025-01-31", "i.csv", inv + "2025-01-31,s1,p1,Mug,Kitchen,2.50,4\n"
    )
    write_raw(
        raw, "inventory", "2025-02-01", "i.csv", inv + "2025-02-01,s1,p1,Mug,Kitchen,2.75,3\n"
    )
    settings = Settings("inventory", f"file://{raw}", f"file://{staged}", catalog)
    assert run_transform(spark, settings).rows_written == 2
    products = staged_table(spark, settings, "products")
    assert collect(products, "product_id", "unit_cost", "is_current", "year", "month") == [
        ("p1", D("2.50"), False, "2025", "01"), ("p1", D("2.75"), True, "2025", "02"),
    ]  # fmt: skip
    for path in (raw / "inventory").rglob("*.csv"):  # every inventory object deleted from raw
        path.unlink()
    gone = run_transform(spark, settings)
    assert (gone.files_read, gone.rows_read, gone.partitions_rewritten) == (0, 0, 2)
    for table in ("inventory_snapshots", "products"):
        assert staged_table(spark, settings, table) is None, table
    assert storage.read_table(spark, f"file://{staged}/{jobs.OBSERVATIONS}") is None

    cust = "customer_id,email,phone,street,first_name,city,country\n"
    write_raw(raw, "customers", "2025-01-10", "c.csv", cust + "c1,a@x.io,555 0101,1 Main,Al,x,US\n")
    write_raw(raw, "customers", "2025-03-10", "c.csv", cust + "c1,b@x.io,555 0101,1 Main,Al,y,US\n")
    key_settings = replace(settings, source="customers", hmac_key=b"k")
    run_transform(spark, key_settings)
    write_raw(raw, "customers", "2025-04-01", "c.csv", cust + "c1,c@x.io,555 0101,1 Main,Al,z,US\n")
    # The update pulls in March (where c1 is staged), not January (whose copy already lost).
    assert run_transform(spark, key_settings).files_read == 2
    staged_customers = staged_table(spark, key_settings, "customers")
    assert collect(staged_customers, "customer_id", "city", "year", "month") == [
        ("c1", "Z", "2025", "04"),
    ]


def test_a_customer_record_with_no_delivery_date_is_rejected_not_lost(spark, tmp_path, catalog):
    raw, staged = tmp_path / "raw", tmp_path / "staged"
    cust = "customer_id,email,phone,street,first_name,city,country\n"
    write_raw(raw, "customers", "2025-01-10", "c.csv", cust + "c1,a@x.io,555 0101,1 Main,Al,x,US\n")
    undated = raw / "customers" / "loose.csv"  # no ingest_date= folder to date it
    undated.write_text(cust + "c2,b@x.io,555 0102,2 Main,Bo,y,US\n")
    settings = Settings("customers", f"file://{raw}", f"file://{staged}", catalog, hmac_key=b"k")
    counts = run_transform(spark, settings)
    assert (counts.rows_read, counts.rows_written, counts.rows_rejected) == (2, 1, 1)
    customers = staged_table(spark, settings, "customers")
    assert collect(customers, "customer_id", "year", "month") == [("c1", "2025", "01")]
    rejects = spark.read.parquet(f"file://{staged}/_rejects/customers")
    assert collect(rejects, "source_file", "customer_id", "reason", "ingest_month") == [
        ("customers/loose.csv", "c2", "MISSING_REQUIRED", "unknown")]


def test_rejects_of_objects_not_reread_survive_a_rewrite_of_their_month(
    spark, lake, full_refresh_elsewhere
):
    raw, staged, settings = lake
    # e.csv shares a.csv's ingest month but holds only an April row, so a January change
    # does not re-read it: its reject must survive the rewrite of ingest_month=2025-01.
    write_raw(raw, "sales", "2025-01-20", "e.csv", sales_csv(
        "o20,1,2025-04-02T10:00:00,s1,p1,1,1.00", "o21,1,2025-04-02T10:00:00,s1,p1,1,-2.00",
    ))  # fmt: skip
    run_transform(spark, settings)
    write_raw(raw, "sales", "2025-01-25", "f.csv", sales_csv(
        "o30,1,2025-01-25T10:00:00,s1,p1,1,1.00", "o31,x,2025-01-25T10:00:00,s1,p1,1,1.00",
    ))  # fmt: skip
    before = files_of(staged)
    incremental = run_transform(spark, settings)
    assert incremental.files_read == 2  # a.csv (January rows) and f.csv, not e.csv
    assert "_rejects/sales/ingest_month=2025-01" in changed_since(before, files_of(staged))

    clean = full_refresh_elsewhere(settings)
    expected = [
        ("sales/ingest_date=2025-01-05/a.csv", 3, "ZERO_QUANTITY", "2025-01"),
        ("sales/ingest_date=2025-01-20/e.csv", 2, "NEGATIVE_PRICE", "2025-01"),
        ("sales/ingest_date=2025-01-25/f.csv", 2, "BAD_TYPE", "2025-01"),
    ]
    for root in (settings.staged_root, clean.staged_root):
        rejects = spark.read.parquet(f"{root}/_rejects/sales")
        assert collect(rejects, "source_file", "row_number", "reason", "ingest_month") == expected


def test_of_two_deliveries_on_one_day_the_later_upload_wins_whatever_its_name(
    spark, tmp_path, catalog
):
    """A full export, then a change file the same day named to sort first: the change is the
    customer's address and the sales line's quantity, in an incremental run and a full one."""
    import os

    raw, staged = tmp_path / "raw", tmp_path / "staged"
    cust = "customer_id,email,phone,street,first_name,city,country\n"
    export = write_raw(raw, "customers", "2025-01-10", "full_export.csv",
                       cust + "c1,a@x.io,555 0101,1 Main,Al,Boston,US\n")
    orders = write_raw(raw, "sales", "2025-01-10", "orders.csv",
                       sales_csv("o1,1,2025-01-10T10:00:00,s1,p1,2,1.00"))
    for path in (export, orders):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    customers = Settings("customers", f"file://{raw}", f"file://{staged}", catalog, hmac_key=b"k")
    sold = Settings("sales", f"file://{raw}", f"file://{staged}", catalog)
    run_transform(spark, customers)
    run_transform(spark, sold)
    write_raw(raw, "customers", "2025-01-10", "changes.csv",
              cust + "c1,a@x.io,555 0101,1 Main,Al,Denver,US\n")
    write_raw(raw, "sales", "2025-01-10", "corrections.csv",
              sales_csv("o1,1,2025-01-10T10:00:00,s1,p1,3,1.00"))
    for full_refresh in (False, True):
        run = run_transform(spark, replace(customers, full_refresh=full_refresh))
        assert run.duplicates_dropped == 1
        run_transform(spark, replace(sold, full_refresh=full_refresh))
        kept = staged_table(spark, customers, "customers")
        assert collect(kept, "customer_id", "city") == [("c1", "Denver")]
        assert [row[:3] for row in staged_sales(spark, sold)] == [("o1", 1, 3)]
    rejects = spark.read.parquet(f"file://{staged}/_rejects/customers")
    assert collect(rejects, "source_file", "reason") == [
        ("customers/ingest_date=2025-01-10/full_export.csv", "DUPLICATE_KEY")]


def test_a_duplicate_left_in_an_object_not_read_again_names_the_copy_kept_now(
    spark, tmp_path, catalog, full_refresh_elsewhere
):
    """a.csv's copy of o1 lost to b.csv's, which now loses to c.csv's: a.csv's reject, kept
    from the run before (a.csv is not read again), must name c.csv, as a full refresh does."""
    raw, staged = tmp_path / "raw", tmp_path / "staged"
    settings = Settings("sales", f"file://{raw}", f"file://{staged}", catalog)
    for day, name, month in (("2025-01-10", "a.csv", "01"), ("2025-01-20", "b.csv", "02"),
                             ("2025-01-25", "c.csv", "03")):
        write_raw(raw, "sales", day, name, sales_csv(f"o1,1,2025-{month}-05T10:00:00,s1,p1,1,1"))
        run_transform(spark, settings)
    clean = full_refresh_elsewhere(settings)
    kept = ("key (order_id, line_number) also in sales/ingest_date=2025-01-25/c.csv row 1, "
            "which is kept")
    for root in (settings.staged_root, clean.staged_root):
        rejects = spark.read.parquet(f"{root}/_rejects/sales")
        assert collect(rejects, "source_file", "reason", "reason_detail") == [
            ("sales/ingest_date=2025-01-10/a.csv", "DUPLICATE_KEY", kept),
            ("sales/ingest_date=2025-01-20/b.csv", "DUPLICATE_KEY", kept),
        ], root
