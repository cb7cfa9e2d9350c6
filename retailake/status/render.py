"""The report for people: a verdict line, then one rich panel per section; whatever fails is
red, its panel's border too."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from retailake.status.model import (
    FAILED_STATES,
    MISSING,
    AlarmsStatus,
    CatalogStatus,
    DeploymentStatus,
    LakeStatus,
    PipelineStatus,
    RunStatus,
    StorageStatus,
    WarehouseStatus,
)

_GOOD = {"SUCCEEDED", "OK", "available", "COMPLETED"}


def styled(value: Any) -> str:
    """A state in its colour: failures red, successes green, anything else as is."""
    if value is None:
        return "[dim]never[/]"
    text = str(value)
    if text in FAILED_STATES or text in ("ALARM", MISSING):
        return f"[bold red]{text}[/]"
    return f"[green]{text}[/]" if text in _GOOD else text


def _count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _size(count: int) -> str:
    """Bytes for people: 932.7 KiB rather than 955,123."""
    size, unit = float(count), "B"
    for bigger in ("KiB", "MiB", "GiB", "TiB"):
        if size < 1024:
            break
        size, unit = size / 1024, bigger
    return f"{size:,.0f} B" if unit == "B" else f"{size:,.1f} {unit}"


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:,.1f}"


def _when(value: str | None) -> str:
    """MM-DD HH:MM: enough to place a run on a status screen (the JSON has the full time)."""
    return (value or "")[5:16].replace("T", " ")


def _table(*columns: str, right: Iterable[str] = ()) -> Table:
    """Columns that never wrap (a narrow terminal squeezes only an error message)."""
    table = Table(box=None, pad_edge=False, show_edge=False)
    aligned = set(right)
    for column in columns:
        table.add_column(column, justify="right" if column in aligned else "left",
                         no_wrap=column != "error")
    return table


def _panel(title: str, body: RenderableType, failing: bool) -> Panel:
    return Panel(body, title=f"[bold]{title}[/]", title_align="left",
                 border_style="red" if failing else "green")


def _pairs(rows: Iterable[tuple[str, Any]]) -> Table:
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="dim")
    table.add_column()
    for name, value in rows:
        table.add_row(name, value if isinstance(value, str) else str(value))
    return table


def deployment_panel(section: DeploymentStatus) -> Panel:
    if not section.deployed:
        # The reason and what to do are the report's closing problem line, said once.
        body: RenderableType = Text("not deployed", style="bold red")
        return _panel("Deployment", body, True)
    rows: list[tuple[str, Any]] = [
        ("environment", section.environment), ("region", section.region),
        ("account", section.account_id), ("name prefix", section.name_prefix),
    ]
    if section.endpoint_url:
        rows.append(("emulator", section.endpoint_url))
    rows += [(f"bucket {key}", name) for key, name in sorted(section.buckets.items())]
    drift = section.drift
    if drift is not None:
        rows.append(("drift", "[bold red]yes[/]" if drift.drifted else "[green]none[/]"))
        rows += [("", f"[red]{c['action']}[/] {escape(c['address'])}") for c in drift.changes]
    return _panel("Deployment", _pairs(rows), bool(section.problems()))


def storage_panel(section: StorageStatus) -> Panel:
    table = _table("layer", "folder", "objects", "bytes", right=("objects", "bytes"))
    for layer in section.layers:
        table.add_row(f"[bold]{layer.layer}[/]", f"[dim]{layer.bucket}[/]",
                      _count(layer.total.objects), _size(layer.total.bytes))
        for prefix, usage in layer.prefixes.items():
            table.add_row("", prefix, _count(usage.objects), _size(usage.bytes))
    parts: list[RenderableType] = [table]
    if section.rejected:
        rejected = _table("quarantined rows (staged/_rejects)", "rows", "files",
                          right=("rows", "files"))
        for entry in section.rejected:
            rejected.add_row(entry.source, _count(entry.rows), _count(entry.files))
        parts += [Text(""), rejected]
    return _panel("Storage", Group(*parts), False)


def catalog_panel(section: CatalogStatus, prefix: str = "") -> Panel:
    databases = _table("database", "table", "partitions", right=("partitions",))
    for database in section.databases:
        if not database.present:
            databases.add_row(database.name, "[bold red]missing[/]", "")
        for index, table in enumerate(database.tables):
            databases.add_row(database.name if index == 0 else "", table.name,
                              _count(table.partitions) if table.partitions else "")
        if database.present and not database.tables:
            databases.add_row(database.name, "[dim]no tables[/]", "")
    crawlers = _table("crawler", "last crawl", "started", "error")
    for crawl in section.crawlers:
        crawlers.add_row(crawl.name.removeprefix(prefix), styled(crawl.state),
                         _when(crawl.started_at),
                         f"[red]{escape(crawl.error)}[/]" if crawl.error else "")
    return _panel("Catalog", Group(databases, Text(""), crawlers), bool(section.problems()))


def _run_row(table: Table, label: str, run: RunStatus) -> None:
    table.add_row(label, styled(run.state), _when(run.started_at), _seconds(run.duration_seconds),
                  _count(run.rows_read), _count(run.rows_written), _count(run.rows_rejected),
                  _count(run.duplicates_dropped))


def pipeline_panel(section: PipelineStatus, prefix: str = "") -> Panel:
    """Names without the deployment's prefix, as run-pipeline shows them."""
    table = _table("run", "state", "started", "secs", "in", "out", "rejected", "dupes",
                   right=("secs", "in", "out", "rejected", "dupes"))
    _run_row(table, f"[bold]workflow[/] {section.workflow.removeprefix(prefix)}",
             section.last_run or RunStatus(section.workflow, None))
    for job in section.jobs:
        _run_row(table, f"job {job.name.removeprefix(prefix)}", job)
    parts: list[RenderableType] = [table]
    parts += [Text(f"{job.name}: {job.error}", style="red") for job in section.jobs
              if job.failed and job.error]
    return _panel("Pipeline", Group(*parts), bool(section.problems()))


