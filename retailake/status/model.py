"""What `retailake status` reports: one small dataclass per section, and the whole report.

The JSON document is `LakeStatus.to_dict()`; its shape is documented in the README and
versioned by SCHEMA_VERSION (bumped on any change that could break a reader). Each section
knows what in it counts as failing (`problems()`): the CLI exits 1 when anything does."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = 1

# Run states that mean a failure, in Glue's words (jobs, workflows) and the local runner's.
FAILED_STATES = frozenset({"FAILED", "ERROR", "TIMEOUT", "EXPIRED"})
MISSING = "MISSING"  # a crawler the deployment names that Glue does not have


@dataclass(frozen=True)
class Usage:
    """Objects and bytes under one prefix or bucket."""

    objects: int = 0
    bytes: int = 0


@dataclass
class Drift:
    """What `terraform plan` would change: resources changed outside Terraform, or
    configuration not applied yet. Only present with --check-drift."""

    drifted: bool
    changes: list[dict[str, str]] = field(default_factory=list)  # address, type, action


@dataclass
class DeploymentStatus:
    environment: str
    region: str
    deployed: bool
    endpoint_url: str | None  # the emulator's URL on the local twin; None on AWS
    name_prefix: str | None = None
    account_id: str | None = None
    buckets: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    drift: Drift | None = None
    message: str | None = None  # why it is not deployed

    def problems(self) -> list[str]:
        found = [] if self.deployed else [self.message or "not deployed"]
        if self.drift and self.drift.drifted:
            found.append(f"{len(self.drift.changes)} resource(s) differ from the configuration")
        return found


@dataclass
class LayerStorage:
    layer: str
    bucket: str
    total: Usage
    prefixes: dict[str, Usage]  # top-level folder: a source, a table, _rejects, _state


@dataclass
class RejectedRows:
    source: str
    files: int
    rows: int


@dataclass
class StorageStatus:
    layers: list[LayerStorage]
    rejected: list[RejectedRows]

    def problems(self) -> list[str]:
        return []  # rejected rows are expected (quarantine works); alarms judge their volume


@dataclass
class TableStatus:
    name: str
    partitions: int


@dataclass
class DatabaseStatus:
    layer: str
    name: str
    present: bool
    tables: list[TableStatus] = field(default_factory=list)


@dataclass
class CrawlStatus:
    """A crawler's last crawl; `state` is None when it never ran."""

    name: str
    state: str | None
    started_at: str | None = None
    ended_at: str | None = None
    error: str | None = None


@dataclass
class CatalogStatus:
    databases: list[DatabaseStatus]
    crawlers: list[CrawlStatus]

    def problems(self) -> list[str]:
        found = [f"database {d.name} is missing" for d in self.databases if not d.present]
        found += [
            f"crawler {c.name} last crawl {c.state}: {c.error or 'no error recorded'}"
            for c in self.crawlers
            if c.state in FAILED_STATES
        ]
        found += [f"crawler {c.name}: {c.error}" for c in self.crawlers if c.state == MISSING]
        return found


@dataclass
class RunStatus:
    """One run of the workflow or of a job; rows are the job's own CloudWatch metrics."""

    name: str
    state: str | None  # None: never ran
    run_id: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    duration_seconds: float | None = None
    error: str | None = None
    rows_read: int | None = None
    rows_written: int | None = None
    rows_rejected: int | None = None
    duplicates_dropped: int | None = None

    @property
    def failed(self) -> bool:
        return self.state in FAILED_STATES


@dataclass
class PipelineStatus:
    workflow: str
    last_run: RunStatus | None
    jobs: list[RunStatus]

    def problems(self) -> list[str]:
        found = []
        if self.last_run and self.last_run.failed:
            why = f": {self.last_run.error}" if self.last_run.error else ""
            found.append(f"last workflow run {self.last_run.run_id} {self.last_run.state}{why}")
        found += [
            f"job {job.name} last run {job.state}: {job.error or 'no error recorded'}"
            for job in self.jobs
            if job.failed
        ]
        return found


@dataclass
class WarehouseStatus:
    cluster_identifier: str
    present: bool
    state: str | None = None
    availability: str | None = None
    node_type: str | None = None
    nodes: int | None = None
    endpoint: str | None = None
    spectrum_role_attached: bool | None = None
    spectrum_database: str | None = None
    spectrum_database_present: bool | None = None
    # "unknown" until something can run SQL against the cluster to look (see the README)
    external_schema: str = "unknown"

    def problems(self) -> list[str]:
        if not self.present:
            return [f"cluster {self.cluster_identifier} does not exist"]
        if self.state and (self.state.startswith("incompatible") or self.state in
                           ("hardware-failure", "storage-full")):
            return [f"cluster {self.cluster_identifier} is {self.state}"]
        return []


@dataclass
class AlarmStatus:
    name: str
    state: str
    reason: str | None = None
    metric: str | None = None
    updated_at: str | None = None


@dataclass
class AlarmsStatus:
    alarms: list[AlarmStatus]
    counts: dict[str, int]  # state -> alarms in it

    def problems(self) -> list[str]:
        return [f"alarm {a.name} is in ALARM: {a.reason or ''}".rstrip(": ")
                for a in self.alarms if a.state == "ALARM"]



@dataclass
class Problem:
    section: str
    message: str


@dataclass
class LakeStatus:
    """The whole report. A section is None when it was not read (nothing deployed) or could
    not be read (its reason is then among the problems)."""

    environment: str
    region: str
    endpoint_url: str | None
    generated_at: str
    elapsed_seconds: float
    deployment: DeploymentStatus
    storage: StorageStatus | None = None
    catalog: CatalogStatus | None = None
    pipeline: PipelineStatus | None = None
    warehouse: WarehouseStatus | None = None
    alarms: AlarmsStatus | None = None
    problems: list[Problem] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION

    @property
    def failing(self) -> bool:
        return bool(self.problems)

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": self.schema_version, "failing": self.failing,
                **{k: v for k, v in asdict(self).items() if k != "schema_version"}}
