"""Waiting for events on moto: the waits table, EventService resuming a waiting
execution once (SendTaskSuccess), a compiled wait in moto's executing Step Functions resumed by
an event and one timing out, and the Baton bus handler starting a journey by deterministic name.
The executions run under the local stack's scheduler: a call that starts or resumes one returns
once it waits or ends."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

import baton.aws
from baton import bootstrap
from baton.clock import FixedClock
from baton.contacts.models import ContactInput
from baton.handlers import bus_events
from baton.privacy import erase_contact
from baton.settings import Settings
from baton.triggers import wiring
from baton.triggers.models import EventIn
from baton.triggers.subjects import DynamoSubjectRepository
from baton.waits.models import Waiter
from baton.waits.repository import DynamoWaitRepository
from baton.waits.service import WaitService
from baton.waits.tokens import StepFunctionsTaskTokens
from tests.integration.conftest import START
from tests.integration.journeys import (
    ACCOUNT,
    REGION,
    STATE_MACHINE_PREFIX,
    JourneysOnMoto,
    execution_name_now,
    lambda_context,
)


def _name(journey_id: str, contact_id: str, key: str) -> str:
    return execution_name_now(journey_id, contact_id, key)


BUS_EVENT = Path(__file__).resolve().parents[1] / "events" / "eventbridge_baton_event.json"

_TEMPLATE = """\
template: hello
owner: cx@example.com
purpose: transactional
locales:
  en:
    email: {subject: "Hello", html: "<p>Hello</p>", text: "Hello"}
"""
_JOURNEYS = {
    "survey": """\
journey: survey
owner: cx@example.com
purpose: transactional
review_by: 2027-01-01
trigger: {event: ticket.closed}
steps:
  - id: answered
    wait: {event: survey.answered, timeout: 1d}
  - id: route
    branch:
      cases:
        - when: {event_received: answered}
          next: end
      default: reminder
  - id: reminder
    send: {template: hello, channels: [email]}
""",
    "order-thanks": """\
journey: order-thanks
owner: shop@example.com
purpose: transactional
review_by: 2027-01-01
trigger: {event: order.placed}
steps:
  - id: pause
    wait: {duration: 1d}
  - id: thanks
    send: {template: hello, channels: [email]}
