"""deploy / plan / destroy through the CLI, with a recording fake terraform: approval rules."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retailake import deploy as deploy_module
from retailake.cli import app
from retailake.config import load_environment
from tests.unit.conftest import plan_json

runner = CliRunner()

CHANGES = plan_json(
    ("module.lake.module.s3.aws_s3_bucket.raw", "aws_s3_bucket", ["delete", "create"]),
    ("module.lake.aws_sns_topic.this", "aws_sns_topic", ["create"]),
)


@pytest.fixture
def aws_with_changes(fake_terraform, tmp_path, monkeypatch):
    """dev or prod (a backend file given), with a plan that changes things."""
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


def test_prod_deploy_without_a_terminal_or_flag_applies_nothing(aws_with_changes):
    result, shown = invoke("deploy", "--env", "prod")
    assert result.exit_code == 2, shown
    assert "error: \"Apply these changes to 'prod'?\" needs an answer" in shown, shown
    assert "`retailake deploy --env prod --plan-file FILE`" in " ".join(shown.split())
    assert "--auto-approve" not in shown  # which prod refuses
    assert "apply" not in aws_with_changes.commands()
    assert "replace" in shown and "holds data" in shown  # the plan was shown first
    result, shown = invoke("deploy", "--env", "prod", "--format", "json")
    assert result.exit_code == 2, shown
    assert json.loads(result.stdout)["plan"]["replace"] == 1  # a machine sees the plan too


def test_prod_deploy_declined_at_the_prompt_applies_nothing(aws_with_changes, monkeypatch):
    monkeypatch.setattr("retailake.cli.deploy.interactive", lambda: True)
    result, shown = invoke("deploy", "--env", "prod", "-f", "json", input="n\n")
    assert result.exit_code == 1, shown
    assert "Nothing was applied" in result.stderr
    document = json.loads(result.stdout[result.stdout.index("{"):])  # after the echoed "n"
    assert (document["applied"], document["exit_code"]) == (False, 1)
    assert document["plan"]["replace"] == 1
    assert changing(aws_with_changes.commands()) == ["init", "plan", "show"]


def test_prod_deploy_approved_applies_the_shown_plan(aws_with_changes, monkeypatch):
    uploads = []
    monkeypatch.setattr("retailake.cli.deploy.interactive", lambda: True)
    monkeypatch.setattr(
        "retailake.deploy.upload_scripts", lambda env, outputs, d: uploads.append(env) or []
    )
    monkeypatch.setattr("retailake.deploy.ensure_pii_key", lambda env, outputs: False)
    aws_with_changes.answer(
        "output",
        stdout='{"buckets": {"value": {"scripts": "s"}}, "scripts_prefix": {"value": "etl/"}}',
    )
    result, shown = invoke("deploy", "--env", "prod", input="y\n")
    assert result.exit_code == 0, shown
    commands = aws_with_changes.commands()
    assert changing(commands) == ["init", "plan", "show", "apply"]
    assert commands[-1] == "output"  # read again after the apply
    calls = {call["argv"][0]: call["argv"] for call in aws_with_changes.calls}
    plan_file = next(a for a in calls["plan"] if a.startswith("-out="))
    assert calls["apply"][-1] == plan_file.removeprefix("-out=")
    assert [env.name for env in uploads] == ["prod"]


@pytest.fixture
def deployed_twin(fake_terraform, monkeypatch) -> dict:
    """A local twin with state, its AWS side stubbed out; what deploy saves as outputs."""
    saved: dict = {}
    monkeypatch.setattr("retailake.deploy.emulator.start", lambda env: None)
    monkeypatch.setattr("retailake.deploy.emulator.flush", lambda env: None)
    monkeypatch.setattr("retailake.deploy.save_outputs", lambda env, o: saved.update(o))
    monkeypatch.setattr("retailake.deploy.upload_scripts", lambda env, outputs, d: [])
    monkeypatch.setattr("retailake.deploy.ensure_pii_key", lambda env, outputs: False)
    monkeypatch.setattr("retailake.deploy.scripts_to_upload", lambda env, artifacts: ())
    state = load_environment("local").state_dir / "terraform.tfstate"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text("{}")
    fake_terraform.answer("output", stdout=[
        '{"buckets": {"value": {"scripts": "s"}}, "scripts_prefix": {"value": "etl/"}}',
        '{"buckets": {"value": {"scripts": "later"}}, "scripts_prefix": {"value": "etl/"}}',
    ])  # fmt: skip
    return saved


def test_deploy_without_changes_keeps_the_outputs_read_beside_the_plan(
    fake_terraform, deployed_twin
):
    fake_terraform.answer("plan", exit=0, await_="output")
    result, shown = invoke("deploy", "--auto-approve")
    assert result.exit_code == 0, shown
    assert sorted(fake_terraform.commands()) == ["init", "output", "plan"]
    assert deployed_twin == {"buckets": {"scripts": "s"}, "scripts_prefix": "etl/"}
    plan = next(call["argv"] for call in fake_terraform.calls if call["argv"][0] == "plan")
    assert f"-var=endpoint_url={load_environment('local').endpoint_url}" in plan


def test_outputs_are_read_again_when_the_state_changed_during_the_plan(
    fake_terraform, deployed_twin
):
    # Another command wrote the state while this plan waited for its lock: the outputs read
    # beside the plan may be older than what the plan found unchanged.
    state = load_environment("local").state_dir / "terraform.tfstate"
    fake_terraform.answer("plan", exit=0, await_="output", touch=str(state))
    result, shown = invoke("deploy", "--auto-approve")
    assert result.exit_code == 0, shown
    assert sorted(fake_terraform.commands()) == ["init", "output", "output", "plan"]
    assert deployed_twin["buckets"] == {"scripts": "later"}


def test_prod_destroy_needs_the_flag(aws_with_changes):
    result, shown = invoke("destroy", "--env", "prod", "--auto-approve")
    assert result.exit_code == 2, shown
    assert "--allow-prod" in shown
    assert aws_with_changes.commands() == []


def test_prod_destroy_needs_the_typed_name_even_with_auto_approve(aws_with_changes, monkeypatch):
    monkeypatch.setattr("retailake.cli.deploy.interactive", lambda: True)
    result, shown = invoke(
        "destroy", "--env", "prod", "--allow-prod", "--auto-approve", input="prdo\n"
    )
    assert result.exit_code == 1, shown
    assert "Nothing was destroyed" in shown
    assert "apply" not in aws_with_changes.commands()


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


def test_plan_json_for_machines(aws_with_changes):
    result, shown = invoke("plan", "--env", "prod", "--format", "json")
    assert result.exit_code == 0, shown
    assert '"data_loss": [\n    "module.lake.module.s3.aws_s3_bucket.raw"\n  ]' in result.stdout


def test_outputs_are_read_again_after_an_apply(fake_terraform, deployed_twin):
    fake_terraform.answer("plan", exit=2, await_="output")
    fake_terraform.answer("show", stdout=CHANGES)
    result, shown = invoke("deploy", "--auto-approve")
    assert result.exit_code == 0, shown
    assert changing(fake_terraform.commands()) == ["init", "plan", "show", "apply"]
    assert fake_terraform.commands()[-1] == "output"
    assert deployed_twin["buckets"] == {"scripts": "later"}  # not what the plan saw beside it


def test_outputs_are_saved_after_an_apply_that_failed_halfway(fake_terraform, deployed_twin,
                                                              monkeypatch):
    """What the failed apply did create is in the state, and in the emulator's saved state:
    later commands see it, even after the emulator is killed."""
    flushed: list[str] = []
    monkeypatch.setattr("retailake.deploy.emulator.flush", lambda env: flushed.append(env.name))
    monkeypatch.setattr("retailake.deploy.emulator.gone", lambda env: False)
    fake_terraform.answer("plan", exit=2, await_="output")
    fake_terraform.answer("show", stdout=CHANGES)
    fake_terraform.answer("apply", stderr="Error: creating Glue Job: AccessDenied", exit=1)
    result, shown = invoke("deploy", "--auto-approve")
    assert result.exit_code == 1, shown
    assert "AccessDenied" in shown
    assert deployed_twin["buckets"] == {"scripts": "later"}
    assert flushed == ["local"]


def test_a_destroy_that_failed_halfway_saves_what_it_did_destroy(fake_terraform, deployed_twin,
                                                                 monkeypatch):
    flushed: list[str] = []
    monkeypatch.setattr("retailake.deploy.emulator.flush", lambda env: flushed.append(env.name))
    monkeypatch.setattr("retailake.deploy.emulator.gone", lambda env: False)
    fake_terraform.answer("plan", exit=2)
    fake_terraform.answer("show", stdout=plan_json(
        ("module.lake.aws_sns_topic.this", "aws_sns_topic", ["delete"])))
    fake_terraform.answer("apply", stderr="Error: deleting SNS Topic: AccessDenied", exit=1)
    result, shown = invoke("destroy", "--auto-approve")
    assert result.exit_code == 1, shown
    assert "AccessDenied" in shown
    assert flushed == ["local"]


def test_the_totals_name_the_outputs_only_when_they_are_all_that_changes():
    from retailake.cli.deploy import plan_totals
    from retailake.plan import PlanSummary, ResourceChange

    bucket = ResourceChange("aws_s3_bucket.raw", "aws_s3_bucket", "create")
    assert plan_totals(PlanSummary((bucket,), ("a", "b"))).endswith(
        "0 to delete[/], 2 outputs to change")
    assert plan_totals(PlanSummary((), ("a",))).endswith("1 output to change (a)")


def test_destroy_forgets_the_lakes_history_and_warehouse_copy(aws_with_changes):
    # so that `status` of a lake deployed again does not report the old one's runs
    env = load_environment("dev")
    kept = [env.state_dir / "pipeline" / "runs" / "r1.json",
            env.state_dir / "warehouse" / "warehouse.duckdb"]
    for path in kept:
        path.parent.mkdir(parents=True)
        path.write_text("{}")
    result, shown = invoke("destroy", "--env", "dev", "--auto-approve")
    assert result.exit_code == 0, shown
    assert "apply" in aws_with_changes.commands()
    assert not (env.state_dir / "pipeline").exists()
    assert not (env.state_dir / "warehouse").exists()


def test_destroy_tells_a_machine_what_it_destroyed_or_that_it_was_declined(aws_with_changes,
                                                                           monkeypatch):
    monkeypatch.setattr("retailake.cli.deploy.interactive", lambda: True)
    aws_with_changes.answer("show", stdout=plan_json(
        ("module.lake.aws_sns_topic.this", "aws_sns_topic", ["delete"]),
        ("module.lake.module.s3.aws_s3_bucket.raw", "aws_s3_bucket", ["delete"])))
    result, shown = invoke("destroy", "--env", "dev", "--format", "json", input="n\n")
    assert result.exit_code == 1, shown
    declined = json.loads(result.stdout[result.stdout.index("{"):])  # after the echoed "n"
    assert (declined["applied"], declined["destroyed"], declined["exit_code"]) == (False, 0, 1)
    assert declined["plan"]["data_loss"] == ["module.lake.module.s3.aws_s3_bucket.raw"]
    assert "apply" not in aws_with_changes.commands()
    result, shown = invoke("destroy", "--env", "dev", "--auto-approve", "--format", "json")
    assert result.exit_code == 0, shown
    done = json.loads(result.stdout)
    assert (done["environment"], done["applied"], done["destroyed"]) == ("dev", True, 2)
    assert "error" not in done and "Destroyed 'dev': 2 resources." in result.stderr


def test_a_destroy_stopped_at_the_question_leaves_no_plan_file(aws_with_changes):
    env = load_environment("dev")

    def ctrl_c(_summary) -> bool:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        deploy_module.destroy(env, ctrl_c)
    assert "apply" not in aws_with_changes.commands()
    assert list(env.state_dir.glob("*.tfplan")) == []


def test_aws_calls_go_to_the_region_terraform_deployed_to(aws_with_changes, monkeypatch):
    """A --var-file may deploy elsewhere than the shell's AWS_REGION: the secret and the
    scripts are set up there, and later commands find the lake there."""
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    assert load_environment("prod").region == "us-west-2"  # nothing deployed yet
    regions = []
    monkeypatch.setattr("retailake.cli.deploy.interactive", lambda: True)
    monkeypatch.setattr("retailake.deploy.upload_scripts",
                        lambda env, outputs, d: regions.append(env.region) or [])
    monkeypatch.setattr("retailake.deploy.ensure_pii_key",
                        lambda env, outputs: regions.append(env.region) or False)
    aws_with_changes.answer("output", stdout=json.dumps({
        "region": {"value": "eu-west-1"}, "buckets": {"value": {"scripts": "s"}},
        "scripts_prefix": {"value": "etl/"}}))
    result, shown = invoke("deploy", "--env", "prod", input="y\n")
    assert result.exit_code == 0, shown
    assert regions == ["eu-west-1", "eu-west-1"]
    assert load_environment("prod").region == "eu-west-1"
    assert load_environment("local").region == "us-east-1"


@pytest.fixture
def prod_scripts_changed(fake_terraform, tmp_path, monkeypatch):
    """prod with nothing for Terraform to do, but one ETL script edited since the last deploy."""
    backend = tmp_path / "backend.hcl"
    backend.write_text('bucket = "state"\n')
    monkeypatch.setenv("RETAILAKE_BACKEND_CONFIG", str(backend))
    fake_terraform.answer("plan", exit=0)
    fake_terraform.answer("output", stdout=json.dumps({
        "buckets": {"value": {"scripts": "s"}}, "scripts_prefix": {"value": "etl/"}}))
    uploaded: list[list[str]] = []
    monkeypatch.setattr("retailake.deploy.scripts_to_upload",
                        lambda env, artifacts: ("transform_raw.py",))
    monkeypatch.setattr("retailake.deploy.upload_scripts",
                        lambda env, outputs, artifacts: uploaded.append(sorted(artifacts)) or [])
    monkeypatch.setattr("retailake.deploy.ensure_pii_key", lambda env, outputs: False)
    return uploaded


def test_a_changed_etl_script_is_a_change_prod_must_approve(prod_scripts_changed, monkeypatch):
    """The scripts are code the lake runs on customers' data: no upload to prod unasked."""
    result, shown = invoke("deploy", "--env", "prod", "--format", "json")
    assert result.exit_code == 2, shown
    assert "1 ETL script to upload (transform_raw.py)" in result.stderr
    assert json.loads(result.stdout)["plan"]["scripts"] == ["transform_raw.py"]
    assert prod_scripts_changed == []  # nothing uploaded
    monkeypatch.setattr("retailake.cli.deploy.interactive", lambda: True)
    result, shown = invoke("deploy", "--env", "prod", input="n\n")
    assert result.exit_code == 1 and prod_scripts_changed == [], shown
    result, shown = invoke("deploy", "--env", "prod", input="y\n")
    assert result.exit_code == 0, shown
    assert prod_scripts_changed == [["analytics_aggregation.py", "retailake_etl.zip",
                                     "transform_raw.py"]]  # fmt: skip


