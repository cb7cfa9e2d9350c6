"""Pipeline run records and crawl states as JSON under `state_dir/pipeline/`.

moto keeps a workflow run RUNNING forever and a crawl RUNNING after StartCrawler, so the
emulator cannot tell `status` what happened: these files do. Every write is atomic (a temp
file renamed over the old one) because the record is rewritten as each node progresses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from retailake.config import Environment
from retailake.errors import RetailakeError
from retailake.jsonfile import read_json_object, write_json_atomic
from retailake.local import file_lock

PENDING, RUNNING, SKIPPED = "PENDING", "RUNNING", "SKIPPED"
SUCCEEDED, FAILED = "SUCCEEDED", "FAILED"
PROBE_SECONDS = 0.5  # how long `run_under_way` tries the run lock


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def pipeline_dir(env: Environment) -> Path:
    return env.state_dir / "pipeline"


def run_lock(env: Environment) -> Path:
    """The lock a pipeline run holds while it runs (see runner.one_run_at_a_time)."""
    return pipeline_dir(env) / "run.lock"


def run_under_way(env: Environment) -> bool:
    """Whether a pipeline run holds the twin's run lock. The lock is the OS's: a run whose
    process was killed holds nothing, though its record still says RUNNING. Another probe
    may hold it for an instant, so it is tried for a moment (a run holds it for minutes)."""
    path = run_lock(env)
    if not path.is_file():
        return False
    with path.open("a") as handle:
        if not file_lock.acquire(handle, within=PROBE_SECONDS):
            return True
        file_lock.release(handle)
    return False


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """`data` without the keys `cls` lacks: records written by another version still load."""
    names = {f.name for f in fields(cls)}
    return {key: value for key, value in data.items() if key in names}


@dataclass
class NodeError:
    """Why a node failed: exception type and message, and where in the job's code."""

    type: str
    message: str
    where: str | None = None
    origin: str | None = None
    traceback: str | None = None


@dataclass
class NodeRun:
    """One crawler or job within a pipeline run."""

    kind: str
    name: str
    stage: int | None
    state: str = PENDING
    run_id: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    duration_seconds: float | None = None
    error: NodeError | None = None
    rows: dict[str, float] = field(default_factory=dict)
    tables_created: list[str] = field(default_factory=list)
    tables_updated: list[str] = field(default_factory=list)
    partitions_added: int = 0
    warnings: list[str] = field(default_factory=list)
    log_file: str | None = None  # the local twin's job log
    log_group: str | None = None  # in AWS: the CloudWatch log group and stream of the run
    log_stream: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NodeRun:
        error = data.get("error")
        error_run = NodeError(**_known(NodeError, error)) if error else None
        return cls(**{**_known(cls, data), "error": error_run})


@dataclass
class PipelineRun:
    """One run of the workflow: what `run-pipeline` shows and `status` reads back."""

    run_id: str
    workflow: str
    state: str = RUNNING
    started_at: str = field(default_factory=now_iso)
    ended_at: str | None = None
    full_refresh: bool = False
    nodes: list[NodeRun] = field(default_factory=list)
    spark_startup_seconds: float | None = None
    spark_log: str | None = None
    error: str | None = None  # what failed outside any node: the emulator's state not saved

    def node(self, kind: str, name: str) -> NodeRun | None:
        return next((n for n in self.nodes if n.kind == kind and n.name == name), None)

    def node_or_added(self, kind: str, name: str) -> NodeRun:
        """The node's record; one is added (stage unknown) for a node the plan did not
        predict, e.g. one a trigger fired on a failure condition."""
        found = self.node(kind, name)
        if found is None:
            found = NodeRun(kind, name, stage=None)
            self.nodes.append(found)
        return found

    @property
    def failed_nodes(self) -> list[NodeRun]:
        return [n for n in self.nodes if n.state == FAILED]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PipelineRun:
        nodes = [NodeRun.from_dict(n) for n in data.get("nodes", [])]
        return cls(**{**_known(cls, data), "nodes": nodes})


# Event kinds, in the order a run emits them.
RUN_STARTED, NODE_STARTED, NODE_SUCCEEDED = "run_started", "node_started", "node_succeeded"
NODE_FAILED, NODE_SKIPPED, RUN_FINISHED = "node_failed", "node_skipped", "run_finished"


@dataclass(frozen=True)
class PipelineEvent:
    """One step of progress, locally or in AWS; `node` is None for run_started / run_finished."""

    kind: str
    run: PipelineRun
    node: NodeRun | None = None


EventHandler = Callable[[PipelineEvent], None]


def record_event(env: Environment, run: PipelineRun, on_event: EventHandler | None,
                 kind: str, node: NodeRun | None = None) -> None:
    """Save the run record, then tell `on_event`: what a user saw is always on disk."""
    save_run(env, run)
    if on_event is not None:
        on_event(PipelineEvent(kind, run, node))


def runs_dir(env: Environment) -> Path:
    return pipeline_dir(env) / "runs"


def logs_dir(env: Environment, run_id: str) -> Path:
    """Where one pipeline run's logs go: Spark's and each job's."""
    return pipeline_dir(env) / "logs" / run_id


def save_run(env: Environment, run: PipelineRun) -> Path:
    path = runs_dir(env) / f"{run.run_id}.json"
    write_json_atomic(path, run.to_dict())
    return path


def _read_record(path: Path) -> dict[str, Any]:
    """One record as JSON; one that cannot be read is named, never skipped: a failed run
    whose record is lost would otherwise read as a clean history."""
    try:
        return read_json_object(path)
    except ValueError as error:
        raise _unreadable(path, str(error)) from None


def _unreadable(path: Path, reason: str) -> RetailakeError:
    return RetailakeError(
        f"the twin's record {path} cannot be read ({reason}): move it aside (it records one "
        "pipeline run or crawl; the lake's data does not depend on it) and run the command again"
    )


def _run_from(path: Path) -> PipelineRun:
    data = _read_record(path)
    try:
        return PipelineRun.from_dict(data)
    except (TypeError, AttributeError) as error:  # a field of the wrong shape
        raise _unreadable(path, str(error)) from None


def load_run(env: Environment, run_id: str) -> PipelineRun:
    return _run_from(runs_dir(env) / f"{run_id}.json")


def list_runs(env: Environment) -> list[PipelineRun]:
    """Every recorded run, oldest first."""
    return sorted(map(_run_from, runs_dir(env).glob("*.json")), key=lambda r: r.started_at)


def last_run(env: Environment) -> PipelineRun | None:
    """The most recently started run, for `status`."""
    runs = list_runs(env)
    return runs[-1] if runs else None


def crawler_state_path(env: Environment, crawler: str) -> Path:
    return pipeline_dir(env) / "crawlers" / f"{crawler}.json"


def save_crawl_state(env: Environment, crawler: str, state: dict[str, Any]) -> None:
    write_json_atomic(crawler_state_path(env, crawler), state)


def load_crawl_states(env: Environment) -> dict[str, dict[str, Any]]:
    """Crawler name -> its last crawl (state, times, tables created/updated, partitions)."""
    return {path.stem: _read_record(path)
            for path in sorted((pipeline_dir(env) / "crawlers").glob("*.json"))}
