"""Compiles a journey (the DSL contract, `baton.journeys.models.Journey`) into Step Functions states.

One Standard state machine per journey, JSONPath only (the local interpreter has no JSONata).
Every task invokes the one JourneyStepFunction with one payload (`baton.runner.models`); its answer
goes to `$.steps.<step id>`. Per step kind (`STEP_BUILDERS`, keyed by `step_form`):

- send: (on a loop: Pass `Count pass <id>` ->) Task `Send <id>` -> Choice `<id> outcome`: sent -> next step;
  held -> Wait `Hold <id>` (until `$.steps.<id>.until`) -> the Task again; skipped -> Succeed
  `<id> skipped`; failed -> Fail `<id> failed` (the Lambda has recorded and counted either
  outcome). 2 transitions when the message goes out at once (3 on a loop).
- wait {duration}: Wait `Wait <id>` of that many seconds.
- branch: Task `Branch <id>` -> Choice `<id> next` on `$.steps.<id>.next`.
- end: Task `Finish journey` -> Succeed `Journey completed`.
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
from baton.journeys.graph import in_loops
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


class Targets:
    """Entry states by step id, and the journey's shared end and failure states."""

    def __init__(self, entries: Mapping[str, sfn.State], finish: sfn.State) -> None:
        self._entries = entries
        self._finish = finish

    def of(self, target: str) -> sfn.State:
        if target == END:
            return self._finish
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
    _names: set[str] = field(default_factory=set)
    # Send steps a run can enter more than once: only they count their passes.
    looping: frozenset[str] = field(init=False)
    record_failure: sfn.State = field(init=False)
    finish: sfn.State = field(init=False)

    def __post_init__(self) -> None:
        self.looping = frozenset(self.journey.steps[index].id for index in in_loops(self.journey))
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
        # `next: end` (or the last step): journey.completed on the timeline, then success.
        finish = self.task(FINISH_STATE, "finish", None)
        self.catch(finish)
        finish.next(sfn.Succeed(self.scope, self.name(COMPLETED_STATE)))
        self.finish = finish

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
        payload = {**(extra or {}), "pass": sfn.JsonPath.number_at(passes_path(step.id)) if counted else 1}
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
    task = build.send_task(f"Send {step.id}", "send", step)
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

    def connect(targets: Targets) -> None:
        outcome.when(
            sfn.Condition.string_equals(steps_path(step.id, "outcome"), SENT),
            targets.of(build.journey.next_of(index)),
        )
        outcome.when(sfn.Condition.string_equals(steps_path(step.id, "outcome"), HELD), hold)
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
    task = build.task(f"Branch {step.id}", "branch", step)
    build.catch(task)
    choice = sfn.Choice(build.scope, build.name(f"{step.id} next"))
    unexpected = _unexpected(build, step)
    task.next(choice)
    # Every place the branch may go, in the order written: the cases, then the default.
    destinations = list(dict.fromkeys([*(case.next for case in branch.cases), branch.default]))

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
}


def compile_journey(scope: Construct, journey: Journey, *, function: lambda_.IFunction) -> sfn.IChainable:
    """The journey's states under `scope` (one scope per journey: state names are its construct
    ids); returns the start state."""
    # A schedule trigger compiles like an event trigger (same states, same input);
    # only what starts it differs (infra/constructs/schedules.py, baton.schedules).
    build = JourneyBuild(scope=scope, journey=journey, function=function)
    built: dict[str, BuiltStep] = {}
    for index, step in enumerate(journey.steps):
        builder = STEP_BUILDERS.get(step_form(step))
        if builder is None:
            raise CompileError(f"journey {journey.journey}, step {step.id}: no builder for {step_form(step)}")
        built[step.id] = builder(build, index, step)
    targets = Targets({step_id: b.entry for step_id, b in built.items()}, build.finish)
    for b in built.values():
        b.connect(targets)
    first = built[journey.steps[0].id].entry
    sends = [step.id for step in journey.steps if step.send is not None and step.id in build.looping]
    if not sends:
        return first
    passes = sfn.Pass(
        scope,
        build.name(PASSES_STATE),
        result=sfn.Result.from_object({passes_key(step_id): {"n": 0} for step_id in sends}),
        result_path="$.passes",
    )
    passes.next(first)
    return passes


# What render_definition writes for a pseudo parameter in a rendered definition.
_PSEUDO_PARAMETERS: Final = {"AWS::Partition": "aws"}


def render_definition(journey: Journey, *, function_arn: str) -> dict[str, Any]:
    """The journey's Amazon States Language as a dict, tasks invoking `function_arn`: for tests,
    previews and tools that create the state machine themselves (no stack, no synth)."""
    stack = Stack(App(), "Render")
    function = lambda_.Function.from_function_arn(stack, "JourneyStepFunction", function_arn)
    scope = Construct(stack, journey.journey)
    start = compile_journey(scope, journey, function=function)
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
