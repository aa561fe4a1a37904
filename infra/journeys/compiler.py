"""Compiles a journey (the DSL contract, `baton.journeys.models.Journey`) into Step Functions states.

One Standard state machine per journey, JSONPath only (the local interpreter has no JSONata).
Every task invokes the one JourneyStepFunction with one payload (`baton.runner.models`); its answer
goes to `$.steps.<step id>`. Per step kind (`STEP_BUILDERS`, keyed by `step_form`):

- send: (on a loop: Pass `Count pass <id>` ->) Task `Send <id>` -> Choice `<id> outcome`: sent ->
  next step; held -> (a turn counted, below) Wait `Hold <id>` (until `$.steps.<id>.until`) -> the
  Task again; skipped -> Succeed `<id> skipped`; failed -> Fail `<id> failed` (the Lambda has
  recorded and counted either outcome). 2 transitions when the message goes out at once (3 on a loop).
- wait {duration}: Wait `Wait <id>` of that many seconds.
- branch: Task `Branch <id>` -> Choice `<id> next` on `$.steps.<id>.next`.
- split: Task `Split <id>` (the runner answers `{variant, next}`, the contact's variant being a
  pure function of journey and contact) -> Choice `<id> next` on `$.steps.<id>.next`, as a
  branch. The answer stays in `$.steps`, which every later task is given and a continuation
  carries on, so each task knows the run's variant.
- end: Task `Finish journey` -> Succeed `Journey completed`; a plain send that is the last step
  ends without it: its task is told `"ends": true`, records the completion when it sends, and
  `sent` goes straight to `Journey completed` (one invocation and one transition less per run).
Every task retries Lambda service errors and Baton's retryable errors with full jitter
(R-REL-4, the only retry layer) and catches everything else into Task `Record failure` ->
Fail `Journey failed`. Send tasks also retry a Lambda timeout: their ledger makes running
them again safe (nothing is sent twice, an unfinished recording is finished).

Passes (R-REL-6): a send step a run can enter more than once (it lies on a loop) counts its
passes: the journey's first state, Pass `Count passes`, sets `$.passes.<id>.n` to 0 (`-` as `_`)
for each such step; `Count pass <id>`, the entry of the step, adds one; every send task of the
step passes it as `pass`. Any other send step is entered once per run, so its tasks pass 1 and
cost no extra transition. The send key is (execution, step, pass, channel), so a loop sends on
each pass, while a Retry (the state is not re-entered) and a redrive (it continues from the
failed task with that task's input, without re-running the Pass) keep the pass and send nothing
twice. `$$.State.EnteredTime` would not do: a redrive re-enters the failed state.

Continuing as new (R-REL-1): Step Functions ends an execution at 25,000 history events, and a
journey that loops, or whose send is held and rechecked for weeks (an SES account paused for a
month rechecks every 15 minutes), would reach it. So the execution counts its turns: every hold
of a send, and every entry into a step where a loop closes (`graph.loop_heads`: every loop passes
through one), adds one to `$.turns.n` (Pass `Turn 1 <label>` when there is no count yet, else
`Turn +1 <label>`; a loop head is entered through Choice `Turn <label>`, a hold counts on the
send's own outcome Choice). Between two counts no state is entered twice (every cycle of the
graph passes a count), so a turn adds at most `EVENTS_PER_STATE` events per state of the machine.
At the count that could pass the limit, Task `Continue <label>` (action `continue_as_new`)
starts the same state machine with the run's `steps`, `passes` and `"resume": <label>`, under a
name derived from this execution's (`baton.triggers.naming.continuation_name`), and this one
ends in Succeed `Continued in a new execution`. The journey's first state, Choice `Start`, sends
a resumed execution straight to the label's place (the hold's Wait, the loop head's entry), with
its passes as they were: a send of the next pass is the next pass, never the same one again.
A journey with no turn point has no `Start` state and costs nothing more. Nor has one whose only
turn is the hold of the send it begins with (a one-send campaign journey): a continued execution
begins at that send, which asks again at once instead of after the hold's Wait (the gate holds
it again if the hold still applies: one invocation more per continuation), and every run that
is not continued, nearly all of them, enters one state less.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from aws_cdk import App, Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from baton.journeys.durations import parse_duration
from baton.journeys.graph import in_loops, loop_heads
from baton.journeys.models import END, Journey, Step
from baton.runner.exceptions import RETRYABLE_ERRORS
from infra.journeys.confirm_delivery import build_confirm_delivery
from infra.journeys.handoff import build_handoff
from infra.journeys.wait_event import build_wait_event

# Errors the Lambda service reports for a failed invocation (throttling and 5xx): retried.
LAMBDA_SERVICE_ERRORS: Final = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)
# The errorType JourneyStepFunction reports when a provider, or an AWS service Baton reads
# itself, is unavailable or throttles it: named by the runner's exceptions.
BATON_RETRYABLE_ERRORS: Final = RETRYABLE_ERRORS
RETRY_ERRORS: Final = (*LAMBDA_SERVICE_ERRORS, *BATON_RETRYABLE_ERRORS)
RETRY_INTERVAL: Final = Duration.seconds(2)
RETRY_MAX_ATTEMPTS: Final = 4
RETRY_BACKOFF_RATE: Final = 2.0
RETRY_MAX_DELAY: Final = Duration.seconds(60)  # R-REL-4: capped backoff
# A send task that timed out (or whose runtime died) is run again: its ledger finishes what the
# lost invocation began instead of sending twice.
LAMBDA_TIMEOUT_ERRORS: Final = ("Sandbox.Timedout", "Lambda.Unknown")
SEND_RETRY_ERRORS: Final = (*RETRY_ERRORS, *LAMBDA_TIMEOUT_ERRORS)
PASSES_STATE: Final = "Count passes"

# R-REL-1: the most events Step Functions keeps in one execution's history; it fails past them.
HISTORY_EVENTS_LIMIT: Final = 25_000
# The most events one state can add each time it is entered: a task that is retried every time
# (entered; per attempt scheduled, started, submitted (callbacks), and succeeded, failed or timed
# out; exited). Other states add two.
EVENTS_PER_STATE: Final = 2 + 4 * (RETRY_MAX_ATTEMPTS + 1)
# Kept free for the execution's own start and end and the way out of a turn (the count's Choice,
# the Continue task, its Succeed, or the failure path if the Continue task fails).
CONTINUE_RESERVE: Final = 6 * EVENTS_PER_STATE
START_STATE: Final = "Start"
CONTINUED_STATE: Final = "Continued in a new execution"
UNKNOWN_RESUME_STATE: Final = "Unknown resume"
CONTINUE_ACTION: Final = "continue_as_new"
TURNS_PATH: Final = "$.turns"
RESUME_PATH: Final = "$.resume"

# Send outcomes (`$.steps.<id>.outcome`) and the branch answer's `next`.
SENT: Final = "sent"
HELD: Final = "held"
SKIPPED: Final = "skipped"
FAILED: Final = "failed"

# Step Functions names: states and state machines at most 80 characters.
MAX_NAME_LENGTH: Final = 80

FINISH_STATE: Final = "Finish journey"
COMPLETED_STATE: Final = "Journey completed"
RECORD_FAILURE_STATE: Final = "Record failure"
FAILED_STATE: Final = "Journey failed"


class CompileError(ValueError):
    """The journey cannot be compiled."""


def steps_path(step_id: str, *fields: str) -> str:
    """`$.steps.<step id>[.<field>...]`: where a step's result lives in the execution state."""
    return ".".join(("$.steps", step_id, *fields))


