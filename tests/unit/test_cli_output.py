"""Machine output stays machine-readable whatever the terminal says about colour."""

from __future__ import annotations

import json

import pytest
from rich.console import Console
from typer.testing import CliRunner

from retailake.cli import app, common


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


def test_a_failure_quoting_brackets_is_shown_as_text(capsys):
    from retailake.cli.pipeline import explain_failures
    from retailake.local.glue.history import NodeError, NodeRun, PipelineRun

    message = "Connection refused [/127.0.0.1] reading s3a://raw/[x]/a.csv"
    failed = NodeRun("job", "transform-sales", 1, state="FAILED",
                     error=NodeError("IOException", message))  # fmt: skip
    explain_failures(PipelineRun("wr_1", "wf", state="FAILED", nodes=[failed], error="[/b]"))
    shown = capsys.readouterr().err
    assert f"job transform-sales failed: IOException: {message}" in shown
    assert "run wr_1 failed: [/b]" in shown


def test_a_flush_after_the_emulator_died_says_to_bring_it_up(monkeypatch):
    from retailake.config import load_environment
    from retailake.errors import EmulatorError
    from retailake.local import emulator

    monkeypatch.setenv("RETAILAKE_LOCAL_PORT", "1")  # nothing listens there
    with pytest.raises(EmulatorError, match=r"stopped while the command ran.*local up"):
        emulator.flush(load_environment("local"))


def test_ctrl_c_in_run_pipeline_shows_the_stopped_run_and_how_to_finish(monkeypatch):
    from typer.testing import CliRunner

    from retailake.cli import app
    from retailake.config import load_environment
    from retailake.local.glue import history
    from retailake.outputs import save_outputs

    env = load_environment("local")
    save_outputs(env, {"name_prefix": "rl"})
    monkeypatch.setattr("retailake.local.emulator.start", lambda env: None)

    def interrupted(env, outputs, on_event, full_refresh):
        stopped = history.NodeRun("job", "rl-transform-sales", 1, state="FAILED",
                                  error=history.NodeError("KeyboardInterrupt",
                                                          "interrupted by the user"))
        history.save_run(env, history.PipelineRun("wr_1", "wf", state="FAILED", nodes=[stopped],
                                                  full_refresh=full_refresh))
        raise KeyboardInterrupt

    monkeypatch.setattr("retailake.local.glue.runner.run_workflow", interrupted)
    result = CliRunner().invoke(app, ["run-pipeline", "--format", "json"])
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["run_id"] == "wr_1"
    assert json.loads(result.stdout)["exit_code"] == 1  # the documented failure shape
    assert "KeyboardInterrupt: interrupted by the user" in result.stderr
    assert "Interrupted: `retailake run-pipeline` finishes the work" in result.stderr
    # a full refresh is asked for again, or the rerun would only pick up what is new
    result = CliRunner().invoke(app, ["run-pipeline", "--full-refresh"])
    assert "Interrupted: `retailake run-pipeline --full-refresh` finishes" in result.stderr


def test_a_crawlers_warnings_are_shown_not_only_in_the_json(monkeypatch):
    """A crawler that catalogs a source's CSV objects and leaves its one JSON-lines object
    out of the raw table says so; the run still succeeds."""
    from typer.testing import CliRunner

    from retailake.cli import app
    from retailake.config import load_environment
    from retailake.local.glue import history
    from retailake.outputs import save_outputs

    save_outputs(load_environment("local"), {"name_prefix": "rl"})
    monkeypatch.setattr("retailake.local.emulator.start", lambda env: None)
    left_out = "customers: mixed formats {'csv': 14, 'json': 1}; cataloged as csv"

    def crawled(env, outputs, on_event, full_refresh):
        crawler = history.NodeRun("crawler", "rl-raw-customers", 0, state="SUCCEEDED",
                                  warnings=[left_out])
        return history.PipelineRun("wr_1", "wf", state="SUCCEEDED", nodes=[crawler])

    monkeypatch.setattr("retailake.local.glue.runner.run_workflow", crawled)
    for output_format in ("table", "json"):
        result = CliRunner().invoke(app, ["run-pipeline", "--format", output_format])
        assert result.exit_code == 0, result.output
        assert f"crawler rl-raw-customers: {left_out}" in result.stderr.replace("\n", " ")


