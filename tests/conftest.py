"""How `make test` splits the suite over two pytest-xdist workers (`-n 2 --dist loadgroup`)."""

from __future__ import annotations

import pytest

TWIN_FIXTURE = "local_env"  # tests/integration/conftest.py: the session's shared local twin


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Two groups, one per worker. The tests on the session's local twin share its state and
    change it in order (deploy, seed, run, break, redeploy), so they run in one process, one
    after another; everything else (the ETL tests' in-process Spark, unit tests, throw-away
    emulators and Terraform directories) runs beside them in the other. The twin's side waits
    on Terraform and the emulator for much of its time, which the other side fills."""
    for item in items:
        group = "twin" if TWIN_FIXTURE in getattr(item, "fixturenames", ()) else "rest"
        item.add_marker(pytest.mark.xdist_group(group))