""",
}


def _waiter(
    step: str = "answered",
    token: str = "tok-1",  # noqa: S107 (a task token, not a password)
    event_type: str = "survey.answered",
) -> Waiter:
    return Waiter(
        contact_id="ana",
        event_type=event_type,
        journey="survey",
        execution=f"arn:aws:states:{REGION}:{ACCOUNT}:execution:Baton-survey:survey-1",
        execution_name="survey-1",
        step=step,
        token=token,
        started_at=START,
        timeout_at=START + timedelta(days=1),
    )


def _context() -> Any:
    return lambda_context("Baton-EventsFunction")


def _kinds(contact_id: str, kind: str) -> list[dict[str, Any]]:
    return [dict(e.detail) for e in bootstrap.services().timeline.all(contact_id) if e.kind == kind]


# The waits table --------------------------------------------------------------------------------


def test_the_waits_table_finds_a_contacts_waiters_by_event_type(aws: Settings) -> None:
    repository = DynamoWaitRepository(aws.waits_table)
    repository.put(_waiter())
    repository.put(_waiter(step="other", event_type="survey.answered.late"))

    (found,) = repository.of_event("ana", "survey.answered")  # the `#` keeps the longer type apart

    assert found == _waiter()
    assert repository.of_event("bo", "survey.answered") == []


def test_a_waiter_is_claimed_once_and_only_with_its_token(aws: Settings) -> None:
    repository = DynamoWaitRepository(aws.waits_table)
    repository.put(_waiter())

    assert repository.claim(_waiter(token="another")) is False
    assert repository.claim(_waiter()) is True
    assert repository.claim(_waiter()) is False
    assert repository.remove("ana", _waiter().sort_key) is False


# EventService resumes a waiter once (SendTaskSuccess stubbed) ----------------------------------


@pytest.fixture
def services(aws: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[bootstrap.Services]:
    root = tmp_path / "journeys"
    (root / "templates").mkdir(parents=True)
    (root / "templates" / "hello.yaml").write_text(_TEMPLATE)
    for journey_id, text in _JOURNEYS.items():
        (root / f"{journey_id}.yaml").write_text(text)
    monkeypatch.setenv("BATON_JOURNEYS_DIR", str(root))
    monkeypatch.setenv("BATON_STATE_MACHINE_ARN_PREFIX", STATE_MACHINE_PREFIX)
    bootstrap.reset()
    wiring.catalog.cache_clear()
    services = bootstrap.services()
    for contact_id in ("ana", "bo"):
        services.contacts.upsert(contact_id, ContactInput(email=f"{contact_id}@example.com"))
    yield services
    bootstrap.reset()
    wiring.catalog.cache_clear()


def test_an_event_resumes_the_waiting_execution_once(services: bootstrap.Services) -> None:
    DynamoWaitRepository(services.settings.waits_table).put(_waiter())
    stepfunctions = baton.aws.client("stepfunctions")
    expected = {"event_received": True, "event": {"type": "survey.answered"}}
    with Stubber(stepfunctions) as stub:
        stub.add_response(
            "send_task_success",
            {},
            {"taskToken": "tok-1", "output": json.dumps(expected, separators=(",", ":"))},
        )
        event = EventIn(
            contact_id="ana", type="survey.answered", data={"score": 9}, idempotency_key="answer-1"
        )

        first = wiring.event_service(services, _context()).record(event)
        # the same event again (idempotency record), and another delivery of the type: no call
        wiring.event_service(services, _context()).record(event)
        wiring.event_service(services, _context()).record(
            event.model_copy(update={"idempotency_key": "answer-2"})
        )

        stub.assert_no_pending_responses()
    assert first.journeys_started == []
    assert DynamoWaitRepository(services.settings.waits_table).of_contact("ana") == []
    (received,) = _kinds("ana", "wait.event_received")
    assert (received["journey"], received["step"], received["idempotency_key"]) == (
        "survey",
        "answered",
        "answer-1",
    )
    assert [d["idempotency_key"] for d in _kinds("ana", "event.received")] == ["answer-2", "answer-1"]


def test_the_resume_sends_the_event_as_the_steps_result(aws: Settings) -> None:
    client = boto3.client("stepfunctions", region_name=REGION)
    repository = DynamoWaitRepository(aws.waits_table)
    repository.put(_waiter())
    with Stubber(client) as stub:
        stub.add_response(
            "send_task_success",
            {},
            {
                "taskToken": "tok-1",
                "output": '{"event_received":true,"event":{"type":"survey.answered"}}',
            },
        )
        resumed = WaitService(
            repository, StepFunctionsTaskTokens(client), _NullTimeline(), FixedClock(START)
        ).resume("ana", "survey.answered", "k")

    assert [w.step for w in resumed] == ["answered"]


def test_a_token_step_functions_no_longer_knows_is_dropped(aws: Settings) -> None:
    client = boto3.client("stepfunctions", region_name=REGION)
    repository = DynamoWaitRepository(aws.waits_table)
    repository.put(_waiter())
    with Stubber(client) as stub:
        stub.add_client_error("send_task_success", service_error_code="TaskTimedOut")
        resumed = WaitService(
            repository, StepFunctionsTaskTokens(client), _NullTimeline(), FixedClock(START)
        ).resume("ana", "survey.answered", "k")

    assert resumed == []
    assert repository.of_contact("ana") == []


def test_a_failed_resume_keeps_the_waiter_for_the_retry(aws: Settings) -> None:
    client = boto3.client("stepfunctions", region_name=REGION)
    repository = DynamoWaitRepository(aws.waits_table)
    repository.put(_waiter())
    with Stubber(client) as stub:
        stub.add_client_error(
            "send_task_success", service_error_code="ThrottlingException", http_status_code=400
        )
        with pytest.raises(Exception, match="ThrottlingException"):
            WaitService(
                repository, StepFunctionsTaskTokens(client), _NullTimeline(), FixedClock(START)
            ).resume("ana", "survey.answered", "k")

    assert repository.of_contact("ana") == [_waiter()]


def test_erasure_removes_the_contacts_waiters(
    services: bootstrap.Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    DynamoWaitRepository(services.settings.waits_table).put(_waiter())

    report = erase_contact(services, "ana")

    assert report.waits_removed == 1
    assert DynamoWaitRepository(services.settings.waits_table).of_contact("ana") == []


class _NullTimeline:
    def record(self, contact_id: str, kind: str, detail: Mapping[str, object] | None = None) -> None:
        return None


# A compiled wait in moto's executing Step Functions -------------------------------------------


@dataclass
class FakeStep:
    """Stands in for JourneyStepFunction: `await_event` stores the waiter through the real
    WaitService (the DynamoDB table), other actions answer at once."""

    services: bootstrap.Services
    calls: list[dict[str, Any]] = field(default_factory=list)

    def answer(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(payload)
        action = payload["action"]
        if action in {"await_event", "wait_timed_out", "branch"}:
            from baton.runner.wiring import runner  # the real runner: its catalog, waits, timeline

            journey_runner, _ = runner()
            from baton.runner.models import StepRequest

            return journey_runner.handle(StepRequest.model_validate(payload))
        if action == "send":
            return {"outcome": "sent", "channel": "email", "until": None, "reason": None, "attempts": []}
        return {"outcome": "completed"}


@pytest.fixture
def machines(
    services: bootstrap.Services, journeys_on_moto: JourneysOnMoto
) -> tuple[JourneysOnMoto, FakeStep]:
    step = FakeStep(services)
    journeys_on_moto.deploy(Path(services.settings.journeys_dir), lambda event, context: step.answer(event))
    return journeys_on_moto, step


def test_a_compiled_wait_is_resumed_by_the_event_and_branches_on_it(
    services: bootstrap.Services, machines: tuple[JourneysOnMoto, FakeStep]
) -> None:
    journeys, step = machines
    events = wiring.event_service(bootstrap.services(), _context())  # on the journeys' clock
    events.record(EventIn(contact_id="ana", type="ticket.closed", data={}, idempotency_key="ticket-1"))
    name = _name("survey", "ana", "ticket-1")
    arn = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:Baton-survey:{name}"
    waits = DynamoWaitRepository(services.settings.waits_table)
    assert len(waits.of_contact("ana")) == 1

    events.record(EventIn(contact_id="ana", type="survey.answered", data={"score": 9}, idempotency_key="a-1"))

    described = journeys.sfn.describe_execution(executionArn=arn)
    assert described["status"] == "SUCCEEDED"
    actions = [(c["action"], c.get("step")) for c in step.calls if c["execution"] == arn]
    assert actions == [("await_event", "answered"), ("branch", "route"), ("finish", None)]
    branch = next(c for c in step.calls if c["action"] == "branch")
    assert branch["steps"]["answered"] == {"event_received": True, "event": {"type": "survey.answered"}}
    assert len(_kinds("ana", "wait.started")) == 1
    assert len(_kinds("ana", "wait.event_received")) == 1


# The Baton bus --------------------------------------------------------------------------------


def test_a_bus_event_starts_the_journey_by_its_deterministic_name(
    services: bootstrap.Services, machines: tuple[JourneysOnMoto, FakeStep]
) -> None:
    sfn = machines[0].sfn
    event = json.loads(BUS_EVENT.read_text())

    answer = bus_events.handler(event, _context())
    again = bus_events.handler(event, _context())  # EventBridge delivers at least once

    assert answer == again == {"journeys_started": ["order-thanks"]}
    (execution,) = sfn.list_executions(stateMachineArn=f"{STATE_MACHINE_PREFIX}order-thanks")["executions"]
    assert execution["name"] == _name("order-thanks", "ana", "shop-order-A-1001")
    described = sfn.describe_execution(executionArn=execution["executionArn"])
    assert json.loads(described["input"])["event"] == {"type": "order.placed"}
    subject = DynamoSubjectRepository(services.settings.subjects_table).get(execution["name"])
    assert subject is not None
    assert (subject.contact_id, subject.data) == ("ana", {"order_id": "A-1001", "total": "49.90"})
    (received,) = _kinds("ana", "event.received")
    assert received["journeys_started"] == ["order-thanks"]


def test_a_bus_event_without_the_envelope_fails_for_the_dead_letter_queue(
    services: bootstrap.Services,
) -> None:
    event = json.loads(BUS_EVENT.read_text())
    del event["detail"]["idempotency_key"]

    with pytest.raises(Exception, match="idempotency_key"):
        bus_events.handler(event, _context())