def test_a_home_that_cannot_be_made_is_named_with_exit_2(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from retailake.cli import app

    (tmp_path / "afile").write_text("")
    monkeypatch.setenv("RETAILAKE_HOME", str(tmp_path / "afile" / "home"))
    result = CliRunner().invoke(app, ["local", "up"])
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: cannot use {tmp_path / 'afile' / 'home'}")
    assert "Not a directory" in result.output and "unexpected" not in result.output
    machine = CliRunner().invoke(app, ["seed-sample", "--output", str(tmp_path / "afile" / "out"),
                                       "--format", "json"])
    assert machine.exit_code == 2, machine.output
    said = machine.stderr.strip().removeprefix("error: ")
    assert said.startswith("cannot use ") and json.loads(machine.stdout)["error"] == said


def test_a_full_disk_is_a_failure_not_bad_usage(tmp_path, monkeypatch):
    import errno

    from typer.testing import CliRunner

    from retailake.cli import app

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "s" / "x.csv"))

    monkeypatch.setattr("retailake.sample.generate", full)
    result = CliRunner().invoke(app, ["seed-sample", "--output", str(tmp_path / "s")])
    assert result.exit_code == 1, result.output
    path = tmp_path / "s" / "x.csv"
    assert result.output == f"error: cannot use {path}: No space left on device\n"


@pytest.mark.parametrize(
    "argv",
    [["status", "--format", "json", "--bogus"], ["run-pipeline", "-f", "json", "--timeout", "0"],
     ["seed-sample", "--format=json", "--start", "2025-02-30"]],
)
def test_a_usage_error_under_format_json_is_one_json_document_too(argv, monkeypatch, capsys):
    from retailake.cli import main

    monkeypatch.setattr("sys.argv", ["retailake", *argv])
    with pytest.raises(SystemExit) as stop:
        main()
    assert stop.value.code == 2
    document = json.loads(capsys.readouterr().out)
    assert document["exit_code"] == 2 and document["error"]


def test_a_usage_error_without_json_prints_nothing_on_stdout(monkeypatch, capsys):
    from retailake.cli import main

    monkeypatch.setattr("sys.argv", ["retailake", "status", "--bogus"])
    with pytest.raises(SystemExit):
        main()
    captured = capsys.readouterr()
    assert captured.out == "" and "--bogus" in captured.err


def test_ctrl_c_in_a_command_without_its_own_words_ends_it_with_exit_1(monkeypatch):
    """ingest and seed-sample: a red line (and JSON) saying a rerun finishes, not a silent 130."""
    from typer.testing import CliRunner

    from retailake.cli import app

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("retailake.sample.generate", interrupted)
    result = CliRunner().invoke(app, ["seed-sample", "--output", "out", "--format", "json"])
    assert result.exit_code == 1, result.output
    assert "interrupted: nothing half-done counts as done; run the command again" in (
        result.stderr)
    assert json.loads(result.stdout)["exit_code"] == 1


@pytest.mark.parametrize(("stop", "sigint"), [
    ("SIGTERM", "default"), ("SIGTERM", "ignored"), ("SIGHUP", "default")])
