"""Live progress on stderr for long Terraform runs: the current step, resources done, and the
resource being worked on, from the lines Terraform streams."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

from rich.console import Console
from rich.status import Status

T = TypeVar("T")
_DONE = re.compile(r"^(\S+): (Creation|Modifications|Destruction) complete")
_WORKING = re.compile(r"^(\S+): (Creating|Modifying|Destroying|Refreshing state)\.\.\.")


class TerraformProgress:
    """A spinner line: `<title> · <step> · <n> done · <resource>: <what>`."""

    def __init__(self, console: Console, title: str) -> None:
        self.console = console
        self.title = title
        self.current_step = "starting"
        self.detail = ""
        self.done = 0
        self.started = time.monotonic()
        self._status: Status | None = None

    def __enter__(self) -> TerraformProgress:
        self._status = self.console.status(self._text())
        self._status.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._status:
            self._status.stop()
        if exc_type is None:
            elapsed = time.monotonic() - self.started
            self.console.print(f"[dim]{self.title}: done in {elapsed:.1f} s[/]")

    def _text(self) -> str:
        parts = [f"[bold]{self.title}[/]", self.current_step]
        if self.done:
            parts.append(f"{self.done} done")
        if self.detail:
            parts.append(f"[dim]{self.detail}[/]")
        return " · ".join(parts)

    def _refresh(self) -> None:
        if self._status:
            self._status.update(self._text())

    def step(self, message: str) -> None:
        self.current_step = message
        self.detail = ""
        self._refresh()

    def line(self, text: str) -> None:
        """Feed one line of Terraform output."""
        if _DONE.match(text):
            self.done += 1
            self.detail = text.split(" after ")[0]
        elif match := _WORKING.match(text):
            self.detail = f"{match.group(1)}: {match.group(2).lower()}"
        else:
            return
        self._refresh()

    def paused(self, ask: Callable[..., T]) -> Callable[..., T]:
        """Wrap a prompt so the spinner does not draw over it."""

        def wrapper(*args: object) -> T:
            if self._status:
                self._status.stop()
            try:
                return ask(*args)
            finally:
                if self._status:
                    self._status.start()

        return wrapper
