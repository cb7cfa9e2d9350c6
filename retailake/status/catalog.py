"""Catalog: the lake's Glue databases with their tables and partition counts, and each
crawler's last crawl (from Glue in AWS; on the twin, where moto keeps every crawler RUNNING
and never records a crawl, from the runner's crawl records)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from retailake.aws.clients import error_code
from retailake.parallel import parallel_map
from retailake.status.context import Context, iso
from retailake.status.model import (
    MISSING,
    CatalogStatus,
    CrawlStatus,
    DatabaseStatus,
    TableStatus,
)


def _not_found(error: ClientError) -> bool:
    return error_code(error) == "EntityNotFoundException"


def _partitions(glue: Any, database: str, table: str) -> int:
    paginator = glue.get_paginator("get_partitions")
    pages = paginator.paginate(DatabaseName=database, TableName=table, ExcludeColumnSchema=True)
    return sum(len(page.get("Partitions", [])) for page in pages)


def _database(glue: Any, layer: str, name: str) -> DatabaseStatus:
    try:
        pages = list(glue.get_paginator("get_tables").paginate(DatabaseName=name))
    except ClientError as error:
        if _not_found(error):
            return DatabaseStatus(layer, name, present=False)
        raise
    tables = sorted(t["Name"] for page in pages for t in page.get("TableList", []))
    counts = parallel_map(lambda table: _partitions(glue, name, table), tables)
    return DatabaseStatus(layer, name, True,
                          [TableStatus(t, n) for t, n in zip(tables, counts, strict=True)])


def aws_crawls(glue: Any, names: list[str]) -> list[CrawlStatus]:
    """Last crawls as Glue records them (LastCrawl has a start, no end)."""
    answer = glue.batch_get_crawlers(CrawlerNames=names)
    found = {c["Name"]: c for c in answer.get("Crawlers", [])}
    crawls = []
    for name in names:
        if name in answer.get("CrawlersNotFound", []):
            crawls.append(CrawlStatus(name, MISSING, error="not in Glue (deleted outside "
                                      "Terraform?): `retailake deploy` makes it again"))
            continue
        last = found.get(name, {}).get("LastCrawl")
        if not last:
            crawls.append(CrawlStatus(name, None))
            continue
        crawls.append(CrawlStatus(name, last.get("Status"), iso(last.get("StartTime")),
                                  error=last.get("ErrorMessage")))
    return crawls


def local_crawls(records: dict[str, dict[str, Any]], names: list[str]) -> list[CrawlStatus]:
    """Last crawls as the twin's runner recorded them."""
    crawls = []
    for name in names:
        record = records.get(name)
        if record is None:
            crawls.append(CrawlStatus(name, None))
            continue
        crawls.append(CrawlStatus(name, record.get("state"), record.get("started_at"),
                                  record.get("ended_at"), record.get("error")))
    return crawls


def collect_catalog(context: Context) -> CatalogStatus:
    glue = context.client("glue")
    databases = context.outputs["glue_databases"]
    crawler_names = sorted(context.outputs["glue_crawlers"].values())
    read = parallel_map(lambda layer: _database(glue, layer, databases[layer]), sorted(databases))
    if context.env.is_local:
        from retailake.local.glue.history import load_crawl_states

        crawls = local_crawls(load_crawl_states(context.env), crawler_names)
    else:
        crawls = aws_crawls(glue, crawler_names)
    return CatalogStatus(read, crawls)
