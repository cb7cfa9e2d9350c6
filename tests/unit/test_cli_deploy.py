"""deploy / plan / destroy through the CLI, with a recording fake terraform: approval rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retailake.cli import app
from retailake.config import load_environment
from tests.unit.conftest import plan_json

runner = CliRunner()

CHANGES = plan_json(
    ("module.lake.module.s3.aws_s3_bucket.raw", "aws_s3_bucket", ["delete", "create"]),
    ("module.lake.aws_sns_topic.this", "aws_sns_topic", ["create"]),
)


@pytest.fixture
def prod_with_changes(fake_terraform, tmp_path, monkeypatch):
    backend = tmp_path / "backend.hcl"
    backend.write_text('bucket = "state"\n')
    monkeypatch.setenv("RETAILAKE_BACKEND_CONFIG", str(backend))
    fake_terraform.answer("plan", exit=2)
    fake_terraform.answer("show", stdout=CHANGES)
    return fake_terraform


def changing(commands: list[str]) -> list[str]:
    """The commands in order, less `output`: a read, which runs beside the plan."""
    return [command for command in commands if command != "output"]


def invoke(*args: str, input: str | None = None):
    result = runner.invoke(app, list(args), input=input)
    return result, f"exit {result.exit_code}\n{result.output}"


def test_prod_deploy_without_a_terminal_or_flag_applies_nothing(prod_with_changes):
    result, shown = invoke("deploy", "--env", "prod")
    assert result.exit_code == 2, shown
    assert "needs an answer" in shown and "--auto-approve" in shown
    assert "apply" not in prod_with_changes.commands()
    assert "replace" in shown and "holds data" in shown  # the plan was shown first


def test_prod_deploy_declined_at_the_prompt_applies_nothing(prod_with_changes, monkeypatch):
    monkeypatch.setattr("retailake.cli.deploy.interactive", lambda: True)
    result, shown = invoke("deploy", "--env", "prod", input="n\n")
    assert result.exit_code == 1, shown
    assert "Nothing was applied" in shown
    assert changing(prod_with_changes.commands()) == ["init", "plan", "show"]


def test_prod_deploy_approved_applies_the_shown_plan(prod_with_changes, monkeypatch):
    uploads = []
    monkeypatch.setattr("retailake.cli.deploy.interactive", lambda: True)
    monkeypatch.setattr(
        "retailake.deploy.upload_etl_scripts", lambda env, outputs, d: uploads.append(env) or []
    )
    monkeypatch.setattr("retailake.deploy.ensure_pii_key", lambda env, outputs: False)
    prod_with_changes.answer(
        "output",
        stdout='{"buckets": {"value": {"scripts": "s"}}, "scripts_prefix": {"value": "etl/"}}',
    )
    result, shown = invoke("deploy", "--env", "prod", input="y\n")
    assert result.exit_code == 0, shown
    commands = prod_with_changes.commands()
    assert changing(commands) == ["init", "plan", "show", "apply"]
    assert commands[-1] == "output"  # read again after the apply
    calls = {call["argv"][0]: call["argv"] for call in prod_with_changes.calls}
    plan_file = next(a for a in calls["plan"] if a.startswith("-out="))
    assert calls["apply"][-1] == plan_file.removeprefix("-out=")
    assert [env.name for env in uploads] == ["prod"]


def test_deploy_without_changes_keeps_the_outputs_read_beside_the_plan(
    fake_terraform, monkeypatch
):
    saved = {}
    monkeypatch.setattr("retailake.deploy.emulator.ensure_running", lambda env: None)
    monkeypatch.setattr("retailake.deploy.emulator.flush", lambda env: None)
    monkeypatch.setattr("retailake.deploy.save_outputs", lambda env, o: saved.update(o))
    monkeypatch.setattr("retailake.deploy.upload_etl_scripts", lambda env, outputs, d: [])
    monkeypatch.setattr("retailake.deploy.ensure_pii_key", lambda env, outputs: False)
    fake_terraform.answer("plan", exit=0, await_="output")
    fake_terraform.answer(
        "output",
        stdout='{"buckets": {"value": {"scripts": "s"}}, "scripts_prefix": {"value": "etl/"}}',
    )
    result, shown = invoke("deploy", "--auto-approve")
    assert result.exit_code == 0, shown
    assert sorted(fake_terraform.commands()) == ["init", "output", "plan"]
    assert saved == {"buckets": {"scripts": "s"}, "scripts_prefix": "etl/"}
    # The CLI's variables travel in a file of the environment's, not a temporary file that
    # the other command, ending first, would delete.
    plan = next(call["argv"] for call in fake_terraform.calls if call["argv"][0] == "plan")
    given = Path(next(a for a in plan if a.startswith("-var-file=")).removeprefix("-var-file="))
    assert json.loads(given.read_text()) == {"endpoint_url": load_environment("local").endpoint_url}


def test_prod_destroy_needs_the_flag(prod_with_changes):
    result, shown = invoke("destroy", "--env", "prod", "--auto-approve")
    assert result.exit_code == 2, shown
    assert "--allow-prod" in shown
    assert prod_with_changes.commands() == []


def test_prod_destroy_needs_the_typed_name_even_with_auto_approve(prod_with_changes, monkeypatch):
    monkeypatch.setattr("retailake.cli.deploy.interactive", lambda: True)
    result, shown = invoke(
        "destroy", "--env", "prod", "--allow-prod", "--auto-approve", input="prdo\n"
    )
    assert result.exit_code == 1, shown
    assert "Nothing was destroyed" in shown
    assert "apply" not in prod_with_changes.commands()


def test_unknown_env_is_a_usage_error(fake_terraform):
    result, shown = invoke("plan", "--env", "staging")
    assert result.exit_code == 2, shown
    assert "unknown environment 'staging': choose one of local, dev, prod" in shown
    assert fake_terraform.commands() == []


def test_dev_without_backend_settings_is_a_usage_error(fake_terraform, monkeypatch, tmp_path):
    monkeypatch.setenv("RETAILAKE_BACKEND_CONFIG", str(tmp_path / "missing.hcl"))
    result, shown = invoke("plan", "--env", "dev")
    assert result.exit_code == 2, shown
    assert "no backend settings for 'dev'" in shown


def test_plan_json_for_machines(prod_with_changes):
    result, shown = invoke("plan", "--env", "prod", "--format", "json")
    assert result.exit_code == 0, shown
    assert '"data_loss": [\n    "module.lake.module.s3.aws_s3_bucket.raw"\n  ]' in result.stdout
