"""`retailake deploy | plan | destroy`: Terraform over the bundled modules, with approval."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from retailake.cli.common import (
    AutoApproveOption,
    EnvOption,
    FormatOption,
    OutputFormat,
    err,
    handle_errors,
    out,
    print_json,
)
from retailake.cli.progress import TerraformProgress
from retailake.config import Environment, load_environment
from retailake.errors import EXIT_FAILED, ConfigError
from retailake.plan import PlanSummary

VarFileOption = Annotated[
    list[Path] | None,
    typer.Option("--var-file", help="Extra Terraform variables file (repeatable).", exists=False),
]

_STYLE = {"create": "green", "update": "yellow", "replace": "bold red", "delete": "bold red",
          "forget": "yellow", "move": "cyan", "import": "cyan"}


def plan_table(summary: PlanSummary) -> Table:
    """Deletes, replacements and updates one by one (destructive first, in red, data-bearing
    ones flagged); creates counted per resource type, since a first deploy creates 100+."""
    table = Table(title="Plan", title_justify="left")
    table.add_column("action")
    table.add_column("resource", overflow="fold")
    table.add_column("count", justify="right")
    table.add_column("note")
    for change in summary.changes:
        if change.action != "create":
            note = "[bold red]holds data[/]" if change.destructive and change.data_bearing else ""
            style = _STYLE[change.action]
            table.add_row(f"[{style}]{change.action}[/]", change.address, "1", note)
    created = Counter(change.type for change in summary.changes if change.action == "create")
    for resource_type, count in sorted(created.items()):
        table.add_row("[green]create[/]", resource_type, str(count), "")
    return table


def plan_totals(summary: PlanSummary) -> str:
    parts = [f"{summary.count(action)} to {action}" for action in ("create", "update")]
    parts += [f"[bold red]{summary.count(a)} to {a}[/]" for a in ("replace", "delete")]
    parts += [f"{summary.count(a)} to {a}" for a in ("move", "import", "forget")
              if summary.count(a)]  # fmt: skip
    if summary.outputs:  # named when they are all there is to apply
        named = "" if summary.changes else f" ({', '.join(summary.outputs)})"
        count = len(summary.outputs)
        parts.append(f"{count} output{'' if count == 1 else 's'} to change{named}")
    if summary.scripts:
        count = len(summary.scripts)
        parts.append(f"{count} ETL script{'' if count == 1 else 's'} to upload "
                     f"({', '.join(summary.scripts)})")
    return "Plan: " + ", ".join(parts)


def show_plan(summary: PlanSummary) -> None:
    """The plan as a person reads it, on stderr (stdout stays for data)."""
    if not summary.has_changes:
        err.print("No changes. The deployment matches the configuration.")
        return
    if summary.changes:
        err.print(plan_table(summary))
    err.print(plan_totals(summary))
    if summary.data_loss:
        err.print(
            "[bold red]Warning:[/] this plan deletes or replaces resources that hold data: "
            + ", ".join(change.address for change in summary.data_loss)
        )


def interactive() -> bool:
    """Whether a person can answer a prompt (stdin is a terminal)."""
    return sys.stdin.isatty()


def make_approver(
    env: Environment, auto_approve: bool, question: str, typed_name: bool = False
) -> Callable[[PlanSummary], bool]:
    """The approval callback: show the plan, then ask (a typed name for the riskiest case)."""

    def approve(summary: PlanSummary) -> bool:
        show_plan(summary)
        if typed_name:
            return _typed_confirmation(env)
        if auto_approve:
            return True
        if not interactive():
            unattended = ("apply a reviewed plan: `retailake plan --env prod --out FILE`, "
                          "then `retailake deploy --env prod --plan-file FILE`"
                          if env.name == "prod" else "pass --auto-approve")  # fmt: skip
            raise ConfigError(
                f'"{question}" needs an answer, and no terminal is there to give it: run in '
                f"one, or {unattended}",
                {"plan": summary.as_dict()},  # what was refused, for a machine too
            )
        return typer.confirm(question, default=False, err=True)

    return approve


def _typed_confirmation(env: Environment) -> bool:
    if not interactive():
        raise ConfigError(
            f"destroying '{env.name}' needs its name typed at the prompt, in a terminal"
        )
    answer = typer.prompt(f"Type the environment name ({env.name}) to destroy it", err=True)
    return answer.strip() == env.name


def register(app: typer.Typer) -> None:
    app.command()(deploy)
    app.command()(plan)
    app.command()(destroy)


PlanFileOption = Annotated[
    Path | None,
    typer.Option("--plan-file", dir_okay=False, help="Apply exactly this plan, saved by "
                 "`retailake plan --out` and reviewed, without asking (prod's way for CI)."),
]


def _refuse_unreviewed_prod(environment: Environment) -> None:
    """prod asks before every apply: --auto-approve (or an exported RETAILAKE_ENV=prod under
    `make demo`'s) never reaches it. A plan saved and reviewed does, by --plan-file."""
    if environment.name == "prod":
        raise ConfigError(
            "prod asks before every apply: --auto-approve does not reach it. To apply without "
            "a prompt (CI), save a plan with `retailake plan --env prod --out FILE`, review "
            "it, and apply exactly it with `retailake deploy --env prod --plan-file FILE`: "
            "nothing was planned or applied")


@handle_errors
def deploy(
    env: EnvOption = None,
    auto_approve: AutoApproveOption = False,
    var_file: VarFileOption = None,
    plan_file: PlanFileOption = None,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Create or update the lake: plan, approval (outside local), apply, upload ETL scripts."""
    from retailake import deploy as core
    from retailake.aws.s3 import file_sha256

    environment = load_environment(env)
    if plan_file is None:
        if auto_approve:
            _refuse_unreviewed_prod(environment)
    elif var_file:
        raise ConfigError("--var-file does not go with --plan-file: the saved plan holds the "
                          "variables it was made with")  # fmt: skip
    else:
        err.print(f"Applying {plan_file} (SHA-256 {file_sha256(plan_file)}).")
    approved_ahead = plan_file is not None or auto_approve or not environment.needs_approval
    question = f"Apply these changes to '{environment.name}'?"
    with (TerraformProgress(err, f"Deploying '{environment.name}'") as progress,
          core.blaming_a_stopped_emulator(environment)):
        result = core.deploy(
            environment,
            progress.paused(make_approver(environment, approved_ahead, question)),
            var_file or [],
            on_line=progress.line,
            on_step=progress.step,
            reviewed=plan_file,
        )
    if not result.applied and result.summary.has_changes:
        if output_format is OutputFormat.json:
            print_json({"environment": environment.name, "applied": False,
                        "plan": result.summary.as_dict(), "exit_code": EXIT_FAILED,
                        "error": "the plan was declined: nothing was applied"})  # fmt: skip
        err.print("Nothing was applied.")
        raise typer.Exit(EXIT_FAILED)
    uploaded = sum(1 for script in result.scripts if script.uploaded)
    if output_format is OutputFormat.json:
        print_json(
            {
                "environment": environment.name,
                "applied": result.applied,
                "plan": result.summary.as_dict(),
                "scripts": {"uploaded": uploaded, "unchanged": len(result.scripts) - uploaded},
                "outputs": result.outputs,
            }
        )
        return
    if not result.summary.has_changes:
        show_plan(result.summary)
    else:
        err.print(f"[green]Applied[/] to '{environment.name}'. {plan_totals(result.summary)}.")
    err.print(
        f"ETL scripts: {uploaded} uploaded, {len(result.scripts) - uploaded} unchanged "
        f"(s3://{result.outputs['buckets']['scripts']}/{result.outputs['scripts_prefix']})."
    )


@handle_errors
def plan(
    env: EnvOption = None,
    var_file: VarFileOption = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", dir_okay=False, help="Also save the plan to this file (owner-"
                     "only), for review and `deploy --plan-file`."),
    ] = None,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Show what deploy would change. Changes nothing."""
    from retailake import deploy as core
    from retailake.aws.s3 import file_sha256

    environment = load_environment(env)
    with (TerraformProgress(err, f"Planning '{environment.name}'") as progress,
          core.blaming_a_stopped_emulator(environment)):
        summary = core.plan(environment, var_file or [], progress.line, progress.step, out_file)
    if output_format is OutputFormat.json:
        saved = ({"saved_to": str(out_file), "sha256": file_sha256(out_file)}
                 if out_file else {})  # fmt: skip
        print_json({"environment": environment.name, **summary.as_dict(), **saved})
        return
    if summary.has_changes:
        if summary.changes:
            out.print(plan_table(summary))
        out.print(plan_totals(summary))
    else:
        out.print("No changes. The deployment matches the configuration.")
    if out_file is not None:
        err.print(f"Saved to {out_file} (SHA-256 {file_sha256(out_file)}): apply "
                  f"exactly this plan with `retailake deploy --env {environment.name} "
                  f"--plan-file {out_file}`.")  # fmt: skip


@handle_errors
def destroy(
    env: EnvOption = None,
    auto_approve: AutoApproveOption = False,
    allow_prod: Annotated[
        bool, typer.Option("--allow-prod", help="Required, with the typed name, to destroy prod.")
    ] = False,
    var_file: VarFileOption = None,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Tear the environment down. prod needs --allow-prod and its name typed at the prompt."""
    from retailake import deploy as core

    environment = load_environment(env)
    is_prod = environment.name == "prod"
    if is_prod and not allow_prod:
        raise ConfigError(
            "refusing to destroy prod: pass --allow-prod and type its name when asked"
        )
    with (TerraformProgress(err, f"Destroying '{environment.name}'") as progress,
          core.blaming_a_stopped_emulator(environment)):
        result = core.destroy(
            environment,
            progress.paused(
                make_approver(
                    environment,
                    auto_approve,
                    f"Destroy everything in '{environment.name}'?",
                    typed_name=is_prod,
                )
            ),
            var_file or [],
            progress.line,
            progress.step,
        )
    declined = result.summary.has_changes and not result.applied
    destroyed = result.summary.count("delete") if result.applied else 0
    if output_format is OutputFormat.json:
        document = {"environment": environment.name, "applied": result.applied,
                    "destroyed": destroyed, "plan": result.summary.as_dict()}
        if declined:
            document |= {"exit_code": EXIT_FAILED,
                         "error": "the plan was declined: nothing was destroyed"}
        print_json(document)
    if not result.summary.has_changes:
        err.print(f"Nothing to destroy in '{environment.name}'.")
    elif declined:
        err.print("Nothing was destroyed.")
        raise typer.Exit(EXIT_FAILED)
    else:
        err.print(f"[green]Destroyed[/] '{environment.name}': {destroyed} resources.")