def warehouse_panel(section: WarehouseStatus) -> Panel:
    if not section.present:
        return _panel("Warehouse", Text(section.problems()[0], style="bold red"), True)
    rows = [
        ("cluster", section.cluster_identifier),
        ("state", styled(section.state)),
        ("size", f"{section.nodes} x {section.node_type}"),
        ("endpoint", section.endpoint or ""),
        ("spectrum role", _yes_no(section.spectrum_role_attached)),
        (f"catalog db {section.spectrum_database}", _yes_no(section.spectrum_database_present)),
        ("external schema", section.external_schema),
    ]
    return _panel("Warehouse", _pairs(rows), bool(section.problems()))


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else "[green]yes[/]" if value else "[red]no[/]"


def alarms_panel(section: AlarmsStatus) -> Panel:
    counts = ", ".join(f"{styled(state)} {count}" for state, count in section.counts.items())
    parts: list[RenderableType] = [Text.from_markup(counts or "no alarms")]
    parts += [Text.from_markup(f"[bold red]ALARM[/] {escape(a.name)}: {escape(a.reason or '')}")
              for a in section.alarms if a.state == "ALARM"]
    return _panel("Alarms", Group(*parts), bool(section.problems()))


# A section's panel; the catalog's and pipeline's also take the name prefix (_SHORT_NAMES).
_PANELS: dict[str, Callable[..., Panel]] = {
    "storage": storage_panel, "catalog": catalog_panel, "pipeline": pipeline_panel,
    "warehouse": warehouse_panel, "alarms": alarms_panel,
}
_SHORT_NAMES = {"catalog", "pipeline"}  # panels that drop the deployment's name prefix


def render(report: LakeStatus) -> Group:
    """The verdict, the panels, then the problems again, one line each."""
    if report.failing:
        verdict = (f"[bold red]Lake '{report.environment}': FAILING[/] "
                   f"({len(report.problems)} problem{'s' if len(report.problems) != 1 else ''})")
    else:
        verdict = f"[bold green]Lake '{report.environment}': OK[/]"
    parts: list[RenderableType] = [Text.from_markup(
        f"{verdict} [dim]· read in {report.elapsed_seconds:.2f} s[/]")]
    # One column as wide as the widest panel: the panels line up, and none spans a whole
    # 200-column pipe for want of a terminal width.
    panels = Table.grid()
    panels.add_column()
    panels.add_row(deployment_panel(report.deployment))
    prefix = f"{report.deployment.name_prefix}-" if report.deployment.name_prefix else ""
    for name, panel in _PANELS.items():
        section = getattr(report, name)
        if section is not None:
            panels.add_row(panel(section, prefix) if name in _SHORT_NAMES else panel(section))
    parts.append(panels)
    parts += [Text.from_markup(f"[red]✗ {problem.section}:[/] {escape(problem.message)}")
              for problem in report.problems]
    return Group(*parts)
