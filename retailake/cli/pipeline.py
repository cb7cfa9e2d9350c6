"""`retailake run-pipeline`: run the Glue workflow, show each crawler and job as it goes, end
with rows in / out / rejected per job, or the failing job's error and where its logs are."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from retailake.cli.common import (
    EnvOption,
    FormatOption,
    OutputFormat,
    err,
    handle_errors,
    out,
    print_json,
)
from retailake.errors import EXIT_FAILED, RetailakeError

if TYPE_CHECKING:
    from retailake.config import Environment
    from retailake.local.glue.history import PipelineEvent, PipelineRun

_STATE_STYLE = {"SUCCEEDED": "green", "FAILED": "bold red", "SKIPPED": "yellow", "RUNNING": "cyan"}


def register(app: typer.Typer) -> None:
    app.command("run-pipeline")(run_pipeline)


class PipelineProgress:
    """One line per node on stderr as it starts and ends, under a spinner for the run."""

    def __init__(self) -> None:
        self._status = err.status("Starting the pipeline")

    def __enter__(self) -> PipelineProgress:
        self._status.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._status.stop()

    def event(self, event: PipelineEvent) -> None:
        node = event.node
        if node is None:
            return
        label = f"{node.kind} {node.name}"
        if node.state == "RUNNING":
            self._status.update(f"[bold]Pipeline[/] · running {label}")
            return
        style = _STATE_STYLE.get(node.state, "white")
        took = f" in {node.duration_seconds:.1f} s" if node.duration_seconds else ""
        err.print(f"[{style}]{node.state.lower()}[/] {label}{took}", highlight=False)


def _rows(node_rows: dict[str, float], name: str) -> str:
    value = node_rows.get(name)
    return "" if value is None else f"{int(value):,}"


def summary_table(run: PipelineRun, name_prefix: str) -> Table:
    """One row per crawler and job in the order they started (those that did not, last, in the
    workflow's order), names without the deployment's prefix."""
    table = Table(title=f"Pipeline run: {run.state}", title_justify="left")
    for column in ("node", "state", "seconds", "in", "out", "rejected", "dupes"):
        table.add_column(column, justify="left" if column in ("node", "state") else "right",
                         no_wrap=column == "node")
    started = sorted(run.nodes, key=lambda node: (node.started_at is None, node.started_at or ""))
    for node in started:
        style = _STATE_STYLE.get(node.state, "white")
        seconds = f"{node.duration_seconds:.1f}" if node.duration_seconds is not None else ""
        table.add_row(
            f"{node.kind} {node.name.removeprefix(name_prefix + '-')}",
            f"[{style}]{node.state}[/]",
            seconds,
            _rows(node.rows, "rows_read"),
            _rows(node.rows, "rows_written"),
            _rows(node.rows, "rows_rejected"),
            _rows(node.rows, "duplicates_dropped"),
        )
    return table


def explain_warnings(run: PipelineRun) -> None:
    """What a node did not fail for but a user must know: objects a crawler left out of a
    table (a second file format, a file outside the table's layout), metrics not read."""
    for node in run.nodes:
        for warning in node.warnings:
            err.print(f"[bold yellow]{node.kind} {node.name}:[/] {escape(warning)}",
                      highlight=False)


def explain_failures(run: PipelineRun) -> None:
    """The run's and each failed node's error, where it came from and its logs. Errors quote
    what failed (an S3 path, a URL in brackets), which is text, not rich markup."""
    if run.error:
        err.print(f"[bold red]run {run.run_id} failed:[/] {escape(run.error)}", highlight=False)
    for node in run.failed_nodes:
        error = node.error
        reason = f"{error.type}: {error.message}" if error else "no error recorded"
        err.print(f"[bold red]{node.kind} {node.name} failed:[/] {escape(reason)}",
                  highlight=False)
        if error and error.where:
            err.print(f"  at {escape(error.where)}", highlight=False)
        if node.log_file:
            err.print(f"  logs: {escape(node.log_file)}", highlight=False)
        if node.log_group:
            stream = f", stream {node.log_stream}" if node.log_stream else ""
            err.print(f"  logs: CloudWatch log group {escape(node.log_group + stream)}",
                      highlight=False)


def explain_unfinished(run: PipelineRun, timeout: float) -> None:
    from retailake.aws.workflow_run import goes_on

    err.print(f"[bold yellow]Still running after {timeout:.0f} s:[/] {goes_on(run)}",
              highlight=False)


@handle_errors
def run_pipeline(
    env: EnvOption = None,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Rebuild staged and analytics from all raw data.")
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(min=1, help="In AWS: stop waiting after this many seconds (the run goes on)."),
    ] = 3600,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Run the Glue workflow: crawlers, the three transforms, aggregation, final crawl."""
    from retailake.config import load_environment
    from retailake.outputs import load_outputs

    environment = load_environment(env)
    outputs = load_outputs(environment)
    with PipelineProgress() as progress:
        if environment.is_local:
            from retailake.local import emulator
            from retailake.local.glue.runner import run_workflow

            emulator.start(environment)
            from retailake.local.glue.history import now_iso

            began = now_iso()
            try:
                run = run_workflow(environment, outputs, progress.event,
                                   full_refresh=full_refresh)
            except KeyboardInterrupt:  # the runner saved the run as it stopped: show it
                run = _stopped_run(environment, since=began)
        else:
            from retailake.aws.workflow_run import Polling, run_workflow_in_aws

            run = run_workflow_in_aws(environment, outputs, progress.event,
                                      full_refresh=full_refresh,
                                      polling=Polling(timeout_seconds=timeout))
    if output_format is OutputFormat.json:  # the run's record, and how the command ends
        exit_code = 0 if run.state == "SUCCEEDED" else EXIT_FAILED
        print_json({**run.to_dict(), "exit_code": exit_code})
    else:
        out.print(summary_table(run, outputs["name_prefix"]))
    explain_warnings(run)
    if run.state == "RUNNING":
        explain_unfinished(run, timeout)
        raise typer.Exit(EXIT_FAILED)
    if run.state != "SUCCEEDED":
        explain_failures(run)
        if any(n.error and n.error.type == "KeyboardInterrupt" for n in run.failed_nodes):
            again = "retailake run-pipeline" + (" --full-refresh" if run.full_refresh else "")
            err.print(f"Interrupted: `{again}` finishes the work (a rerun picks up what this "
                      "run did not write).", highlight=False)  # fmt: skip
        raise typer.Exit(EXIT_FAILED)


def _stopped_run(env: Environment, since: str) -> PipelineRun:
    """The run a Ctrl-C stopped, as the runner saved it; none recorded yet, nothing to show."""
    from retailake.local.glue.history import last_run

    try:
        run = last_run(env)
    except RetailakeError:  # a damaged record: the interruption is all there is to say
        raise KeyboardInterrupt from None
    if run is None or run.started_at < since:
        raise KeyboardInterrupt
    return run