def test_sigterm_and_sighup_are_taken_as_ctrl_c(tmp_path, stop, sigint):
    """A `kill` (or a CI timeout) or a closed terminal stops a command the way Ctrl-C does,
    with its words (Terraform stopped and waited for, not left running alone to die midway
    on its next write); also in a background job of a script, which starts with SIGINT
    ignored."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import sys, time\n"
        "from retailake.cli import app, main\n"
        "@app.command('wait-for-test')\n"
        "def wait() -> None:\n"
        "    try:  # the signal may come as soon as 'ready' is out\n"
        "        print('ready', flush=True)\n"
        "        time.sleep(30)\n"
        "    except KeyboardInterrupt:\n"
        "        print('interrupted', flush=True)\n"
        "        raise SystemExit(1)\n"
        "sys.argv = ['retailake', 'wait-for-test']\n"
        "main()\n"
    )
    env = dict(os.environ, RETAILAKE_HOME=str(tmp_path / "home"))
    inherited = signal.SIG_IGN if sigint == "ignored" else signal.SIG_DFL
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                               env=env, preexec_fn=lambda: signal.signal(signal.SIGINT, inherited))
    assert process.stdout is not None and process.stdout.readline() == "ready\n"
    began = time.monotonic()
    process.send_signal(getattr(signal, stop))
    assert process.wait(timeout=10) == 1
    assert process.stdout.read() == "interrupted\n" and time.monotonic() - began < 10


def test_ctrl_c_before_any_command_began_is_said_with_exit_1_too(monkeypatch, capsys):
    """Typer turns a Ctrl-C while Click still parses the command line into a silent 130."""
    import typer.core

    from retailake.cli import main

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(typer.core.TyperGroup, "make_context", interrupted)
    monkeypatch.setattr("sys.argv", ["retailake", "status", "--format", "json"])
    with pytest.raises(SystemExit) as stop:
        main()
    assert stop.value.code == 1
    captured = capsys.readouterr()
    assert "interrupted: nothing half-done counts as done" in captured.err
    assert json.loads(captured.out)["exit_code"] == 1


def test_output_into_a_closed_pipe_ends_quietly(tmp_path):
    """`retailake query ... | head -1`: the reader has what it wanted; no error for it."""
    import os
    import subprocess
    import sys

    command = [sys.executable, "-m", "retailake", "seed-sample", "--output", str(tmp_path / "s"),
               "--sales-lines", "200", "--days", "2", "--format", "json"]
    env = dict(os.environ, RETAILAKE_HOME=str(tmp_path / "home"))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before the command writes a byte
    said = process.stderr.read().decode()
    assert process.wait(timeout=60) == 1
    assert "BrokenPipeError" not in said and "error" not in said, said


def test_the_run_summary_lists_nodes_in_the_order_they_ran():
    from retailake.cli.pipeline import summary_table
    from retailake.local.glue import history

    def node(name: str, started: str | None) -> history.NodeRun:
        return history.NodeRun("job", f"rl-{name}", 1, state="SUCCEEDED" if started else "SKIPPED",
                               started_at=started)

    run = history.PipelineRun("wr_1", "wf", nodes=[
        node("customers", "2026-01-01T00:00:03+00:00"), node("never", None),
        node("sales", "2026-01-01T00:00:01+00:00"), node("inventory", "2026-01-01T00:00:02+00:00")])
    console = Console(width=120, record=True)
    console.print(summary_table(run, "rl"))
    text = console.export_text()
    assert [text.index(f"job {n}") for n in ("sales", "inventory", "customers", "never")] == sorted(
        text.index(f"job {n}") for n in ("sales", "inventory", "customers", "never"))


def test_seed_sample_refuses_prod_without_allow_prod_before_generating(monkeypatch):
    from typer.testing import CliRunner

    from retailake.cli import app

    def generate(*args, **kwargs):
        raise AssertionError("generated a sample for prod")

    monkeypatch.setattr("retailake.sample.generate", generate)
    result = CliRunner().invoke(app, ["seed-sample", "--env", "prod"])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: refusing to seed prod"), result.output
    allowed = CliRunner().invoke(app, ["seed-sample", "--env", "prod", "--allow-prod"])
    assert allowed.exit_code == 2, allowed.output  # it goes on, to prod's (missing) outputs
    assert allowed.output.startswith("error: environment 'prod' is not deployed"), allowed.output


@pytest.mark.parametrize(("port", "words"), [
    ("forty", "RETAILAKE_LOCAL_PORT must be a port number, not 'forty'"),
    ("70000", "RETAILAKE_LOCAL_PORT must be between 1 and 65535, not 70000"),
])
def test_a_bad_local_port_is_a_configuration_error(monkeypatch, port, words):
    monkeypatch.setenv("RETAILAKE_LOCAL_PORT", port)
    result = CliRunner().invoke(app, ["status"])
    assert result.exit_code == 2, result.output
    assert words in result.output
