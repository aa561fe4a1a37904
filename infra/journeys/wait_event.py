"""`wait: {event, timeout}`: park the execution until the event arrives or time runs out.

States per step `<id>`:
- Task `Await <id>`: a callback task (`arn:aws:states:::lambda:invoke.waitForTaskToken`)
  invoking JourneyStepFunction with action `await_event` and `"token": $$.Task.Token`; the
  Lambda stores the waiter and returns at once. `TimeoutSeconds` = the step's timeout
  (R-REL-3). When the event arrives, `EventService.record` sends SendTaskSuccess with
  `{"event_received": true, "event": {...}}`, which lands at `$.steps.<id>` -> the next step.
- Catch `States.Timeout` -> Task `Timed out <id>` (action `wait_timed_out`): removes the waiter,
  records `wait.timed_out` on the timeline and answers `{"event_received": false, "event":
  null}` at `$.steps.<id>` -> the next step. (A Task rather than a Pass so the timeline shows
  the timeout, as it shows every wait event, and the waiter does not linger.)
Both tasks retry like every task and catch everything else into `Record failure`.
`{event_received: <id>}` in a branch reads `$.steps.<id>.event_received`.

Transitions: 1 when the event arrives (the task), 2 on timeout (the task, the timeout task).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from baton.journeys.durations import parse_duration
from baton.journeys.models import Step

if TYPE_CHECKING:
    # compiler.py registers this builder (STEP_BUILDERS), so it is imported at run time inside.
    from infra.journeys.compiler import BuiltStep, JourneyBuild, Targets

AWAIT_EVENT: Final = "await_event"
WAIT_TIMED_OUT: Final = "wait_timed_out"
TIMEOUT_ERROR: Final = "States.Timeout"


def build_wait_event(build: JourneyBuild, index: int, step: Step) -> BuiltStep:
    from infra.journeys.compiler import BuiltStep, steps_path

    assert step.wait is not None
    assert step.wait.event is not None
    assert step.wait.timeout is not None
    seconds = int(parse_duration(step.wait.timeout).total_seconds())
    wait = build.callback(
        f"Await {step.id}",
        AWAIT_EVENT,
        step,
        timeout_seconds=seconds,
        comment=f"wait for {step.wait.event}, at most {step.wait.timeout}",
    )
    timed_out = build.task(f"Timed out {step.id}", WAIT_TIMED_OUT, step)
    # Catchers are tried in order: the timeout first, then everything else into Record failure.
    wait.add_catch(timed_out, errors=[TIMEOUT_ERROR], result_path=steps_path(step.id))
    build.catch(wait)
    build.catch(timed_out)

    def connect(targets: Targets) -> None:
        after = targets.of(build.journey.next_of(index))
        wait.next(after)
        timed_out.next(after)

    return BuiltStep(wait, connect)
