"""Alarms: the deployment's CloudWatch alarms (named `<name_prefix>-...`) and their states.

On the twin, alarms are never evaluated: they stay in the state they were created or set in."""

from __future__ import annotations

from collections import Counter
from typing import Any

from retailake.status.context import Context, iso
from retailake.status.model import AlarmsStatus, AlarmStatus


def read_alarms(cloudwatch: Any, prefix: str) -> AlarmsStatus:
    alarms = []
    pages = cloudwatch.get_paginator("describe_alarms").paginate(
        AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    for page in pages:
        for alarm in page.get("MetricAlarms", []) + page.get("CompositeAlarms", []):
            alarms.append(AlarmStatus(
                alarm["AlarmName"], alarm.get("StateValue", "INSUFFICIENT_DATA"),
                alarm.get("StateReason"), alarm.get("MetricName"),
                iso(alarm.get("StateUpdatedTimestamp")),
            ))
    alarms.sort(key=lambda a: (a.state != "ALARM", a.name))
    return AlarmsStatus(alarms, dict(sorted(Counter(a.state for a in alarms).items())))


def collect_alarms(context: Context) -> AlarmsStatus:
    return read_alarms(context.client("cloudwatch"), f"{context.outputs['name_prefix']}-")