def test_plan_shows_the_etl_scripts_a_deploy_would_upload(prod_scripts_changed):
    result, shown = invoke("plan", "--env", "prod")
    assert result.exit_code == 0, shown
    assert "1 ETL script to upload (transform_raw.py)" in result.stdout


def test_auto_approve_never_reaches_prod_which_asks_before_every_apply(
    aws_with_changes, monkeypatch
):
    """Named or exported (RETAILAKE_ENV=prod under `make demo`'s --auto-approve), prod is not
    applied unasked: the error names the reviewed-plan way. dev takes the flag."""
    for argv in (["deploy", "--auto-approve"], ["deploy", "--env", "prod", "--auto-approve"]):
        monkeypatch.setenv("RETAILAKE_ENV", "prod")
        result, shown = invoke(*argv)
        assert result.exit_code == 2, shown
        assert "prod asks before every apply: --auto-approve does not reach it" in shown
        assert "retailake deploy --env prod --plan-file FILE" in " ".join(shown.split())
    assert aws_with_changes.commands() == []  # nothing planned, nothing applied
    monkeypatch.delenv("RETAILAKE_ENV")
    monkeypatch.setattr("retailake.deploy.upload_scripts", lambda env, outputs, artifacts: [])
    monkeypatch.setattr("retailake.deploy.ensure_pii_key", lambda env, outputs: False)
    aws_with_changes.answer("output", stdout='{"buckets": {"value": {"scripts": "s"}}, '
                                              '"scripts_prefix": {"value": "etl/"}}')
    result, shown = invoke("deploy", "--env", "dev", "--auto-approve")
    assert result.exit_code == 0, shown
    assert "apply" in aws_with_changes.commands()