def step_form(step: Step) -> str:
    """The builder key of a step: its kind, refined where a kind has forms (`wait.event`)."""
    if step.send is not None:
        return "send.confirm_delivery" if step.send.confirm_delivery is not None else "send"
    if step.wait is not None:
        return "wait.event" if step.wait.event is not None else "wait.duration"
    return step.kind


@dataclass
class BuiltStep:
    """A step's states: `entry` is where other steps jump to; `connect` wires the exits once
    every step exists (steps may point forward)."""

    entry: sfn.State
    connect: Callable[[Targets], None]


@dataclass
class Turn:
    """A place where the execution counts a turn and, at the limit, continues as new: `label` is
    what a resumed execution's `$.resume` says, `target` where the turn goes on (and where a
    resumed execution starts). `choice` takes the turn's ways, under `when` if it also decides
    other things (a send's outcome: held)."""

    label: str
    target: sfn.State
    choice: sfn.Choice
    when: sfn.Condition | None
    first: sfn.State
    again: sfn.State
    renew: sfn.State
    # A hold's turn: the send task the run asks again once the hold's Wait is over.
    asks: sfn.State | None = None


def turn_limit(states: int, history_limit: int = HISTORY_EVENTS_LIMIT) -> int:
    """How many turns an execution of `states` states counts before it continues as new: the
    stretch before the first count and each turn after one add at most `EVENTS_PER_STATE` per
    state, and the way out needs `CONTINUE_RESERVE`."""
    per_turn = EVENTS_PER_STATE * states
    limit = (history_limit - CONTINUE_RESERVE) // per_turn - 1
    if limit < 1:
        raise CompileError(
            f"a journey of {states} states could pass Step Functions' {history_limit} history events"
            " in one turn of a loop (R-REL-1): split it into smaller journeys"
        )
    return limit


