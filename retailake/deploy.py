"""Deploy, plan and destroy an environment: the core behind the commands, free of any UI.

Approval is a callback: the CLI decides how to ask; this module guarantees that nothing is
applied unless the callback said yes to the very plan that is then applied."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from retailake import reviewed_plan
from retailake.aws.s3 import UploadResult
from retailake.config import Environment, bundled_path
from retailake.errors import AwsError, ConfigError, EmulatorError, TerraformError
from retailake.local import emulator
from retailake.local.glue import history
from retailake.outputs import Outputs, forget_outputs, save_outputs
from retailake.pii_key import ensure_pii_key
from retailake.plan import PlanSummary
from retailake.scripts import built_scripts, scripts_to_upload, upload_scripts
from retailake.terraform import LineCallback, Terraform
from retailake.warehouse import local_copy_dir

Approver = Callable[[PlanSummary], bool]
StepCallback = Callable[[str], None]


@dataclass
class DeployResult:
    summary: PlanSummary
    applied: bool
    outputs: dict[str, Any] = field(default_factory=dict)
    scripts: list[UploadResult] = field(default_factory=list)


def terraform_variables(env: Environment) -> dict[str, Any]:
    """Variables the CLI supplies; everything else comes from the environment's tfvars."""
    return {"endpoint_url": env.endpoint_url} if env.is_local else {}


def open_terraform(
    env: Environment,
    var_files: Sequence[Path] = (),
    on_line: LineCallback | None = None,
    on_step: StepCallback | None = None,
) -> Terraform:
    """A ready Terraform for `env`: the local twin's emulator running, the directory initialised."""
    step = on_step or (lambda _message: None)
    if env.is_local:
        step("starting the local twin's emulator")
        emulator.start(env)
    terraform = Terraform(env, terraform_variables(env), list(var_files), on_line)
    step("terraform init")
    terraform.init()
    return terraform


def plan(
    env: Environment,
    var_files: Sequence[Path] = (),
    on_line: LineCallback | None = None,
    on_step: StepCallback | None = None,
    out: Path | None = None,
) -> PlanSummary:
    """What deploy would change; changes nothing. With `out`, the plan is saved there for
    review, to be applied as it is by `deploy(reviewed=out)`."""
    if out is not None and not out.parent.is_dir():  # said before minutes of planning
        raise ConfigError(f"cannot save the plan to {out}: no folder {out.parent}")
    terraform = open_terraform(env, var_files, on_line, on_step)
    (on_step or (lambda _m: None))("terraform plan")
    result = terraform.plan()
    try:
        with built_scripts(bundled_path("etl_scripts")) as artifacts:
            summary = replace(result.summary, scripts=scripts_to_upload(env, artifacts))
            if out is not None:  # last: a plan that failed to be summarised is not saved
                reviewed_plan.save(out, result.path, env, artifacts)
            return summary
    finally:
        result.path.unlink(missing_ok=True)


@contextlib.contextmanager
def blaming_a_stopped_emulator(env: Environment) -> Iterator[None]:
    """On the twin, a failure because the emulator stopped says so and what to do, rather
    than Terraform's screens of refused connections."""
    try:
        yield
    except (TerraformError, AwsError) as error:  # an EmulatorError speaks for itself
        if env.is_local and emulator.gone(env):
            raise emulator.stopped_error(env) from error
        raise


