"""Job: init and commit. Bookmarks are disabled in this lake, so they record nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Job:
    def __init__(self, glue_context: Any) -> None:
        self.glue_context = glue_context
        self.name: str | None = None
        self.args: dict[str, str] = {}
        self.committed = False

    def init(self, job_name: str, args: Mapping[str, str] | None = None) -> None:
        self.name = job_name
        self.args = dict(args or {})

    def commit(self) -> None:
        self.committed = True