@pytest.fixture
def etl_scripts(tmp_path, monkeypatch):
    """The ETL scripts deploy builds and uploads, in a folder a test may edit."""
    folder = tmp_path / "etl_scripts"
    (folder / "pkg").mkdir(parents=True)
    (folder / "job.py").write_text("print('v1')\n")
    (folder / "pkg" / "__init__.py").write_text("")
    monkeypatch.setattr("retailake.deploy.bundled_path", lambda name: folder)
    monkeypatch.setattr("retailake.deploy.scripts_to_upload", lambda env, artifacts: ())
    return folder


def test_a_plan_saved_for_review_is_applied_as_it_is_without_a_prompt(
    aws_with_changes, etl_scripts, tmp_path, monkeypatch
):
    uploaded: list[list[str]] = []
    monkeypatch.setattr("retailake.deploy.upload_scripts",
                        lambda env, outputs, artifacts: uploaded.append(sorted(artifacts)) or [])
    monkeypatch.setattr("retailake.deploy.ensure_pii_key", lambda env, outputs: False)
    aws_with_changes.answer("output", stdout='{"buckets": {"value": {"scripts": "s"}}, '
                                              '"scripts_prefix": {"value": "etl/"}}')
    saved = tmp_path / "prod.plan"
    for earlier in (saved, tmp_path / ".prod.plan.partial"):  # readable by all: replaced
        earlier.write_text("an earlier file")
        earlier.chmod(0o644)
    result, shown = invoke("plan", "--env", "prod", "--out", str(saved))
    assert result.exit_code == 0, shown
    assert "replace" in result.stdout  # what the reviewer reads
    assert saved.stat().st_mode & 0o777 == 0o600  # a plan holds the configuration's values
    assert not list(load_environment("prod").state_dir.glob("*.tfplan"))  # no copy left
    digest = hashlib.sha256(saved.read_bytes()).hexdigest()
    assert f"(SHA-256 {digest})" in result.stderr  # for the reviewer to compare
    # no terminal; --auto-approve beside a reviewed plan adds nothing, and is no refusal
    result, shown = invoke("deploy", "--env", "prod", "--plan-file", str(saved), "--auto-approve")
    assert result.exit_code == 0, shown
    assert f"Applying {saved} (SHA-256 {digest})" in " ".join(result.stderr.split())
    assert changing(aws_with_changes.commands()) == ["init", "plan", "show", "show", "apply"]
    applied = next(call["argv"] for call in aws_with_changes.calls if call["argv"][0] == "apply")
    assert applied[-1].endswith(".tfplan") and not Path(applied[-1]).exists()  # then deleted
    with zipfile.ZipFile(saved) as archive:
        assert archive.read("terraform.tfplan") == b"fake plan"  # what the plan wrote
    assert "replace" in result.stderr  # shown again as it is applied
    assert uploaded == [["job.py", "pkg.zip"]]


