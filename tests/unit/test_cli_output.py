"""Machine output stays machine-readable whatever the terminal says about colour."""

from __future__ import annotations

import json

from rich.console import Console

from retailake.cli import common


def test_json_output_is_plain_even_where_colour_is_forced(monkeypatch, capsys):
    # what FORCE_COLOR makes of the data console, even when stdout is a pipe
    monkeypatch.setattr(common, "out", Console(force_terminal=True, color_system="truecolor"))
    common.print_json({"rows": 3, "table": "sales", "ok": True})
    text = capsys.readouterr().out
    assert "\x1b" not in text
    assert json.loads(text) == {"rows": 3, "table": "sales", "ok": True}


def test_a_stopped_twin_reads_as_words_not_python_values(monkeypatch):
    from typer.testing import CliRunner

    from retailake.cli import app

    monkeypatch.setenv("RETAILAKE_LOCAL_PORT", "1")  # nothing listens there
    result = CliRunner().invoke(app, ["local", "status"])
    assert result.exit_code == 0, result.output
    cells = {line.split("│")[1].strip(): line.split("│")[2].strip()
             for line in result.stdout.splitlines() if line.count("│") == 3}
    assert cells["running"] == "no" and cells["pid"] == "-"
    assert not {"False", "None"} & set(cells.values())
