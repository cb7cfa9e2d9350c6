"""The period a sample covers: the preset's unless --start / --days say otherwise."""

from __future__ import annotations

import datetime as dt
import json

from typer.testing import CliRunner

from retailake.cli import app, data
from retailake.contract import SOURCES
from retailake.sample import DEFAULT_FORMATS, PRESET_WINDOWS, PRESETS, SAMPLE_FORMATS, SampleSpec


def seed(tmp_path, *args: str) -> dict:
    result = CliRunner().invoke(app, ["seed-sample", "--output", str(tmp_path), *args])
    assert result.exit_code == 0, result.output
    return json.loads((tmp_path / "_manifest" / "seed-42.json").read_text())


def file_days(tmp_path, source: str = "sales") -> list[str]:
    return sorted(p.name.removeprefix("ingest_date=") for p in (tmp_path / source).iterdir())


def test_every_preset_has_a_window():
    assert set(PRESET_WINDOWS) == set(PRESETS) == {p.value for p in data.Preset}
    assert PRESET_WINDOWS["small"] == (dt.date(2025, 10, 1), 92)
    assert PRESET_WINDOWS["medium"] == PRESET_WINDOWS["large"] == (dt.date(2025, 1, 1), 365)


def test_the_clis_choices_are_the_samples_and_the_contracts():
    """The CLI spells its choices out (importing the sample's modules would slow every
    command's start): they must stay the ones the generator and the contract know."""
    assert [f.value for f in data.FileFormat] == list(SAMPLE_FORMATS)
    assert [s.value for s in data.Source] == list(SOURCES) == list(DEFAULT_FORMATS)


def test_the_spec_defaults_are_the_small_preset():
    spec = SampleSpec()
    assert (spec.sales_lines, spec.start, spec.days) == (10_000, dt.date(2025, 10, 1), 92)
    assert spec.dates()[-1] == dt.date(2025, 12, 31)  # December, the uplift month, included


def test_small_covers_october_to_december(tmp_path):
    manifest = seed(tmp_path, "--dirty-rate", "0")
    assert manifest["spec"]["start"] == "2025-10-01" and manifest["spec"]["days"] == 92
    days = file_days(tmp_path)
    assert days[0] == "2025-10-01" and days[-1] == "2025-12-31" and len(days) == 92
    assert len(manifest["files"]) < 250  # was about 780 with a whole year


def test_larger_presets_cover_a_year(tmp_path):
    # --sales-lines keeps the run small; the period still follows --preset.
    manifest = seed(tmp_path, "--preset", "medium", "--sales-lines", "2000", "--dirty-rate", "0")
    assert manifest["spec"]["start"] == "2025-01-01" and manifest["spec"]["days"] == 365
    days = file_days(tmp_path, "inventory")  # a snapshot every day; a sale not every day here
    assert days[0] == "2025-01-01" and days[-1] == "2025-12-31" and len(days) == 365


def test_explicit_start_and_days_win(tmp_path):
    manifest = seed(tmp_path / "a", "--start", "2024-03-01", "--days", "10", "--sales-lines", "500")
    assert (manifest["spec"]["start"], manifest["spec"]["days"]) == ("2024-03-01", 10)
    assert file_days(tmp_path / "a") == [f"2024-03-{day:02d}" for day in range(1, 11)]
    only_days = seed(tmp_path / "b", "--days", "7", "--sales-lines", "500")
    assert (only_days["spec"]["start"], only_days["spec"]["days"]) == ("2025-10-01", 7)
    only_start = seed(tmp_path / "c", "--start", "2025-06-01", "--sales-lines", "500")
    assert (only_start["spec"]["start"], only_start["spec"]["days"]) == ("2025-06-01", 92)
