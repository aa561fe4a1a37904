"""`handoff` steps: pass the baton to a person and wait until they are done.

States per step `<id>` (JSONPath, every task the JourneyStepFunction):
- Task `Hand off <id>`: a callback task (`arn:aws:states:::lambda:invoke.waitForTaskToken`)
  with action `handoff` and `"token": $$.Task.Token`: the Lambda creates the task, tells the
  queue and returns at once. `TimeoutSeconds` = the SLA (R-REL-3). `POST /v1/tasks/{id}/complete`
  sends SendTaskSuccess with `{"outcome": "completed", "handoff_outcome", "task_id",
  "escalated"}`, which lands at `$.steps.<id>` -> the next step.
- Catch `States.Timeout` -> Task `Handoff timed out <id>` (action `handoff_timeout`): marks the
  task expired, records `handoff.timed_out`, answers `{"outcome": "timed_out",
  "handoff_outcome": "timed_out", ...}` at `$.steps.<id>`. Then, per `on_timeout`:
  - `continue`: the next step;
  - `end`: Succeed `<id> timed out` (the Lambda recorded `journey.ended` with outcome
    `handoff_timed_out`);
  - `escalate`: Task `Escalate <id>` (action `handoff`, `"escalated": true`: the task goes to
    `escalate_to` with the first one attached; same SLA) -> the next step when completed; its
    own timeout -> Task `Escalation timed out <id>` -> Succeed `<id> timed out`.
Every task retries like every task and catches everything else into `Record failure`.

Transitions per hand-off: 1 when completed in time; 2 timed out with `continue`; 3 timed out
with `end`; 3 escalated and completed; 5 escalated and timed out again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from aws_cdk import aws_stepfunctions as sfn

from baton.journeys.durations import parse_duration
from baton.journeys.models import Step

if TYPE_CHECKING:
    # compiler.py registers this builder (STEP_BUILDERS), so it is imported at run time inside.
    from infra.journeys.compiler import BuiltStep, JourneyBuild, Targets

HANDOFF: Final = "handoff"
HANDOFF_TIMEOUT: Final = "handoff_timeout"
TIMEOUT_ERROR: Final = "States.Timeout"


def _callback(
    build: JourneyBuild, state_name: str, step: Step, seconds: int, *, escalated: bool
) -> sfn.TaskStateBase:
    assert step.handoff is not None
    queue = step.handoff.escalate_to if escalated else step.handoff.queue
    comment = f"hand off to {queue}, at most {step.handoff.sla}"
    return build.callback(
        state_name, HANDOFF, step, timeout_seconds=seconds, comment=comment, extra={"escalated": escalated}
    )


def _timeout_task(build: JourneyBuild, state_name: str, step: Step, *, escalated: bool) -> sfn.TaskStateBase:
    task = build.task(state_name, HANDOFF_TIMEOUT, step, extra={"escalated": escalated})
    build.catch(task)
    return task


def build_handoff(build: JourneyBuild, index: int, step: Step) -> BuiltStep:
    from infra.journeys.compiler import BuiltStep, steps_path

    assert step.handoff is not None
    handoff = step.handoff
    seconds = int(parse_duration(handoff.sla).total_seconds())
    first = _callback(build, f"Hand off {step.id}", step, seconds, escalated=False)
    timed_out = _timeout_task(build, f"Handoff timed out {step.id}", step, escalated=False)
    # Catchers are tried in order: the timeout first, then everything else into Record failure.
    first.add_catch(timed_out, errors=[TIMEOUT_ERROR], result_path=steps_path(step.id))
    build.catch(first)

    ended: sfn.State | None = None
    escalation: sfn.TaskStateBase | None = None
    if handoff.on_timeout in ("end", "escalate"):
        ended = sfn.Succeed(
            build.scope,
            build.name(f"{step.id} timed out"),
            comment="Nobody completed the task in time: the journey ends (outcome handoff_timed_out).",
        )
    if handoff.on_timeout == "escalate":
        assert ended is not None
        escalation = _callback(build, f"Escalate {step.id}", step, seconds, escalated=True)
        escalation_timed_out = _timeout_task(build, f"Escalation timed out {step.id}", step, escalated=True)
        escalation.add_catch(escalation_timed_out, errors=[TIMEOUT_ERROR], result_path=steps_path(step.id))
        build.catch(escalation)
        timed_out.next(escalation)
        escalation_timed_out.next(ended)
    elif handoff.on_timeout == "end":
        assert ended is not None
        timed_out.next(ended)

    def connect(targets: Targets) -> None:
        after = targets.of(build.journey.next_of(index))
        first.next(after)
        if escalation is not None:
            escalation.next(after)
        if handoff.on_timeout == "continue":
            timed_out.next(after)

    return BuiltStep(first, connect)
