"""A retried write gets the answer its first attempt got, instead of running twice.

The AWS SDKs give every call an `amz-sdk-invocation-id`, the same on each of its attempts,
and number the attempts in `amz-sdk-request: attempt=N; max=M`. When an answer is lost after
the emulator has made the change (seen on this machine: a fresh deploy failed on CreateCrawler's
AlreadyExistsException, a destroy got EntityNotFound from DeregisterResource's retry), the SDK
sends the call again and, run again, it fails as a duplicate: the deploy stops with the crawler
created but not in Terraform's state. AWS's own APIs make such retries safe with client tokens;
the emulator does it for every write by keeping the recent answers by invocation id."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

INVOCATION_HEADER = "HTTP_AMZ_SDK_INVOCATION_ID"
ATTEMPT_HEADER = "HTTP_AMZ_SDK_REQUEST"
KEPT = 1024  # answers kept: an SDK retries within seconds; a customers job wrote ~3 a second
FIRST_ATTEMPT_WAIT = 120.0  # seconds a retry waits for a first attempt still running

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], list[bytes]]


def retried_attempt(environ: dict[str, Any]) -> str | None:
    """The `amz-sdk-request` header when the request is a retry (attempt 2 or later). Its
    fields come in any order: botocore's retries read `ttl=...; attempt=2; max=3`."""
    header = environ.get(ATTEMPT_HEADER, "")
    fields = dict(part.strip().partition("=")[::2] for part in header.split(";"))
    return header if fields.get("attempt", "1") != "1" else None


def _replayable(status: str) -> bool:
    """A server error or a throttle asks the client to try again: that attempt is not kept."""
    code = int(status.split(" ", 1)[0])
    return code < 500 and code != 429


@dataclass
class _Answer:
    done: threading.Event = field(default_factory=threading.Event)
    status: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    replayable: bool = False


class WriteReplies:
    """The answers to the last `kept` writes, by invocation id."""

    def __init__(self, kept: int = KEPT, wait: float = FIRST_ATTEMPT_WAIT) -> None:
        self._kept = kept
        self._wait = wait
        self._answers: OrderedDict[str, _Answer] = OrderedDict()
        self._lock = threading.Lock()

    def _claim(self, invocation: str) -> tuple[_Answer, bool]:
        """The call's answer slot, and whether this request is the first to claim it."""
        with self._lock:
            answer = self._answers.get(invocation)
            if answer is not None:
                return answer, False
            answer = self._answers[invocation] = _Answer()
            while len(self._answers) > self._kept:
                self._answers.popitem(last=False)
            return answer, True

    def _forget(self, invocation: str, answer: _Answer) -> None:
        with self._lock:
            if self._answers.get(invocation) is answer:
                del self._answers[invocation]

    def __call__(self, write: WsgiApp, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> tuple[Iterable[bytes], bool]:
        """Run `write` once per call: a later attempt of the same call gets the earlier
        attempt's answer, waiting for it if it is still running, unless that answer asked for
        a retry (then this attempt runs, and its answer is the one kept). Returns the body
        and whether it was replayed."""
        invocation = environ.get(INVOCATION_HEADER)
        if not invocation:
            return write(environ, start_response), False
        while True:
            answer, first = self._claim(invocation)
            if first:
                break
            if not answer.done.wait(self._wait):  # an earlier attempt hangs: run this one
                return write(environ, start_response), False
            if answer.replayable:
                start_response(answer.status, answer.headers)
                return [answer.body], True
            self._forget(invocation, answer)

        def recording(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            answer.status, answer.headers = status, list(headers)
            return start_response(status, headers, *exc_info)

        try:
            body = write(environ, recording)
            answer.body = b"".join(body)
            answer.replayable = _replayable(answer.status)
        finally:
            answer.done.set()
        return [answer.body], False
