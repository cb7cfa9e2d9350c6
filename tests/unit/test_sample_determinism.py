"""Same seed, same bytes; another seed, other data."""

from __future__ import annotations

from pathlib import Path

import pytest

from retailake.sample import SampleSpec, generate


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_same_seed_gives_identical_files(tmp_path, fmt):
    spec = SampleSpec(sales_lines=3000, days=45, dirty_rate=0.03,
                      formats={"sales": fmt, "inventory": fmt, "customers": fmt})
    generate(spec, tmp_path / "a")
    generate(spec, tmp_path / "b")
    first, second = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert len(first) > 45
    assert first == second


def test_another_seed_gives_other_data(tmp_path):
    generate(SampleSpec(sales_lines=2000, days=20, seed=1), tmp_path / "a")
    generate(SampleSpec(sales_lines=2000, days=20, seed=2), tmp_path / "b")
    first = (tmp_path / "a/sales/ingest_date=2025-10-05/sales-2025-10-05-seed1.csv").read_bytes()
    second = (tmp_path / "b/sales/ingest_date=2025-10-05/sales-2025-10-05-seed2.csv").read_bytes()
    assert first != second


def test_sales_do_not_depend_on_the_other_sources(tmp_path):
    spec = SampleSpec(sales_lines=2000, days=20)
    generate(spec, tmp_path / "all")
    generate(spec, tmp_path / "sales", sources=("sales",))
    only = tree(tmp_path / "sales")
    everything = tree(tmp_path / "all")
    assert {k: v for k, v in everything.items() if k.startswith("sales/")} == {
        k: v for k, v in only.items() if k.startswith("sales/")
    }


@pytest.mark.parametrize(
    "changes", [{"dirty_rate": 0.6}, {"dirty_rate": -0.1}, {"sales_lines": 0}, {"days": 0},
                {"formats": {"sales": "xml"}}]
)
def test_bad_specs_are_refused(changes):
    with pytest.raises(ValueError):
        SampleSpec(**changes)


def test_an_interrupted_write_leaves_no_file_under_its_real_name(tmp_path, monkeypatch):
    """A killed `seed-sample --output` must not leave half a file that ingest would take."""
    from retailake.sample import writer

    def killed(path, *args):
        Path(path).write_bytes(b"order_id,line_num")  # part of a file, then the kill
        raise KeyboardInterrupt

    monkeypatch.setattr(writer, "_write_csv", killed)
    with pytest.raises(KeyboardInterrupt):
        generate(SampleSpec(sales_lines=500, days=5), tmp_path)
    assert [p.name.startswith(".") for p in tmp_path.rglob("*.csv*")] == [True]
