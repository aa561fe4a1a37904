"""Compiled journeys on the embedded AWS, run deterministically: moto's executing Step Functions
interprets the state machines under the local stack's scheduler, on a virtual clock that is also
Baton's process clock, and their Lambda tasks call a handler in this process.

What a test sees never depends on how fast moto's threads run: a call from the test that starts
or resumes executions (StartExecution, SendTaskSuccess, StopExecution, directly or through a
handler the test calls) returns once every execution is asleep (a Wait, a callback task waiting
for its token or its timeout) or finished; and only `advance` moves time, so an SLA or a receipt
deadline falls due when the test says so, not when the wall clock gets there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import boto3
import pytest
from pydantic import JsonValue

from baton import bootstrap
from baton import secrets as baton_secrets
from baton.contacts.repository import DynamoContactRepository
from baton.journeys.catalog import load_catalog
from baton.journeys.durations import parse_duration
from baton.triggers.naming import execution_name
from baton.triggers.subjects import DynamoSubjectRepository
from infra.journeys.compiler import HISTORY_EVENTS_LIMIT, render_definition
from infra.local.clock import VirtualClock
from infra.local.exceptions import InvocationError
from infra.local.runtime import LambdaContext, running_handler
from infra.local.scheduler import Scheduler
from tests.subjects import subject_of

if TYPE_CHECKING:
    from infra.local.stepfunctions import LocalStepFunctions

REGION: Final = "us-east-1"  # of the embedded AWS (tests/integration/conftest.py)


def execution_name_now(journey_id: str, contact_id: str, key: str) -> str:
    """The execution name Baton gives this start: keyed with the stack's secret, for the
    contact's generation as stored now (its current life)."""
    settings = bootstrap.services().settings
    record = DynamoContactRepository(settings.contacts_table).get(contact_id)
    generation = record.generation if record is not None else None
    return execution_name(
        journey_id, contact_id, key, key=baton_secrets.execution_name_key(settings), generation=generation
    )


ACCOUNT: Final = "123456789012"  # moto's default account
STEP_FUNCTION: Final = "Baton-JourneyStepFunction"
STEP_FUNCTION_ARN: Final = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{STEP_FUNCTION}"
STATE_MACHINE_PREFIX: Final = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:Baton-"

# A Lambda handler: (event, context) -> the JSON answer.
Handler = Callable[[Any, Any], Any]


def lambda_context(function_name: str, timeout_s: int = 15) -> LambdaContext:
    """What Lambda passes a handler of the function named `function_name`."""
    return LambdaContext(
        function_name=function_name,
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}",
        memory_limit_in_mb=512,
        aws_request_id="req-1",
        timeout_s=timeout_s,
    )