def deploy(
    env: Environment,
    approve: Approver,
    var_files: Sequence[Path] = (),
    on_line: LineCallback | None = None,
    on_step: StepCallback | None = None,
    reviewed: Path | None = None,
) -> DeployResult:
    """Plan (the ETL scripts to upload included), ask, apply the plan that was approved, then
    upload the very scripts that were compared. With `reviewed`, a plan saved by `plan(out=)`
    stands in for the new one: it is applied only with the scripts it was saved with."""
    step = on_step or (lambda _message: None)
    terraform = open_terraform(env, var_files, on_line, on_step)
    step("terraform plan" if reviewed is None else "reading the reviewed plan")
    with (built_scripts(bundled_path("etl_scripts")) as artifacts,
          ThreadPoolExecutor(max_workers=1) as reader):
        # On the twin the outputs are read while the plan runs, which saves a no-change
        # deploy a second: a plan without changes leaves them as they are. They count only if
        # no other command wrote the state meanwhile (`terraform output` takes no lock).
        version = terraform.state_version()
        early = reader.submit(terraform.outputs) if version else None
        saved = terraform.plan() if reviewed is None else terraform.reviewed(
            lambda into: reviewed_plan.open_reviewed(reviewed, env, artifacts, into))
        try:
            summary = replace(saved.summary, scripts=scripts_to_upload(env, artifacts))
            if summary.has_changes and not approve(summary):
                return DeployResult(summary, applied=False)
            if summary.terraform_changes:
                step("terraform apply")
                try:
                    terraform.apply(saved)
                except BaseException as error:
                    if isinstance(error, TerraformError):
                        _save_outputs_of_a_partial_apply(env, terraform)
                    _save_what_a_failed_apply_did(env)
                    raise
        finally:
            saved.path.unlink(missing_ok=True)
        step("reading outputs")
        if early is not None and not summary.terraform_changes and (
                terraform.state_version() == version):
            outputs = early.result()
        else:
            outputs = terraform.outputs()
        save_outputs(env, outputs)
        if not env.is_local:  # from here on, AWS calls go to the region Terraform deployed to
            env = replace(env, region=outputs.get("region") or env.region)
        ensure_pii_key(env, Outputs(outputs))
        step("uploading ETL scripts")
        scripts = upload_scripts(env, Outputs(outputs), artifacts)
    emulator.flush(env)
    return DeployResult(summary, summary.has_changes, outputs, scripts)


def _save_what_a_failed_apply_did(env: Environment) -> None:
    """An apply that failed or was stopped changed some of the twin: that is made durable, as
    a finished one is, lest a later kill of the emulator undo it under Terraform's state.
    The apply's error is the one to report, so a failure here is not."""
    with contextlib.suppress(EmulatorError):
        emulator.flush(env)


def _save_outputs_of_a_partial_apply(env: Environment, terraform: Terraform) -> None:
    """What a failed apply did change, later commands should see (a new bucket's name, say):
    the state holds it. The apply's error is the one to report, so a failure here is not."""
    with contextlib.suppress(TerraformError):
        save_outputs(env, terraform.outputs())


def destroy(
    env: Environment,
    approve: Approver,
    var_files: Sequence[Path] = (),
    on_line: LineCallback | None = None,
    on_step: StepCallback | None = None,
) -> DeployResult:
    """Plan the destruction, ask, and carry out exactly that plan."""
    step = on_step or (lambda _message: None)
    terraform = open_terraform(env, var_files, on_line, on_step)
    step("terraform plan -destroy")
    saved = terraform.plan(destroy=True)
    try:
        if not saved.summary.has_changes:
            _forget_lake(env)
            return DeployResult(saved.summary, applied=False)
        if not approve(saved.summary):
            return DeployResult(saved.summary, applied=False)
        step("terraform destroy")
        try:
            terraform.apply(saved)
        except BaseException:
            _save_what_a_failed_apply_did(env)
            raise
    finally:  # the plan file may hold variable values: never left behind
        saved.path.unlink(missing_ok=True)
    emulator.flush(env)
    _forget_lake(env)
    return DeployResult(saved.summary, applied=True)


def _forget_lake(env: Environment) -> None:
    """What this machine kept about the lake that is gone: its outputs, the twin's run and
    crawl history and its warehouse copy. `status` would report them for the next lake."""
    forget_outputs(env)
    for kept in (history.pipeline_dir(env), local_copy_dir(env)):
        shutil.rmtree(kept, ignore_errors=True)
