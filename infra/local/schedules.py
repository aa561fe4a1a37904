"""EventBridge Scheduler in local mode: the virtual clock fires the template's schedules.

`LocalSchedules.from_template` reads every `AWS::Scheduler::Schedule` (expression, time zone,
state, the target function and its input). `advance_to(target)` moves the clock as the stack's
scheduler does, but stops at each schedule time on the way: it runs what fell due before it
(executions asleep on earlier times), fires the schedule (the target input with
`<aws.scheduler.scheduled-time>` filled in, as Scheduler does), lets the executions it started
settle, and goes on. So a monthly schedule fires on the first of each month the clock passes, in
order with the journeys' waits, and a journey it starts runs with "now" = the schedule time.

Like Lambda's asynchronous invocation, a failing target is tried three times in all; then the
event is kept in `dead_letters` (the schedule's DLQ in AWS) and the clock goes on.
A rate schedule counts from when the local stack started (AWS: from the schedule's creation).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from baton.schedules.expressions import Expression, next_fire_times, parse

log = logging.getLogger(__name__)

SCHEDULE_TYPE: Final = "AWS::Scheduler::Schedule"
SCHEDULED_TIME: Final = "<aws.scheduler.scheduled-time>"
ATTEMPTS: Final = 3  # Lambda's asynchronous invocation: the first try and two retries


@dataclass
class LocalSchedule:
    logical_id: str
    name: str
    expression: Expression
    timezone: str | None
    function: str  # the target function's logical id
    input_template: str
    last_fired: datetime  # fires strictly after this
    anchor: datetime  # rate schedules count from here

    def due(self, until: datetime) -> list[datetime]:
        return next_fire_times(
            self.expression, self.last_fired, until, timezone=self.timezone, anchor=self.anchor
        )

    def event(self, moment: datetime) -> Any:
        stamp = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return json.loads(self.input_template.replace(SCHEDULED_TIME, stamp))


@dataclass
class Firing:
    schedule: str
    at: datetime
    event: Any
    result: Any = None
    error: str | None = None


@dataclass
class LocalSchedules:
    schedules: list[LocalSchedule]
    invoke: Callable[[str, Any], Any]  # (function logical id, event) -> answer
    fired: list[Firing] = field(default_factory=list)
    dead_letters: list[Firing] = field(default_factory=list)

    @classmethod
    def from_template(
        cls, template: Mapping[str, Any], *, now: datetime, invoke: Callable[[str, Any], Any]
    ) -> LocalSchedules:
        schedules = []
        for lid, resource in sorted(template.get("Resources", {}).items()):
            if resource.get("Type") != SCHEDULE_TYPE:
                continue
            props = resource.get("Properties", {})
            if props.get("State", "ENABLED") != "ENABLED":
                continue
            target = props["Target"]
            arn = target["Arn"]
            if not (isinstance(arn, Mapping) and "Fn::GetAtt" in arn):
                raise ValueError(
                    f"{lid}: the local stack fires schedules targeting a function of the template"
                )
            schedules.append(
                LocalSchedule(
                    logical_id=lid,
                    name=str(props.get("Name", lid)),
                    expression=parse(props["ScheduleExpression"]),
                    timezone=props.get("ScheduleExpressionTimezone"),
                    function=str(arn["Fn::GetAtt"][0]),
                    input_template=str(target.get("Input", "{}")),
                    last_fired=now,
                    anchor=now,
                )
            )
        return cls(schedules, invoke)

    def next_due(self, until: datetime) -> tuple[datetime, LocalSchedule] | None:
        """The earliest schedule time at or before `until` (ties: template order)."""
        soonest: tuple[datetime, LocalSchedule] | None = None
        for schedule in self.schedules:
            times = schedule.due(until)
            if times and (soonest is None or times[0] < soonest[0]):
                soonest = (times[0], schedule)
        return soonest

    def fire(self, schedule: LocalSchedule, moment: datetime) -> Firing:
        """Invoke the target for the schedule time `moment` (retried like an async invocation)."""
        schedule.last_fired = moment
        firing = Firing(schedule=schedule.name, at=moment, event=schedule.event(moment))
        for attempt in range(1, ATTEMPTS + 1):
            try:
                firing.result, firing.error = self.invoke(schedule.function, firing.event), None
                break
            except Exception as exc:  # what Lambda would retry, then dead-letter
                firing.error = str(exc)
                # The class only: the error's text may quote a contact's data (kept on the dead letter).
                failure = type(exc).__name__
                log.warning(
                    "schedule %s at %s: attempt %d failed: %s", schedule.name, moment, attempt, failure
                )
        self.fired.append(firing)
        if firing.error is not None:
            self.dead_letters.append(firing)
        return firing

    def fire_due(
        self, until: datetime, *, before_each: Callable[[datetime], Any] | None = None
    ) -> list[Firing]:
        """Fire every schedule time up to `until`, in time order. `before_each(t)` runs first for
        each time (the stack moves its clock there and runs what fell due before)."""
        firings = []
        while (due := self.next_due(until)) is not None:
            moment, schedule = due
            if before_each is not None:
                before_each(moment)
            firings.append(self.fire(schedule, moment))
        return firings
