"""`retailake status`: the whole lake on one screen, or one JSON document; exit 1 when anything
fails (see the command's help), so it can gate scripts and schedulers."""

from __future__ import annotations

from typing import Annotated

import typer

from retailake.cli.common import (
    EnvOption,
    FormatOption,
    OutputFormat,
    err,
    handle_errors,
    out,
    print_json,
)
from retailake.errors import EXIT_FAILED

CheckDriftOption = Annotated[
    bool,
    typer.Option("--check-drift", help="Also run `terraform plan` and show what drifted (slow)."),
]


def register(app: typer.Typer) -> None:
    app.command("status")(status)


@handle_errors
def status(
    env: EnvOption = None,
    check_drift: CheckDriftOption = False,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Deployment, storage, catalog, pipeline, warehouse and alarms, read in parallel.

    Exits 1 when anything fails: no deployment; a failed last run
    (workflow, job or crawl); a missing catalog database or Redshift
    cluster; an alarm in ALARM; drift (under --check-drift); a section
    that could not be read."""
    from retailake.config import load_environment
    from retailake.status.collect import collect_status

    environment = load_environment(env)
    if output_format is OutputFormat.json:
        report = collect_status(environment, check=check_drift)
        print_json(report.to_dict())
    else:
        from retailake.status.render import render

        with err.status(f"Reading the status of '{environment.name}'"):
            report = collect_status(environment, check=check_drift)
        out.print(render(report))
    if output_format is OutputFormat.json and not report.deployment.deployed:
        # stdout holds the document; a person watching still reads why
        err.print(f"[bold red]error:[/] {report.deployment.message}", highlight=False)
    if report.failing:
        raise typer.Exit(EXIT_FAILED)
