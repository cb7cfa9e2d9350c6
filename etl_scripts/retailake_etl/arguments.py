"""Glue job arguments beyond getResolvedOptions (which knows only required ones), and the
properties of the workflow run that started the job."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

FULL_REFRESH = "full_refresh"


def optional_argument(argv: Sequence[str], name: str) -> str | None:
    """The value of `--name value` or `--name=value` in a Glue argv, or None."""
    for index, arg in enumerate(argv):
        if arg == f"--{name}" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
    return None


def _glue_client() -> Any:
    import boto3

    return boto3.client("glue")


def workflow_run_properties(
    argv: Sequence[str], glue_client: Callable[[], Any] = _glue_client
) -> dict[str, str]:
    """The run properties of the workflow run that started this job; {} outside a workflow.

    Glue passes `--WORKFLOW_NAME` and `--WORKFLOW_RUN_ID` to every job a workflow trigger
    starts: `retailake run-pipeline --full-refresh` reaches the jobs this way, in AWS and in
    the local twin alike. A failure here fails the job: guessing "incremental" when a full
    refresh was asked would be worse."""
    name = optional_argument(argv, "WORKFLOW_NAME")
    run_id = optional_argument(argv, "WORKFLOW_RUN_ID")
    if not (name and run_id):
        return {}
    answer = glue_client().get_workflow_run_properties(Name=name, RunId=run_id)
    return dict(answer.get("RunProperties") or {})


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("true", "1", "yes")


def full_refresh_requested(argv: Sequence[str], run_properties: Mapping[str, str]) -> bool:
    """Rebuild everything instead of increments: the workflow run's `full_refresh` property
    when it has one, else the job's `--full_refresh true|false` argument (absent: false)."""
    if FULL_REFRESH in run_properties:
        return _truthy(run_properties[FULL_REFRESH])
    return _truthy(optional_argument(argv, FULL_REFRESH) or "false")
