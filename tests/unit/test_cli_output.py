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