class JourneysOnMoto:
    """A catalog's journeys as state machines `Baton-<journey id>` whose tasks call `step` as
    JourneyStepFunction. `step` answers as the handler does; it raises `InvocationError` to
    fail as Lambda reports an unhandled error of type `error_type` (any other exception is
    reported with its class name, as the Python runtime does)."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.scheduler = Scheduler(clock)
        self.sfn: Any = boto3.client("stepfunctions", region_name=REGION)
        self._local: LocalStepFunctions | None = None
        self._step: Handler | None = None

    def deploy(self, catalog_dir: Path, step: Handler, *, history_limit: int = HISTORY_EVENTS_LIMIT) -> None:
        """Create the catalog's state machines, compiled as the CDK app compiles them, and run
        them on this scheduler with `step` as their JourneyStepFunction. `history_limit`: the
        history events each execution is compiled to stay under."""
        # Imported here: moto's ASL interpreter takes seconds to import.
        from infra.local.stepfunctions import LocalStepFunctions

        if self._local is not None:
            raise AssertionError("the journeys are deployed already")
        arns = []
        for journey_id, journey in load_catalog(catalog_dir).journeys.items():
            created = self.sfn.create_state_machine(
                name=f"Baton-{journey_id}",
                definition=json.dumps(
                    render_definition(journey, function_arn=STEP_FUNCTION_ARN, history_limit=history_limit)
                ),
                roleArn=f"arn:aws:iam::{ACCOUNT}:role/Baton-{journey_id}",
            )
            arns.append(created["stateMachineArn"])
        self._step = step
        self._local = LocalStepFunctions(
            self.scheduler, self._invoke, state_machine_arns=arns, functions={STEP_FUNCTION: STEP_FUNCTION}
        )
        self._local.attach()

    def start(
        self,
        journey_id: str,
        name: str,
        *,
        contact_id: str,
        event_type: str,
        data: dict[str, JsonValue] | None = None,
    ) -> str:
        """Start an execution about `contact_id` as a trigger does: whom it is about goes to the
        subjects table, the execution gets only the event type. It has run until it sleeps or
        ends when this returns."""
        subjects = DynamoSubjectRepository(bootstrap.services().settings.subjects_table)
        subjects.add(subject_of(name, contact_id, journey_id, event_type, data))
        input_ = {"event": {"type": event_type}, "steps": {}}
        arn: str = self.sfn.start_execution(
            stateMachineArn=f"{STATE_MACHINE_PREFIX}{journey_id}", name=name, input=json.dumps(input_)
        )["executionArn"]
        return arn

    def advance(self, by: timedelta | str) -> datetime:
        """Move the virtual clock on, running every wait and timeout that falls due on the way."""
        delta = parse_duration(by) if isinstance(by, str) else by
        return self.scheduler.advance_to(self.clock.now() + delta)

    def status(self, execution_arn: str) -> str:
        described: dict[str, Any] = self.sfn.describe_execution(executionArn=execution_arn)
        return str(described["status"])

    def entered(self, execution_arn: str) -> list[str]:
        """The states the execution entered, in order."""
        history = self.sfn.get_execution_history(executionArn=execution_arn)["events"]
        return [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        """Every event of the execution's history."""
        events: list[dict[str, Any]] = []
        for page in self.sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
            events.extend(page["events"])
        return events

    def executions(self, journey_id: str) -> list[dict[str, Any]]:
        listed: list[dict[str, Any]] = self.sfn.list_executions(
            stateMachineArn=f"{STATE_MACHINE_PREFIX}{journey_id}"
        )["executions"]
        return listed

    def close(self) -> None:
        """Stop what still runs (each ends ABORTED at once: it is asleep), then give moto back."""
        if self._local is None:
            return
        for machine in self.sfn.list_state_machines()["stateMachines"]:
            listed = self.sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]
            for execution in listed:
                if execution["status"] == "RUNNING":
                    self.sfn.stop_execution(executionArn=execution["executionArn"])
        self._local.detach()
        self._local = None

    def _invoke(self, function: str, event: Any) -> Any:
        if self._step is None:
            raise AssertionError("nothing deployed")
        with running_handler():
            try:
                answer = self._step(event, lambda_context(function))
            except InvocationError:
                raise
            except Exception as exc:
                raise InvocationError(
                    f"{function} raised {type(exc).__name__}: {exc}",
                    error_type=type(exc).__name__,
                    error_message=str(exc),
                ) from exc
        return json.loads(json.dumps(answer))


def serve_catalog(monkeypatch: pytest.MonkeyPatch, catalog_dir: Path) -> None:
    """The functions read `catalog_dir` from their next cold start on, starting executions of
    the journeys deployed here, and mail from example.com (a verified SES identity)."""
    from baton.triggers import wiring

    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="example.com")
    monkeypatch.setenv("BATON_JOURNEYS_DIR", str(catalog_dir))
    monkeypatch.setenv("BATON_STATE_MACHINE_ARN_PREFIX", STATE_MACHINE_PREFIX)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    bootstrap.reset()
    wiring.catalog.cache_clear()
