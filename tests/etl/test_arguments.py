"""Where a job learns it must rebuild everything: the workflow run's properties first (that
is how `run-pipeline --full-refresh` reaches jobs a trigger starts), then its own argument."""

from __future__ import annotations

from typing import Any

import pytest
from retailake_etl import analytics_job
from retailake_etl.arguments import full_refresh_requested, workflow_run_properties

IN_A_WORKFLOW = ["x.py", "--WORKFLOW_NAME", "rl-pipeline", "--WORKFLOW_RUN_ID", "wr_7",
                 "--full_refresh", "false"]  # fmt: skip


class RecordingGlue:
    def __init__(self, properties: dict[str, str]) -> None:
        self.properties = properties
        self.calls: list[dict[str, Any]] = []

    def get_workflow_run_properties(self, **kwargs):
        self.calls.append(kwargs)
        return {"RunProperties": self.properties}


def test_run_properties_of_the_workflow_run_that_started_the_job():
    glue = RecordingGlue({"full_refresh": "true"})
    assert workflow_run_properties(IN_A_WORKFLOW, lambda: glue) == {"full_refresh": "true"}
    assert glue.calls == [{"Name": "rl-pipeline", "RunId": "wr_7"}]


def test_outside_a_workflow_nothing_is_asked():
    glue = RecordingGlue({"full_refresh": "true"})
    assert workflow_run_properties(["x.py", "--full_refresh", "true"], lambda: glue) == {}
    assert glue.calls == []


def test_a_failing_lookup_fails_the_job_rather_than_guessing_incremental():
    def broken():
        raise RuntimeError("AccessDeniedException")

    with pytest.raises(RuntimeError, match="AccessDenied"):
        workflow_run_properties(IN_A_WORKFLOW, broken)


@pytest.mark.parametrize(
    ("argv", "properties", "expected"),
    [
        (IN_A_WORKFLOW, {"full_refresh": "true"}, True),  # the property beats the default arg
        (["x.py", "--full_refresh", "true"], {"full_refresh": "false"}, False),
        (["x.py", "--full_refresh", "true"], {}, True),
        (["x.py", "--full_refresh=TRUE"], {"other": "x"}, True),
        (["x.py"], {}, False),
    ],
)
def test_the_property_wins_over_the_argument(argv, properties, expected):
    assert full_refresh_requested(argv, properties) is expected


def test_aggregation_settings_take_the_run_properties():
    args = {"staged_bucket": "s", "analytics_bucket": "a", "staged_database": "sd",
            "analytics_database": "ad"}  # fmt: skip
    full = analytics_job.settings_from_args(args, IN_A_WORKFLOW, {"full_refresh": "true"})
    assert full.full_refresh
    assert not analytics_job.settings_from_args(args, IN_A_WORKFLOW, {}).full_refresh