def test_a_saved_plan_is_refused_for_another_env_with_other_scripts_or_variables(
    aws_with_changes, etl_scripts, tmp_path
):
    saved = tmp_path / "prod.plan"
    assert invoke("plan", "--env", "prod", "--out", str(saved))[0].exit_code == 0
    result, shown = invoke("deploy", "--env", "dev", "--plan-file", str(saved))
    assert result.exit_code == 2, shown
    assert f"{saved} was planned for 'prod', not 'dev': nothing was applied" in " ".join(
        shown.split())
    result, shown = invoke("deploy", "--env", "prod", "--plan-file", str(saved),
                           "--var-file", str(tmp_path / "x.tfvars"))  # fmt: skip
    assert result.exit_code == 2 and "--var-file does not go with --plan-file" in shown, shown
    (etl_scripts / "job.py").write_text("print('v2')\n")  # edited after the review
    result, shown = invoke("deploy", "--env", "prod", "--plan-file", str(saved))
    assert result.exit_code == 2, shown
    assert "the ETL scripts changed since" in shown and "(job.py)" in shown, shown
    missing = tmp_path / "no-such-folder" / "prod.plan"
    result, shown = invoke("plan", "--env", "prod", "--out", str(missing))
    assert result.exit_code == 2 and f"no folder {missing.parent}" in shown, shown
    (tmp_path / "junk.plan").write_text("not a zip")
    result, shown = invoke("deploy", "--env", "prod", "--plan-file", str(tmp_path / "junk.plan"))
    assert result.exit_code == 2 and "is not a plan saved by `retailake plan --out`" in shown
    assert "apply" not in aws_with_changes.commands()
    assert not list(load_environment("prod").state_dir.glob("*.tfplan"))


