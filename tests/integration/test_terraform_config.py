"""The bundled Terraform, checked by the real binary: formatting and validation of every
environment (provider from the mirror when this machine has one)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from retailake.config import ENVIRONMENTS, bundled_path
from retailake.terraform import cli_config_file, terraform_binary

pytestmark = pytest.mark.integration


def terraform(*args: str, cwd, tmp_path) -> subprocess.CompletedProcess:
    environ = dict(os.environ, TF_DATA_DIR=str(tmp_path / "tfdata"), TF_IN_AUTOMATION="1")
    config = cli_config_file(tmp_path)
    if config:
        environ["TF_CLI_CONFIG_FILE"] = str(config)
    return subprocess.run(
        [terraform_binary(), *args], cwd=cwd, env=environ, capture_output=True, text=True
    )


def test_terraform_is_formatted(tmp_path):
    done = terraform(
        "fmt", "-check", "-recursive", "-diff", cwd=bundled_path("terraform"), tmp_path=tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_environment_validates(environment, tmp_path):
    root = bundled_path("terraform") / "environments" / environment
    init = terraform(
        "init", "-backend=false", "-input=false", "-no-color", cwd=root, tmp_path=tmp_path
    )
    assert init.returncode == 0, init.stdout + init.stderr
    validate = terraform("validate", "-no-color", cwd=root, tmp_path=tmp_path)
    assert validate.returncode == 0, validate.stdout + validate.stderr


def test_a_plan_that_only_moves_a_resource_is_a_change(tmp_path):
    """The real binary's JSON for a `moved` block alone (terraform_data needs no provider)."""
    from retailake.plan import summarize_plan

    root = tmp_path / "root"
    root.mkdir()
    (root / "main.tf").write_text('resource "terraform_data" "first" {}\n')
    for step in (("init", "-input=false", "-no-color"), ("apply", "-auto-approve", "-no-color")):
        done = terraform(*step, cwd=root, tmp_path=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
    (root / "main.tf").write_text('resource "terraform_data" "second" {}\n'
                                  'moved {\n  from = terraform_data.first\n'
                                  '  to   = terraform_data.second\n}\n')  # fmt: skip
    plan = terraform("plan", "-out=moves.tfplan", "-detailed-exitcode", "-no-color", cwd=root,
                     tmp_path=tmp_path)  # fmt: skip
    assert plan.returncode == 2, plan.stdout + plan.stderr
    shown = terraform("show", "-json", "moves.tfplan", cwd=root, tmp_path=tmp_path)
    summary = summarize_plan(json.loads(shown.stdout))
    assert [(c.action, c.address) for c in summary.changes] == [("move", "terraform_data.second")]
