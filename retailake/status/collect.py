"""The whole report: the deployment first (a lake that was never deployed is not read any
further, and no emulator is started for it), then every section collector at once, each on
its own thread. A collector that fails costs its own section only: its error becomes a
problem, so the report still says what it could."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from retailake.aws.clients import client, describe_error
from retailake.config import Environment
from retailake.errors import RetailakeError
from retailake.local import emulator
from retailake.status.alarms import collect_alarms
from retailake.status.catalog import collect_catalog
from retailake.status.context import SERVICES, Context
from retailake.status.deployment import check_drift, read_deployment
from retailake.status.model import LakeStatus, Problem
from retailake.status.pipeline import collect_pipeline
from retailake.status.storage import collect_storage
from retailake.status.warehouse import collect_warehouse

COLLECTORS: dict[str, Callable[[Context], Any]] = {
    "storage": collect_storage,
    "catalog": collect_catalog,
    "pipeline": collect_pipeline,
    "warehouse": collect_warehouse,
    "alarms": collect_alarms,
}
_EXPECTED = (ClientError, BotoCoreError, RetailakeError, KeyError, ValueError, OSError)


def _describe(error: Exception, environment: str) -> str:
    if isinstance(error, ClientError | BotoCoreError):
        return describe_error(error)
    if isinstance(error, KeyError):  # a nested output (outputs["glue_jobs"][...])
        return (f"the deployment's outputs lack {error}: run `retailake deploy --env "
                f"{environment}` again")  # fmt: skip
    return str(error)


def collect_status(env: Environment, *, check: bool = False) -> LakeStatus:
    """Read every section of `env`'s lake; `check` adds a Terraform drift check."""
    began = time.monotonic()
    deployment, outputs = read_deployment(env)
    report = LakeStatus(env.name, deployment.region, env.endpoint_url,
                        dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), 0.0, deployment)
    if outputs is not None:
        context = Context(env, outputs, {service: client(env, service) for service in SERVICES})
        with ThreadPoolExecutor(max_workers=len(COLLECTORS) + 1) as pool:
            drift = pool.submit(check_drift, env) if check else None
            futures = {name: pool.submit(collector, context)
                       for name, collector in COLLECTORS.items()}
            for name, future in futures.items():
                _settle(report, name, future)
            if drift is not None:
                _settle(report, "deployment", drift, partial(setattr, deployment, "drift"))
    for name in ("deployment", *COLLECTORS):
        section = getattr(report, name)
        if section is not None:
            report.problems += [Problem(name, message) for message in section.problems()]
    if env.is_local:
        report.problems += _emulator_problems(env)
    report.elapsed_seconds = round(time.monotonic() - began, 3)
    return report


def _emulator_problems(env: Environment) -> list[Problem]:
    """The twin's emulator failing to save its state (a full disk): what it holds now goes
    if it stops."""
    failure = (emulator.health(env) or {}).get("snapshot_error")
    if not failure:
        return []
    return [Problem("deployment", f"the emulator cannot save its state under "
                                  f"{emulator.emulator_dir(env)} ({failure}): changes since its "
                                  "last save are lost if it stops; make room")]


def _settle(report: LakeStatus, name: str, future: Future[Any],
            store: Callable[[Any], None] | None = None) -> None:
    """Put a collector's section in the report, or its failure among the problems."""
    try:
        value = future.result()
    except _EXPECTED as error:
        said = _describe(error, report.environment)
        report.problems.append(Problem(name, f"could not be read: {said}"))
        return
    if store is None:
        setattr(report, name, value)
    else:
        store(value)