def test_a_deploy_failing_because_the_emulator_stopped_says_what_to_do(fake_terraform,
                                                                       monkeypatch):
    """Not Terraform's screens of refused connections: the one line run-pipeline gives."""
    monkeypatch.setattr("retailake.deploy.emulator.start", lambda env: None)
    fake_terraform.answer("plan", exit=1,
                          stderr="Error: dial tcp 127.0.0.1:4599: connect: connection refused")
    monkeypatch.setattr("retailake.deploy.emulator.gone", lambda env: True)
    result, shown = invoke("deploy")
    assert result.exit_code == 1, shown
    assert "stopped while the command ran" in shown and "retailake local up" in shown
    assert "connection refused" not in shown
    monkeypatch.setattr("retailake.deploy.emulator.gone", lambda env: False)
    result, shown = invoke("deploy")  # a failure of another kind is Terraform's to tell
    assert "connection refused" in shown and "local up" not in shown


def test_a_refused_connection_to_the_twin_names_the_fix():
    from botocore.exceptions import EndpointConnectionError

    from retailake.aws.clients import describe_error

    twin = EndpointConnectionError(endpoint_url="http://127.0.0.1:4599/raw/a.csv")
    assert describe_error(twin).endswith("run `retailake local up`, then the command again")
    aws = EndpointConnectionError(endpoint_url="https://s3.eu-west-1.amazonaws.com/raw")
    assert "local up" not in describe_error(aws)


def test_the_scripts_compared_are_the_scripts_uploaded_whatever_the_sources_do_meanwhile(
    etl_scripts,
):
    """An apply takes minutes: an edit of a script meanwhile must not reach the upload of
    scripts compared (and reviewed) before it."""
    from retailake.scripts import built_scripts

    with built_scripts(etl_scripts) as artifacts:
        (etl_scripts / "job.py").write_text("print('edited during the apply')\n")
        assert artifacts["job.py"].read_text() == "print('v1')\n"
