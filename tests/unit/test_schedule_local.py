"""Local mode's EventBridge Scheduler: the template's schedules fire, in time order, as the clock
passes them, with `<aws.scheduler.scheduled-time>` filled in; a failing target is retried, then
dead-lettered."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from infra.local.schedules import ATTEMPTS, LocalSchedules

START = datetime(2026, 5, 20, 12, tzinfo=UTC)


def _schedule(expression: str, journey: str, state: str = "ENABLED") -> dict[str, Any]:
    return {
        "Type": "AWS::Scheduler::Schedule",
        "Properties": {
            "Name": f"Baton-{journey}",
            "ScheduleExpression": expression,
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": state,
            "Target": {
                "Arn": {"Fn::GetAtt": ["ScheduleFn", "Arn"]},
                "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
                "Input": json.dumps({"journey": journey, "scheduled_time": "<aws.scheduler.scheduled-time>"}),
            },
        },
    }


TEMPLATE = {
    "Resources": {
        "Monthly": _schedule("cron(0 9 1 * ? *)", "monthly"),
        "Daily": _schedule("rate(1 day)", "daily"),
        "Off": _schedule("rate(1 minute)", "off", state="DISABLED"),
        "ScheduleFn": {"Type": "AWS::Lambda::Function", "Properties": {}},
    }
}


def test_due_schedules_fire_in_time_order_with_the_scheduled_time() -> None:
    calls: list[tuple[str, Any]] = []
    moved: list[datetime] = []
    schedules = LocalSchedules.from_template(
        TEMPLATE, now=START, invoke=lambda function, event: calls.append((function, event))
    )

    schedules.fire_due(datetime(2026, 6, 2, 12, tzinfo=UTC), before_each=moved.append)

    assert [event for _, event in calls] == [
        {"journey": "daily", "scheduled_time": f"2026-05-{day}T12:00:00Z"} for day in range(21, 32)
    ] + [
        {"journey": "monthly", "scheduled_time": "2026-06-01T09:00:00Z"},
        {"journey": "daily", "scheduled_time": "2026-06-01T12:00:00Z"},
        {"journey": "daily", "scheduled_time": "2026-06-02T12:00:00Z"},
    ]
    assert {function for function, _ in calls} == {"ScheduleFn"}
    assert moved == sorted(moved)
    assert len(moved) == len(calls)


def test_a_schedule_fires_once_per_time_however_the_clock_moves() -> None:
    calls: list[Any] = []
    schedules = LocalSchedules.from_template(
        {"Resources": {"Monthly": _schedule("cron(0 9 1 * ? *)", "monthly")}},
        now=START,
        invoke=lambda function, event: calls.append(event),
    )

    schedules.fire_due(datetime(2026, 6, 1, 8, 59, tzinfo=UTC))
    schedules.fire_due(datetime(2026, 6, 1, 9, tzinfo=UTC))
    schedules.fire_due(datetime(2026, 6, 15, tzinfo=UTC))

    assert [event["scheduled_time"] for event in calls] == ["2026-06-01T09:00:00Z"]


def test_a_failing_target_is_retried_then_dead_lettered_and_the_clock_goes_on() -> None:
    attempts: list[Any] = []

    def invoke(function: str, event: Any) -> Any:
        attempts.append(event)
        raise RuntimeError("boom")

    schedules = LocalSchedules.from_template(
        {"Resources": {"Monthly": _schedule("cron(0 9 1 * ? *)", "monthly")}}, now=START, invoke=invoke
    )

    schedules.fire_due(datetime(2026, 7, 2, tzinfo=UTC))

    assert len(attempts) == 2 * ATTEMPTS
    assert [(f.at.month, f.error) for f in schedules.dead_letters] == [(6, "boom"), (7, "boom")]
