"""The Terraform adapter: the command lines it sends and how it reads Terraform's answers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from retailake.config import load_environment
from retailake.errors import ConfigError, TerraformError
from retailake.terraform import Terraform, error_lines
from tests.unit.conftest import plan_json

ERROR_OUTPUT = """
Planning...
╷
│ Warning: Deprecated argument
│
│ something old
╵
╷
│ Error: creating S3 Bucket (x): BucketAlreadyExists
│
│   with module.lake.module.s3.aws_s3_bucket.raw,
│   on modules/s3/main.tf line 12, in resource "aws_s3_bucket" "raw":
╵
"""


def local_terraform(**kwargs) -> Terraform:
    return Terraform(load_environment("local"), {"endpoint_url": "http://127.0.0.1:1"}, **kwargs)


def test_error_lines_keeps_errors_and_drops_warnings():
    text = error_lines(ERROR_OUTPUT)
    assert text.startswith("Error: creating S3 Bucket (x): BucketAlreadyExists")
    assert "modules/s3/main.tf line 12" in text
    assert "Deprecated" not in text
    assert "│" not in text


def test_error_lines_keep_an_unboxed_error_whole_and_missing_credentials_get_a_hint(
    fake_terraform,
):
    plain = ("Initializing the backend...\n\nError: No valid credential sources found\n\n"
             "Please see the provider's docs\nfor more information.\n\n"
             "Error: failed to refresh cached credentials, no EC2 IMDS role found,\n"
             "operation error ec2imds: GetMetadata, request canceled\n")
    assert error_lines(plain) == (
        "Error: No valid credential sources found\nPlease see the provider's docs\n"
        "for more information.\n\nError: failed to refresh cached credentials, no EC2 IMDS "
        "role found,\noperation error ec2imds: GetMetadata, request canceled")
    fake_terraform.answer("init", stdout="Initializing provider plugins...\n", stderr=plain,
                          exit=1)
    with pytest.raises(TerraformError, match="set AWS_PROFILE") as raised:
        local_terraform().init()
    assert "Initializing" not in str(raised.value)  # stdout's progress is no part of it


def test_error_lines_falls_back_to_the_tail():
    assert error_lines("a\nb\n\nfatal: no config\n") == "a\nb\nfatal: no config"


def test_init_runs_once_until_its_inputs_change(fake_terraform, monkeypatch, tmp_path):
    assert local_terraform().init() is True
    assert local_terraform().init() is False
    assert fake_terraform.commands() == ["init"]
    argv = fake_terraform.calls[0]["argv"]
    state = load_environment("local").state_dir / "terraform.tfstate"
    assert f"-backend-config=path={state}" in argv
    assert "-reconfigure" in argv
    monkeypatch.setenv("RETAILAKE_HOME", str(tmp_path / "elsewhere"))
    assert local_terraform().init() is True


def test_init_runs_again_when_the_configuration_or_mirror_changes(fake_terraform, monkeypatch,
                                                                   tmp_path):
    """Same home, same stamp: only what init reads has changed."""
    import shutil

    from retailake import config

    tree = tmp_path / "terraform"
    shutil.copytree(config.bundled_path("terraform"), tree)
    monkeypatch.setattr("retailake.config.bundled_path",
                        lambda name: tree if name == "terraform" else None)
    assert local_terraform().init() is True
    assert local_terraform().init() is False
    module = next((tree / "modules").rglob("*.tf"))
    module.write_text(module.read_text() + "\n# a change to the configuration\n")
    assert local_terraform().init() is True
    assert local_terraform().init() is False
    mirror = tmp_path / "another-mirror"
    mirror.mkdir()
    monkeypatch.setenv("RETAILAKE_TF_PLUGIN_MIRROR", str(mirror))
    assert local_terraform().init() is True
    assert fake_terraform.commands() == ["init"] * 3


def test_mirror_is_written_into_a_cli_config(fake_terraform, monkeypatch, tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    monkeypatch.setenv("RETAILAKE_TF_PLUGIN_MIRROR", str(mirror))
    local_terraform().init()
    config = Path(fake_terraform.calls[-1]["cli_config"])
    assert f'path = "{mirror}"' in config.read_text()
    assert fake_terraform.calls[-1]["tf_data_dir"].endswith("local/tfdata")


def test_a_mirror_that_is_no_folder_is_a_config_error(fake_terraform, monkeypatch, tmp_path):
    monkeypatch.setenv("RETAILAKE_TF_PLUGIN_MIRROR", str(tmp_path / "not-there"))
    with pytest.raises(ConfigError, match=r"MIRROR is .*not-there, which is no"):
        local_terraform().init()
    assert fake_terraform.commands() == []


def test_no_mirror_leaves_the_users_cli_config(fake_terraform, monkeypatch):
    monkeypatch.setenv("RETAILAKE_TF_PLUGIN_MIRROR", "")
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", "/users/own.tfrc")
    local_terraform().init()
    assert fake_terraform.calls[-1]["cli_config"] == "/users/own.tfrc"


def test_plan_with_changes_is_saved_and_summarised(fake_terraform):
    fake_terraform.answer("plan", stdout="Plan: 1 to add", exit=2)
    fake_terraform.answer(
        "show", stdout=plan_json(("aws_s3_bucket.raw", "aws_s3_bucket", ["create"]))
    )
    plan = local_terraform().plan()
    assert plan.summary.count("create") == 1
    argv = fake_terraform.calls[0]["argv"]
    assert argv[0] == "plan"
    assert "-detailed-exitcode" in argv and f"-out={plan.path}" in argv
    assert not any(arg.startswith("-auto-approve") or arg == "-destroy" for arg in argv)
    assert argv[-1] == "-var=endpoint_url=http://127.0.0.1:1"  # after any -var-file: it wins
    assert fake_terraform.calls[1]["argv"][:2] == ["show", "-json"]


def test_plan_without_changes_skips_show(fake_terraform):
    fake_terraform.answer("plan", stdout="No changes.", exit=0)
    plan = local_terraform().plan(destroy=True)
    assert not plan.summary.has_changes
    assert fake_terraform.commands() == ["plan"]
    assert "-destroy" in fake_terraform.calls[0]["argv"]


def test_plan_failure_raises_with_the_error_lines(fake_terraform):
    fake_terraform.answer("plan", stderr=ERROR_OUTPUT, exit=1)
    with pytest.raises(TerraformError) as raised:
        local_terraform().plan()
    assert "BucketAlreadyExists" in str(raised.value)
    assert "Deprecated" not in str(raised.value)


def test_undeclared_variable_in_a_var_file_is_refused(fake_terraform, tmp_path):
    var_file = tmp_path / "mine.tfvars"
    var_file.write_text('endpoint_urll = "x"\n')
    # Terraform 1.11's wording, wrapped as it prints it
    warning = (
        "No changes.\n\nWarning: Value for undeclared variable\n\n"
        'The root module does not declare a variable named "endpoint_urll" but a value\n'
        f'was found in file "{var_file}". If you meant to use this value, add a\n'
        '"variable" block to the configuration.\n'
    )
    fake_terraform.answer("plan", stdout=warning, exit=0)
    with pytest.raises(ConfigError) as raised:
        local_terraform(var_files=[var_file]).plan()
    message = str(raised.value)
    assert f"'endpoint_urll' in {var_file} (did you mean 'endpoint_url'?)" in message
    assert "nothing was changed" in message
    assert "show" not in fake_terraform.commands()


@pytest.mark.parametrize(("line", "error"), [
    ("name_prefix =", "Invalid expression"),
    ("kms_deletion_window_days = \"two\"", "Invalid value for input variable"),
])
def test_a_var_file_terraform_cannot_take_is_a_config_error(fake_terraform, tmp_path, line, error):
    var_file = tmp_path / "mine.tfvars"
    var_file.write_text(line + "\n")
    # Terraform 1.11's diagnostic, as it prints it
    fake_terraform.answer("plan", stderr=f"\nError: {error}\n\n  on {var_file} line 1:\n"
                          f"   1: {line}\n\nExpected something else.\n", exit=1)
    with pytest.raises(ConfigError) as raised:
        local_terraform(var_files=[var_file]).plan()
    assert str(raised.value).startswith(f"variables file {var_file} is not valid: nothing was")
    assert error in str(raised.value)


def test_a_plan_that_failed_elsewhere_is_not_blamed_on_a_var_file_named_in_a_warning(
    fake_terraform, tmp_path
):
    var_file = tmp_path / "mine.tfvars"
    var_file.write_text('endpoint_urll = "x"\n')
    fake_terraform.answer("plan", exit=1, stderr=(
        f"\nWarning: Value for undeclared variable\n\n  on {var_file} line 1:\n\n"
        "Error: reading S3 Bucket (b): connection refused\n"))  # fmt: skip
    with pytest.raises(TerraformError, match="connection refused"):
        local_terraform(var_files=[var_file]).plan()


def test_missing_var_file_is_a_config_error(fake_terraform, tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        local_terraform(var_files=[tmp_path / "nope.tfvars"])


def test_apply_runs_the_saved_plan_without_approval_flags(fake_terraform):
    fake_terraform.answer("plan", exit=2)
    fake_terraform.answer(
        "show", stdout=plan_json(("aws_sns_topic.t", "aws_sns_topic", ["update"]))
    )
    terraform = local_terraform()
    plan = terraform.plan()
    terraform.apply(plan)
    argv = fake_terraform.calls[-1]["argv"]
    assert argv[0] == "apply" and argv[-1] == str(plan.path)
    assert not any(a.startswith(("-auto-approve", "-force", "-var")) for a in argv)
    assert not plan.path.exists()


def test_outputs_are_values(fake_terraform):
    fake_terraform.answer(
        "output", stdout=json.dumps({"region": {"value": "us-east-1", "sensitive": False}})
    )
    assert local_terraform().outputs() == {"region": "us-east-1"}


def test_missing_terraform_binary(monkeypatch):
    monkeypatch.setenv("RETAILAKE_TERRAFORM_BIN", "terraform-that-does-not-exist")
    with pytest.raises(ConfigError, match="not found on PATH"):
        local_terraform()


def test_a_held_state_lock_says_what_to_do(fake_terraform):
    fake_terraform.answer("plan", stderr="╷\n│ Error: Error acquiring the state lock\n╵\n", exit=1)
    with pytest.raises(TerraformError) as raised:
        local_terraform().plan()
    assert "Another command holds the state lock of 'local'" in str(raised.value)


def test_each_process_plans_into_its_own_file_and_clears_dead_ones(fake_terraform):
    fake_terraform.answer("plan", exit=0)
    state_dir = load_environment("local").state_dir
    state_dir.mkdir(parents=True, exist_ok=True)
    dead, alive = state_dir / "deploy-999999999.tfplan", state_dir / "deploy-1.tfplan"
    dead.write_text("a crashed run's plan")
    alive.write_text("another command's plan, still in use")
    plan = local_terraform().plan()
    assert plan.path.name == f"deploy-{os.getpid()}.tfplan"
    assert not dead.exists() and alive.exists()


def test_ctrl_c_stops_terraform_as_its_own_would_and_waits_for_it(
    fake_terraform, tmp_path, monkeypatch
):
    marker = tmp_path / "interrupted"
    fake_terraform.answer("apply", until_interrupted=str(marker))
    seen: list[str] = []

    def ctrl_c_on_first_line(line: str) -> None:  # as a Ctrl-C while Terraform works would
        seen.append(line)
        if len(seen) == 1:
            raise KeyboardInterrupt

    terraform = local_terraform(on_line=ctrl_c_on_first_line)
    with pytest.raises(TerraformError, match="interrupted: terraform apply stopped, keeping "
                       "what it had done in the state; run the command again to finish"):
        terraform._run("apply", "plan.tfplan")
    assert marker.read_text() == "1 SIGINT"  # exactly one: a second makes Terraform quit
    # Terraform behind a wrapper script (a version manager's shim) gets it too
    wrapper = tmp_path / "terraform-shim"
    wrapper.write_text(f'#!/bin/bash\n"{os.environ["RETAILAKE_TERRAFORM_BIN"]}" "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("RETAILAKE_TERRAFORM_BIN", str(wrapper))
    seen.clear()
    marker.unlink()
    with pytest.raises(TerraformError, match="interrupted"):
        local_terraform(on_line=ctrl_c_on_first_line)._run("apply", "plan.tfplan")
    assert marker.read_text() == "1 SIGINT"


def test_a_plan_file_is_private_and_left_nowhere_when_the_plan_fails(fake_terraform):
    """A saved plan holds variable values in clear."""
    state_dir = load_environment("local").state_dir
    fake_terraform.answer("plan", exit=2)
    fake_terraform.answer("show", stdout=plan_json(("aws_sns_topic.t", "aws_sns_topic",
                                                    ["update"])))  # fmt: skip
    plan = local_terraform().plan()
    assert plan.path.stat().st_mode & 0o777 == 0o600
    plan.path.unlink()
    fake_terraform.answer("show", stderr="Error: plan file corrupt", exit=1)
    with pytest.raises(TerraformError, match="show"):
        local_terraform().plan()
    fake_terraform.answer("show", stdout=json.dumps({"resource_changes": []}))
    with pytest.raises(TerraformError, match="cannot summarise"):  # changes it cannot show
        local_terraform().plan()
    assert list(state_dir.glob("*.tfplan")) == []


def test_sensitive_outputs_are_never_kept(fake_terraform):
    fake_terraform.answer("output", stdout=json.dumps({
        "region": {"value": "us-east-1", "sensitive": False},
        "admin_password": {"value": "hunter2", "sensitive": True}}))
    assert local_terraform().outputs() == {"region": "us-east-1"}


def test_init_runs_again_when_the_backend_file_changes(fake_terraform, monkeypatch, tmp_path):
    """A backend file may live outside the bundled tree (RETAILAKE_BACKEND_CONFIG)."""
    backend = tmp_path / "prod-backend.hcl"
    backend.write_text('bucket = "old-state"\n')
    monkeypatch.setenv("RETAILAKE_BACKEND_CONFIG", str(backend))
    dev = Terraform(load_environment("dev"), {})
    assert dev.init() is True and dev.init() is False
    backend.write_text('bucket = "new-state"\n')
    assert dev.init() is True
