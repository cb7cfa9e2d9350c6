"""A Glue workflow's triggers as data, its planned stages, and the firing rules.

moto answers `GetWorkflow(IncludeGraph=True)` without a graph, so the plan is rebuilt from the
workflow's triggers (`GetTriggers`, filtered by WorkflowName). Everything here but
`read_triggers` is pure, so the ordering rules are unit-tested without a network."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from retailake_etl.arguments import FULL_REFRESH

from retailake.errors import ConfigError

CRAWLER = "crawler"
JOB = "job"
START_TYPES = ("ON_DEMAND", "SCHEDULED")
SUCCEEDED = "SUCCEEDED"


@dataclass(frozen=True, order=True)
class Node:
    """A crawler or a job of the workflow."""

    kind: str
    name: str


@dataclass(frozen=True)
class Condition:
    """`node` reached `state` (job State or crawler CrawlState, compared with EQUALS)."""

    node: Node
    state: str


@dataclass(frozen=True)
class Action:
    """Start `node`; a job action may carry its own arguments (they override the defaults)."""

    node: Node
    arguments: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Trigger:
    name: str
    type: str
    actions: tuple[Action, ...]
    conditions: tuple[Condition, ...] = ()
    logical: str = "AND"

    @property
    def is_start(self) -> bool:
        return self.type in START_TYPES

    def satisfied(self, states: Mapping[Node, str]) -> bool:
        """Whether the predicate holds for the final node states seen so far in this run."""
        if not self.conditions:
            return False
        met = [states.get(c.node) == c.state for c in self.conditions]
        return any(met) if self.logical == "ANY" else all(met)


def _action(raw: Mapping[str, Any]) -> Action:
    if raw.get("JobName"):
        return Action(Node(JOB, raw["JobName"]), dict(raw.get("Arguments") or {}))
    if raw.get("CrawlerName"):
        return Action(Node(CRAWLER, raw["CrawlerName"]))
    raise ConfigError(f"a trigger action names neither a job nor a crawler: {dict(raw)}")


def _condition(raw: Mapping[str, Any]) -> Condition:
    if raw.get("JobName"):
        return Condition(Node(JOB, raw["JobName"]), raw.get("State", SUCCEEDED))
    return Condition(Node(CRAWLER, raw["CrawlerName"]), raw.get("CrawlState", SUCCEEDED))


def parse_trigger(raw: Mapping[str, Any]) -> Trigger:
    """A trigger from its GetTriggers / GetTrigger answer."""
    predicate = raw.get("Predicate") or {}
    return Trigger(
        name=raw["Name"],
        type=raw["Type"],
        actions=tuple(_action(a) for a in raw.get("Actions", [])),
        conditions=tuple(_condition(c) for c in predicate.get("Conditions", [])),
        logical=predicate.get("Logical") or "AND",
    )


def read_triggers(glue: Any, workflow: str) -> list[Trigger]:
    """The workflow's triggers as registered (paginated; GetTriggers has no workflow filter)."""
    found = [
        parse_trigger(raw)
        for page in glue.get_paginator("get_triggers").paginate()
        for raw in page["Triggers"]
        if raw.get("WorkflowName") == workflow
    ]
    return sorted(found, key=lambda t: t.name)


@dataclass(frozen=True)
class WorkflowPlan:
    """What a run does when every node succeeds: stages of nodes that may run in parallel."""

    workflow: str
    start: Trigger
    triggers: tuple[Trigger, ...]
    stages: tuple[tuple[Node, ...], ...]

    @property
    def nodes(self) -> list[Node]:
        return [node for stage in self.stages for node in stage]

    def stage_of(self, node: Node) -> int | None:
        for index, stage in enumerate(self.stages):
            if node in stage:
                return index
        return None


def build_plan(workflow: str, triggers: Iterable[Trigger]) -> WorkflowPlan:
    """Simulate a run in which every node succeeds, one stage per step.

    A node's stage is one past the step at which its trigger's predicate first holds (AND: the
    last needed condition, ANY: the first); a node fired twice keeps its first stage."""
    triggers = tuple(triggers)
    starts = [t for t in triggers if t.is_start]
    if len(starts) != 1:
        names = ", ".join(t.name for t in starts) or "none"
        raise ConfigError(
            f"workflow '{workflow}' needs exactly one ON_DEMAND or SCHEDULED start trigger "
            f"(found: {names}); redeploy with `retailake deploy`"
        )
    start = starts[0]
    stages: list[tuple[Node, ...]] = []
    current = _unique(a.node for a in start.actions)
    states: dict[Node, str] = {}
    fired = {start.name}
    while current:
        stages.append(tuple(current))
        states.update({node: SUCCEEDED for node in current})
        ready = [t for t in triggers if t.name not in fired and t.satisfied(states)]
        fired.update(t.name for t in ready)
        current = [n for n in _unique(a.node for t in ready for a in t.actions) if n not in states]
    return WorkflowPlan(workflow, start, triggers, tuple(stages))


def _unique(nodes: Iterable[Node]) -> list[Node]:
    return list(dict.fromkeys(nodes))


class TriggerEngine:
    """Fires triggers as nodes finish, the way Glue does within one workflow run: each trigger
    at most once, a node at most once; a failed node leaves its dependants unfired."""

    def __init__(self, plan: WorkflowPlan) -> None:
        self.plan = plan
        self.states: dict[Node, str] = {}
        self._fired: set[str] = set()

    def start(self) -> list[Action]:
        self._fired.add(self.plan.start.name)
        return list(self.plan.start.actions)

    def finished(self, node: Node, state: str) -> list[Action]:
        """Record `node`'s final state; the actions of the triggers that fire because of it."""
        self.states[node] = state
        actions: list[Action] = []
        for trigger in self.plan.triggers:
            if trigger.name in self._fired or trigger.is_start:
                continue
            if trigger.satisfied(self.states):
                self._fired.add(trigger.name)
                actions.extend(a for a in trigger.actions if a.node not in self.states)
        return actions


def run_properties(full_refresh: bool) -> dict[str, str]:
    """A workflow run's properties, which each job reads back (retailake_etl.arguments)."""
    return {FULL_REFRESH: str(full_refresh).lower()}
