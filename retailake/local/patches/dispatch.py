"""Request dispatch: which service a request is for, without a directory scan per request.

moto's server picks the service of every request by first asking whether the Host header
names one of moto's modules, and `list_of_moto_modules()` answers by listing moto's package
folder and testing each of its ~180 entries with a `stat`, twice per request and under one
lock shared by every request thread. That was a sixth of the emulator's time during a
pipeline run. The installed modules do not change while the process runs: list them once."""

from __future__ import annotations

from moto import backends

_original = backends.list_of_moto_modules


def apply() -> None:
    modules = tuple(_original())
    backends.list_of_moto_modules = lambda: modules