class Targets:
    """Entry states by step id, and the journey's shared end and failure states."""

    def __init__(self, entries: Mapping[str, sfn.State], finish: Callable[[], sfn.State]) -> None:
        self._entries = entries
        self._finish = finish

    def of(self, target: str) -> sfn.State:
        if target == END:
            return self._finish()
        try:
            return self._entries[target]
        except KeyError:
            raise CompileError(f"`next: {target}` names no step of the journey") from None


@dataclass
class JourneyBuild:
    """What a builder needs: the scope for its states, the journey, the task factory."""

    scope: Construct
    journey: Journey
    function: lambda_.IFunction
    history_limit: int = HISTORY_EVENTS_LIMIT
    _names: set[str] = field(default_factory=set)
    # Send steps a run can enter more than once: only they count their passes.
    looping: frozenset[str] = field(init=False)
    # Whether the run keeps `$.passes` (a send step on a loop): a continuation carries it on.
    counts_passes: bool = field(init=False)
    record_failure: sfn.State = field(init=False)
    turns: list[Turn] = field(default_factory=list)
    _continued: sfn.State | None = None
    _completed: sfn.State | None = None
    _finish: sfn.State | None = None

    def __post_init__(self) -> None:
        self.looping = frozenset(self.journey.steps[index].id for index in in_loops(self.journey))
        self.counts_passes = any(
            step.send is not None and step.id in self.looping for step in self.journey.steps
        )
        # Shared by every step: a caught error is recorded (journey.failed), then the run fails.
        journey_failed = sfn.Fail(
            self.scope,
            self.name(FAILED_STATE),
            error_path="$.error.Error",
            cause_path="$.error.Cause",
        )
        record_failure = self.task(RECORD_FAILURE_STATE, "fail", None, with_error=True)
        record_failure.add_catch(journey_failed, errors=[sfn.Errors.ALL], result_path="$.error")
        record_failure.next(journey_failed)
        self.record_failure = record_failure

    def finish(self) -> sfn.State:
        """`next: end` (or the last step): journey.completed on the timeline, then success. Made
        when a step goes there, so a journey whose last send completes it has no Finish task."""
        if self._finish is None:
            finish = self.task(FINISH_STATE, "finish", None)
            self.catch(finish)
            finish.next(self.completed())
            self._finish = finish
        return self._finish

    def name(self, state_name: str) -> str:
        if len(state_name) > MAX_NAME_LENGTH:
            raise CompileError(f"state name {state_name!r} is longer than {MAX_NAME_LENGTH} characters")
        if state_name in self._names:
            raise CompileError(f"two states would be named {state_name!r}")
        self._names.add(state_name)
        return state_name

    def payload(
        self,
        action: str,
        step: Step | None,
        *,
        with_error: bool = False,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The JourneyStepFunction payload, with a step kind's own `extra` fields. It names the
        execution, not the contact: the function reads whom the execution is about, and the
        trigger event's data, from the subjects table by the execution's name (Step Functions
        keeps every payload in the history, which erasure cannot delete)."""
        payload: dict[str, Any] = {
            "action": action,
            "journey": self.journey.journey,
            "execution": sfn.JsonPath.string_at("$$.Execution.Id"),
            "steps": sfn.JsonPath.object_at("$.steps"),
        }
        if step is not None:
            payload["step"] = step.id
        if with_error:
            payload["error"] = sfn.JsonPath.object_at("$.error")
        payload.update(extra or {})
        return payload

    def task(
        self,
        state_name: str,
        action: str,
        step: Step | None,
        *,
        with_error: bool = False,
        extra: Mapping[str, Any] | None = None,
        retry_errors: tuple[str, ...] = RETRY_ERRORS,
    ) -> sfn.TaskStateBase:
        """A JourneyStepFunction task (the one task payload); its answer lands in `$.steps.<step>`."""
        name = self.name(state_name)
        task = tasks.LambdaInvoke(
            self.scope,
            name,
            state_name=name,
            lambda_function=self.function,
            payload=sfn.TaskInput.from_object(self.payload(action, step, with_error=with_error, extra=extra)),
            # ASL's ResultSelector must be an object, so "the result is `$.Payload`" is written as
            # payload_response_only: the function's own answer, without the invoke envelope.
            payload_response_only=True,
            # One retry policy, below (R-REL-4: one layer); CDK's default would add a second.
            retry_on_service_exceptions=False,
            result_path=steps_path(step.id) if step is not None else sfn.JsonPath.DISCARD,
        )
        add_retry(task, retry_errors)
        return task

    def send_task(
        self, state_name: str, action: str, step: Step, extra: Mapping[str, Any] | None = None
    ) -> sfn.TaskStateBase:
        """A task that sends: it carries the step's pass and also retries a Lambda timeout."""
        counted = step.id in self.looping
        payload = {
            **(extra or {}),
            "pass": sfn.JsonPath.number_at(passes_path(step.id)) if counted else 1,
            # On its last retry a send the provider still throttles holds instead (R-REL-4).
            "retry_count": sfn.JsonPath.number_at("$$.State.RetryCount"),
            "max_retries": RETRY_MAX_ATTEMPTS,
        }
        task = self.task(state_name, action, step, extra=payload, retry_errors=SEND_RETRY_ERRORS)
        self.catch(task)
        return task

    def count_pass(self, step: Step, first: sfn.State) -> sfn.State:
        """The send step's entry: on a loop, one more pass through it, then its first task."""
        if step.id not in self.looping:
            return first
        counter = sfn.Pass(
            self.scope,
            self.name(f"Count pass {step.id}"),
            parameters={"n.$": f"States.MathAdd({passes_path(step.id)}, 1)"},
            result_path=passes_path(step.id).rsplit(".", 1)[0],
        )
        counter.next(first)
        return counter

    def callback(
        self,
        state_name: str,
        action: str,
        step: Step,
        *,
        timeout_seconds: int,
        comment: str,
        extra: Mapping[str, Any] | None = None,
    ) -> sfn.TaskStateBase:
        """A waitForTaskToken task (hand-offs, event waits, receipts): the function gets the task
        token and the execution waits for SendTaskSuccess, at most `timeout_seconds` (R-REL-3)."""
        name = self.name(state_name)
        task = tasks.LambdaInvoke(
            self.scope,
            name,
            state_name=name,
            comment=comment,
            lambda_function=self.function,
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            payload=sfn.TaskInput.from_object(
                self.payload(action, step, extra={**(extra or {}), "token": sfn.JsonPath.task_token})
            ),
            task_timeout=sfn.Timeout.duration(Duration.seconds(timeout_seconds)),
            retry_on_service_exceptions=False,
            result_path=steps_path(step.id),
        )
        add_retry(task)
        return task

    def catch(self, task: sfn.TaskStateBase) -> None:
        """Anything not retried, or still failing after the retries, ends the journey as failed."""
        task.add_catch(self.record_failure, errors=[sfn.Errors.ALL], result_path="$.error")

    def turn(
        self,
        label: str,
        step: Step,
        target: sfn.State,
        *,
        choice: sfn.Choice | None = None,
        when: sfn.Condition | None = None,
        asks: sfn.State | None = None,
    ) -> sfn.State:
        """Count a turn on the way to `target` (R-REL-1): on `choice` under `when` (a hold), or
        through a Choice of its own, which is returned (a loop head: enter it instead of `target`).
        `asks`: for a hold, the send task `target` leads back to. Its ways are wired by
        `wire_turns`, once the machine's size is known."""
        own = choice is None
        if choice is None:
            choice = sfn.Choice(self.scope, self.name(f"Turn {label}"))
        first = sfn.Pass(
            self.scope,
            self.name(f"Turn 1 {label}"),
            result=sfn.Result.from_object({"n": 1}),
            result_path=TURNS_PATH,
        )
        again = sfn.Pass(
            self.scope,
            self.name(f"Turn +1 {label}"),
            parameters={"n.$": f"States.MathAdd({TURNS_PATH}.n, 1)"},
            result_path=TURNS_PATH,
        )
        first.next(target)
        again.next(target)
        extra: dict[str, Any] = {"step": step.id, "resume": label}
        if self.counts_passes:
            extra["passes"] = sfn.JsonPath.object_at("$.passes")
        renew = self.task(f"Continue {label}", CONTINUE_ACTION, None, extra=extra)
        self.catch(renew)
        renew.next(self.continued())
        self.turns.append(Turn(label, target, choice, when, first, again, renew, asks))
        return choice if own else target

    def completed(self) -> sfn.State:
        """The journey's successful end (one per machine): after the Finish task, or straight
        after a last send step that sent (its task recorded the completion)."""
        if self._completed is None:
            self._completed = sfn.Succeed(self.scope, self.name(COMPLETED_STATE))
        return self._completed

    def continued(self) -> sfn.State:
        """Where an execution ends once a new one has taken the run on (one per machine)."""
        if self._continued is None:
            self._continued = sfn.Succeed(
                self.scope,
                self.name(CONTINUED_STATE),
                comment="The run goes on in a new execution of this state machine (R-REL-1).",
            )
        return self._continued

    def wire_turns(self) -> None:
        """Every turn's ways, now that the number of states, and so the turns allowed, is known:
        no count yet -> `Turn 1`; the limit reached -> `Continue`; else -> `Turn +1`. A Choice's
        rules are tried in order, and an And stops at its first false rule, so `$.turns.n` is
        read only where it exists."""
        limit = turn_limit(len(self._names), self.history_limit)
        for turn in self.turns:

            def under(condition: sfn.Condition, when: sfn.Condition | None = turn.when) -> sfn.Condition:
                return condition if when is None else sfn.Condition.and_(when, condition)

            turn.choice.when(under(sfn.Condition.is_not_present(TURNS_PATH)), turn.first)
            turn.choice.when(
                under(sfn.Condition.number_greater_than_equals(f"{TURNS_PATH}.n", limit)), turn.renew
            )
            if turn.when is None:
                turn.choice.otherwise(turn.again)
            else:
                turn.choice.when(turn.when, turn.again)


def passes_key(step_id: str) -> str:
    """The step's counter under `$.passes`: `-` written `_`, which step ids never contain, since
    a path with `-` is not read inside an intrinsic function (`States.MathAdd`)."""
    return step_id.replace("-", "_")


def passes_path(step_id: str) -> str:
    """`$.passes.<key>.n`: how many times the execution entered the send step."""
    return f"$.passes.{passes_key(step_id)}.n"


def add_retry(task: sfn.TaskStateBase, errors: tuple[str, ...] = RETRY_ERRORS) -> None:
    """Throttling and 5xx: exponential backoff with full jitter (R-REL-4)."""
    task.add_retry(
        errors=list(errors),
        interval=RETRY_INTERVAL,
        max_attempts=RETRY_MAX_ATTEMPTS,
        backoff_rate=RETRY_BACKOFF_RATE,
        max_delay=RETRY_MAX_DELAY,
        jitter_strategy=sfn.JitterType.FULL,
    )


StepBuilder = Callable[[JourneyBuild, int, Step], BuiltStep]


def build_send(build: JourneyBuild, index: int, step: Step) -> BuiltStep:
    # The last step completes the journey in its own task when it sends: no Finish task after it.
    ends = build.journey.next_of(index) == END
    task = build.send_task(f"Send {step.id}", "send", step, extra={"ends": True} if ends else None)
    outcome = sfn.Choice(build.scope, build.name(f"{step.id} outcome"))
    hold = sfn.Wait(
        build.scope,
        build.name(f"Hold {step.id}"),
        time=sfn.WaitTime.timestamp_path(steps_path(step.id, "until")),
    )
    skipped = sfn.Succeed(
        build.scope,
        build.name(f"{step.id} skipped"),
        comment="No channel was allowed; the reason is on the timeline.",
    )
    failed = sfn.Fail(
        build.scope,
        build.name(f"{step.id} failed"),
        error="Baton.SendFailed",
        cause=f"Every allowed channel of step {step.id} failed; the attempts are on the timeline.",
    )
    unexpected = _unexpected(build, step)
    task.next(outcome)
    hold.next(task)
    # Held: a turn (the send is asked again after the hold), counted on the way to the hold.
    build.turn(
        f"Hold {step.id}",
        step,
        hold,
        choice=outcome,
        when=sfn.Condition.string_equals(steps_path(step.id, "outcome"), HELD),
        asks=task,
    )

    def connect(targets: Targets) -> None:
        outcome.when(
            sfn.Condition.string_equals(steps_path(step.id, "outcome"), SENT),
            build.completed() if ends else targets.of(build.journey.next_of(index)),
        )
        outcome.when(sfn.Condition.string_equals(steps_path(step.id, "outcome"), SKIPPED), skipped)
        outcome.when(sfn.Condition.string_equals(steps_path(step.id, "outcome"), FAILED), failed)
        outcome.otherwise(unexpected)

    return BuiltStep(build.count_pass(step, task), connect)


def build_wait_duration(build: JourneyBuild, index: int, step: Step) -> BuiltStep:
    assert step.wait is not None
    assert step.wait.duration is not None
    seconds = int(parse_duration(step.wait.duration).total_seconds())
    wait = sfn.Wait(
        build.scope,
        build.name(f"Wait {step.id}"),
        time=sfn.WaitTime.duration(Duration.seconds(seconds)),
        comment=f"wait {step.wait.duration}",
    )

    def connect(targets: Targets) -> None:
        wait.next(targets.of(build.journey.next_of(index)))

    return BuiltStep(wait, connect)


def build_branch(build: JourneyBuild, index: int, step: Step) -> BuiltStep:
    assert step.branch is not None
    branch = step.branch
    # Every place the branch may go, in the order written: the cases, then the default.
    return _choose(build, step, "Branch", "branch", [*(case.next for case in branch.cases), branch.default])


def build_split(build: JourneyBuild, index: int, step: Step) -> BuiltStep:
    """The runner assigns the contact's variant (`{variant, next}`); the Choice goes its way."""
    assert step.split is not None
    return _choose(build, step, "Split", "split", [variant.next for variant in step.split.variants])


def _choose(build: JourneyBuild, step: Step, label: str, action: str, targets: list[str]) -> BuiltStep:
    """Task `<label> <id>` answers `next` -> Choice `<id> next` on `$.steps.<id>.next`."""
    task = build.task(f"{label} {step.id}", action, step)
    build.catch(task)
    choice = sfn.Choice(build.scope, build.name(f"{step.id} next"))
    unexpected = _unexpected(build, step)
    task.next(choice)
    destinations = list(dict.fromkeys(targets))

    def connect(targets: Targets) -> None:
        for destination in destinations:
            choice.when(
                sfn.Condition.string_equals(steps_path(step.id, "next"), destination), targets.of(destination)
            )
        choice.otherwise(unexpected)

    return BuiltStep(task, connect)


def _unexpected(build: JourneyBuild, step: Step) -> sfn.State:
    """A Choice fell through: the Lambda answered something this definition does not know.
    Recorded like any failure (the Record failure task reads `$.error`)."""
    unexpected = sfn.Pass(
        build.scope,
        build.name(f"Unexpected {step.id}"),
        parameters={
            "Error": "Baton.UnexpectedAnswer",
            "Cause": f"Step {step.id} answered something the state machine does not know.",
        },
        result_path="$.error",
    )
    unexpected.next(build.record_failure)
    return unexpected


# One builder per step form of the journey DSL.
STEP_BUILDERS: dict[str, StepBuilder] = {
    "send": build_send,
    "send.confirm_delivery": build_confirm_delivery,  # infra/journeys/confirm_delivery.py
    "wait.duration": build_wait_duration,
    "wait.event": build_wait_event,  # infra/journeys/wait_event.py
    "branch": build_branch,
    "handoff": build_handoff,  # infra/journeys/handoff.py
    "split": build_split,
}


def compile_journey(
    scope: Construct,
    journey: Journey,
    *,
    function: lambda_.IFunction,
    history_limit: int = HISTORY_EVENTS_LIMIT,
) -> sfn.IChainable:
    """The journey's states under `scope` (one scope per journey: state names are its construct
    ids); returns the start state. `history_limit`: the history events an execution stays under
    (Step Functions' own limit; smaller in tests that run a continuation quickly)."""
    # A schedule trigger compiles like an event trigger (same states, same input);
    # only what starts it differs (infra/constructs/schedules.py, baton.schedules).
    build = JourneyBuild(scope=scope, journey=journey, function=function, history_limit=history_limit)
    built: dict[str, BuiltStep] = {}
    for index, step in enumerate(journey.steps):
        builder = STEP_BUILDERS.get(step_form(step))
        if builder is None:
            raise CompileError(f"journey {journey.journey}, step {step.id}: no builder for {step_form(step)}")
        built[step.id] = builder(build, index, step)
    entries = {step_id: b.entry for step_id, b in built.items()}
    for index in sorted(loop_heads(journey)):
        step = journey.steps[index]
        entries[step.id] = build.turn(step.id, step, built[step.id].entry)
    targets = Targets(entries, build.finish)
    for b in built.values():
        b.connect(targets)
    first = entries[journey.steps[0].id]
    sends = [step.id for step in journey.steps if step.send is not None and step.id in build.looping]
    if sends:
        passes = sfn.Pass(
            scope,
            build.name(PASSES_STATE),
            result=sfn.Result.from_object({passes_key(step_id): {"n": 0} for step_id in sends}),
            result_path="$.passes",
        )
        passes.next(first)
        first = passes
    if not build.turns:
        return first
    if all(turn.asks is first for turn in build.turns):
        # Every turn holds the first send: a continued run resumes by asking it again.
        build.wire_turns()
        return first
    # A new execution that continues a run starts where the run was; any other, at the beginning.
    start = sfn.Choice(scope, build.name(START_STATE))
    start.when(sfn.Condition.is_not_present(RESUME_PATH), first)
    for turn in build.turns:
        start.when(sfn.Condition.string_equals(RESUME_PATH, turn.label), turn.target)
    unknown = sfn.Pass(
        scope,
        build.name(UNKNOWN_RESUME_STATE),
        parameters={
            "Error": "Baton.UnknownResume",
            "Cause": "The execution was started to resume at a place this definition does not have.",
        },
        result_path="$.error",
    )
    unknown.next(build.record_failure)
    start.otherwise(unknown)
    build.wire_turns()
    return start


# What render_definition writes for a pseudo parameter in a rendered definition.
_PSEUDO_PARAMETERS: Final = {"AWS::Partition": "aws"}


def render_definition(
    journey: Journey, *, function_arn: str, history_limit: int = HISTORY_EVENTS_LIMIT
) -> dict[str, Any]:
    """The journey's Amazon States Language as a dict, tasks invoking `function_arn`: for tests,
    previews and tools that create the state machine themselves (no stack, no synth)."""
    stack = Stack(App(), "Render")
    function = lambda_.Function.from_function_arn(stack, "JourneyStepFunction", function_arn)
    scope = Construct(stack, journey.journey)
    start = compile_journey(scope, journey, function=function, history_limit=history_limit)
    graph = sfn.StateGraph(start.start_state, f"journey {journey.journey}")
    # Rendered to JSON by CDK itself: resolving to Python would drop `"ResultPath": null`.
    rendered = stack.resolve(stack.to_json_string(graph.to_graph_json()))
    if isinstance(rendered, dict):
        # Callback tasks' `arn:${AWS::Partition}:states:::lambda:invoke.waitForTaskToken`
        # makes the text an Fn::Join; the pseudo parameter is rendered as the commercial partition.
        rendered = "".join(
            part if isinstance(part, str) else _PSEUDO_PARAMETERS[part["Ref"]]
            for part in rendered["Fn::Join"][1]
        )
    definition: dict[str, Any] = json.loads(rendered)
    definition["QueryLanguage"] = "JSONPath"
    return definition
