"""Workflow ordering from trigger definitions, shaped exactly as moto returns the ones
terraform/modules/glue registers (no network)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from retailake.config import load_environment
from retailake.errors import ConfigError, RetailakeError
from retailake.local import file_lock
from retailake.local.glue import history, runner
from retailake.local.glue.history import FAILED, NODE_FAILED, NodeError, NodeRun, PipelineRun
from retailake.local.glue.runner import one_run_at_a_time
from retailake.local.glue.workflow import (
    CRAWLER,
    JOB,
    Action,
    Node,
    TriggerEngine,
    build_plan,
    parse_trigger,
)

P = "retailake-local"


def _crawled(name: str) -> dict:
    return {"LogicalOperator": "EQUALS", "CrawlerName": f"{P}-{name}", "CrawlState": "SUCCEEDED"}


def _job_done(name: str, state: str = "SUCCEEDED") -> dict:
    return {"LogicalOperator": "EQUALS", "JobName": f"{P}-{name}", "State": state}


def _conditional(name: str, conditions: list[dict], action: dict, logical: str = "AND") -> dict:
    return {"Name": f"{P}-{name}", "WorkflowName": f"{P}-pipeline", "Type": "CONDITIONAL",
            "State": "ACTIVATED", "Actions": [action],
            "Predicate": {"Logical": logical, "Conditions": conditions}}


SOURCES = ("sales", "inventory", "customers")
LAKE_TRIGGERS = [
    {"Name": f"{P}-start", "WorkflowName": f"{P}-pipeline", "Type": "ON_DEMAND",
     "State": "CREATED",
     "Actions": [{"CrawlerName": f"{P}-raw-{s}"} for s in SOURCES]},
    *[_conditional(f"transform-{s}", [_crawled(f"raw-{s}")], {"JobName": f"{P}-transform-{s}"})
      for s in SOURCES],
    _conditional("aggregate", [_job_done(f"transform-{s}") for s in SOURCES],
                 {"JobName": f"{P}-analytics-aggregation"}),
]


def crawler(name: str) -> Node:
    return Node(CRAWLER, f"{P}-{name}")


def job(name: str) -> Node:
    return Node(JOB, f"{P}-{name}")


def test_lake_workflow_plans_three_stages():
    plan = build_plan(f"{P}-pipeline", [parse_trigger(t) for t in LAKE_TRIGGERS])
    assert plan.start.name == f"{P}-start"
    assert plan.stages == (
        tuple(crawler(f"raw-{s}") for s in SOURCES),
        tuple(job(f"transform-{s}") for s in SOURCES),
        (job("analytics-aggregation"),),
    )
    assert plan.stage_of(job("analytics-aggregation")) == 2
    assert plan.stage_of(job("nowhere")) is None


def test_parse_keeps_predicate_and_action_arguments():
    raw = _conditional("x", [_crawled("a"), _job_done("b", "FAILED")],
                       {"JobName": "j", "Arguments": {"--k": "v"}}, logical="ANY")
    trigger = parse_trigger(raw)
    assert trigger.logical == "ANY"
    assert [(c.node, c.state) for c in trigger.conditions] == [
        (crawler("a"), "SUCCEEDED"), (job("b"), "FAILED")]
    assert trigger.actions[0].node == Node(JOB, "j")
    assert dict(trigger.actions[0].arguments) == {"--k": "v"}


def test_and_waits_for_all_any_fires_on_the_first():
    triggers = [
        {"Name": "s", "Type": "ON_DEMAND", "Actions": [{"JobName": "slow1"}, {"JobName": "a"}]},
        {"Name": "t1", "Type": "CONDITIONAL", "Actions": [{"JobName": "b"}],
         "Predicate": {"Conditions": [_plain("a")]}},
        {"Name": "all", "Type": "CONDITIONAL", "Actions": [{"JobName": "both"}],
         "Predicate": {"Logical": "AND", "Conditions": [_plain("slow1"), _plain("b")]}},
        {"Name": "any", "Type": "CONDITIONAL", "Actions": [{"JobName": "either"}],
         "Predicate": {"Logical": "ANY", "Conditions": [_plain("slow1"), _plain("b")]}},
    ]
    plan = build_plan("w", [parse_trigger(t) for t in triggers])
    names = [[n.name for n in stage] for stage in plan.stages]
    assert names == [["slow1", "a"], ["b", "either"], ["both"]]


def _plain(job_name: str, state: str = "SUCCEEDED") -> dict:
    return {"LogicalOperator": "EQUALS", "JobName": job_name, "State": state}


def test_engine_stops_downstream_of_a_failure_but_runs_other_branches():
    plan = build_plan(f"{P}-pipeline", [parse_trigger(t) for t in LAKE_TRIGGERS])
    engine = TriggerEngine(plan)
    assert [a.node for a in engine.start()] == list(plan.stages[0])
    fired = []
    for source in SOURCES:
        fired += [a.node for a in engine.finished(crawler(f"raw-{source}"), "SUCCEEDED")]
    assert fired == list(plan.stages[1])
    assert engine.finished(job("transform-sales"), "FAILED") == []
    assert engine.finished(job("transform-inventory"), "SUCCEEDED") == []
    assert engine.finished(job("transform-customers"), "SUCCEEDED") == []  # AND never holds


def test_engine_fires_each_trigger_once_and_failure_conditions():
    triggers = [
        {"Name": "s", "Type": "SCHEDULED", "Actions": [{"JobName": "a"}]},
        {"Name": "on-fail", "Type": "CONDITIONAL", "Actions": [{"JobName": "alert"}],
         "Predicate": {"Conditions": [_plain("a", "FAILED")]}},
    ]
    plan = build_plan("w", [parse_trigger(t) for t in triggers])
    assert [[n.name for n in s] for s in plan.stages] == [["a"]]  # success path only
    engine = TriggerEngine(plan)
    engine.start()
    assert [a.node.name for a in engine.finished(Node(JOB, "a"), "FAILED")] == ["alert"]
    assert engine.finished(Node(JOB, "alert"), "SUCCEEDED") == []


@pytest.mark.parametrize("starts", [0, 2])
def test_exactly_one_start_trigger(starts):
    triggers = [parse_trigger({"Name": f"s{i}", "Type": "ON_DEMAND",
                               "Actions": [{"JobName": "a"}]}) for i in range(starts)]
    with pytest.raises(ConfigError, match="start trigger"):
        build_plan("w", triggers)


def test_a_second_local_run_is_refused_while_one_is_under_way():
    env = load_environment("local")
    held = rf"already under way on this twin \(pid {os.getpid()}\)"
    with one_run_at_a_time(env), pytest.raises(RetailakeError, match=held), one_run_at_a_time(env):
        pass
    with one_run_at_a_time(env):  # released at the end of the first
        pass



def test_a_run_waits_out_a_probe_holding_the_run_lock_for_an_instant():
    """`status` takes the run lock for an instant to see whether a run holds it: a run
    starting then was refused as if another run were under way."""
    env = load_environment("local")
    path = history.run_lock(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as probe:
        assert file_lock.acquire(probe, within=0)
        threading.Timer(0.2, file_lock.release, [probe]).start()
        with one_run_at_a_time(env):
            assert history.run_under_way(env)
    assert not history.run_under_way(env)

def test_ctrl_c_in_a_crawler_is_recorded_as_an_interruption(monkeypatch):
    """Before Spark has started, its runtime does not watch for Ctrl-C: the KeyboardInterrupt
    itself must end the run as an interruption, said so, not as a failure with no error."""
    def interrupted(*_args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "client", lambda _env, _name: None)
    monkeypatch.setattr(runner, "run_crawler", interrupted)
    plan = build_plan(f"{P}-pipeline", [parse_trigger(t) for t in LAKE_TRIGGERS])
    crawler = plan.stages[0][0]
    run = PipelineRun(run_id="wr_1", workflow=plan.workflow,
                      nodes=[NodeRun(crawler.kind, crawler.name, stage=0)])
    runtime: Any = SimpleNamespace(interrupted=False, startup_seconds=None,
                                   log_file=Path("spark.log"))
    events: list[str] = []
    state = runner._Run(load_environment("local"), plan, run, runtime,
                        lambda event: events.append(event.kind))
    with pytest.raises(KeyboardInterrupt):
        state.execute(Action(crawler))
    assert run.nodes[0].state == FAILED
    assert run.nodes[0].error == NodeError("KeyboardInterrupt", "interrupted by the user")
    assert events[-1] == NODE_FAILED
    crawl = history.load_crawl_states(load_environment("local"))[crawler.name]
    assert (crawl["state"], crawl["error"]) == (FAILED, "interrupted by the user")
