"""Waiting for events on in-memory services: the waiter is stored by the
`await_event` task, resumed once by `EventService.record` (a second delivery resumes nothing),
removed by the timeout path; every event is on the timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools import Metrics

from baton.clock import FixedClock, to_iso
from baton.consent.repository import InMemoryConsentRepository
from baton.consent.service import ConsentService
from baton.contacts.models import ContactInput
from baton.contacts.repository import InMemoryContactRepository
from baton.contacts.service import ContactService
from baton.data.once import InMemoryOnceTable
from baton.delivery.gate import GatePolicy
from baton.delivery.service import Dispatcher
from baton.journeys.catalog import Catalog
from baton.journeys.models import Journey
from baton.runner.context import RunnerContext
from baton.runner.exceptions import InvalidStep
from baton.runner.models import StepRequest
from baton.runner.once import SendLedger
from baton.runner.service import JourneyRunner
from baton.settings import Settings
from baton.subscriptions.links import Links
from baton.suppression.repository import InMemorySuppressionRepository
from baton.suppression.service import SuppressionService
from baton.timeline.repository import InMemoryTimelineRepository
from baton.timeline.service import TimelineService
from baton.triggers.executions import InMemoryExecutions
from baton.triggers.models import EventIn
from baton.triggers.runs import InMemoryRunRepository
from baton.triggers.service import EventService
from baton.triggers.subjects import InMemorySubjectRepository
from baton.waits.models import Waiter
from baton.waits.repository import InMemoryWaitRepository
from baton.waits.service import WAIT_EVENT_RECEIVED, WAIT_STARTED, WAIT_TIMED_OUT, WaitService
from baton.waits.tokens import InMemoryTaskTokens
from tests.subjects import record_subject, subject_of

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
PREFIX = "arn:aws:states:us-east-1:123456789012:stateMachine:Baton-"
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:Baton-survey:survey-0123abcd"

SURVEY = Journey.model_validate(
    {
        "journey": "survey",
        "owner": "cx@example.com",
        "purpose": "transactional",
        "review_by": "2027-01-01",
        "trigger": {"event": "ticket.closed"},
        "steps": [
            {"id": "answered", "wait": {"event": "survey.answered", "timeout": "3d"}},
            {
                "id": "route",
                "branch": {
                    "cases": [{"when": {"event_received": "answered"}, "next": "end"}],
                    "default": "end",
                },
            },
        ],
    }
)
THANKS = Journey.model_validate(
    {
        "journey": "thanks",
        "owner": "cx@example.com",
        "purpose": "transactional",
        "review_by": "2027-01-01",
        "trigger": {"event": "survey.answered"},
        "steps": [{"id": "pause", "wait": {"duration": "1d"}}],
    }
)
CATALOG = Catalog(root=Path("journeys"), journeys={"survey": SURVEY, "thanks": THANKS})


class World:
    def __init__(self) -> None:
        self.clock = FixedClock(T0)
        self.timeline = TimelineService(InMemoryTimelineRepository(), self.clock)
        self.consent = ConsentService(InMemoryConsentRepository(), self.timeline, self.clock)
        self.suppression = SuppressionService(
            InMemorySuppressionRepository(), lambda: b"salt" * 16, self.clock
        )
        self.contacts = ContactService(
            InMemoryContactRepository(), self.consent, self.timeline, self.suppression, self.clock
        )
        self.waiters = InMemoryWaitRepository()
        self.tokens = InMemoryTaskTokens()
        self.waits = WaitService(self.waiters, self.tokens, self.timeline, self.clock)
        self.executions = InMemoryExecutions()
        self.subjects = InMemorySubjectRepository()
        self.events = EventService(
            catalog=CATALOG,
            contacts=self.contacts,
            timeline=self.timeline,
            runs=InMemoryRunRepository(),
            subjects=self.subjects,
            executions=self.executions,
            clock=self.clock,
            state_machine_arn_prefix=PREFIX,
            naming_key=lambda: b"n" * 32,
            waits=self.waits,
        )
        settings = Settings()
        context = RunnerContext(
            catalog=lambda: CATALOG,
            contacts=self.contacts,
            timeline=self.timeline,
            links=lambda: Links(settings, b"k" * 32, self.clock.now()),
            once=SendLedger(InMemoryOnceTable()),
            clock=self.clock,
            metrics=Metrics(namespace="BatonWaitTest"),
            brand="Baton",
            postal_address="1 Main St",
            subjects=self.subjects,
        )
        dispatcher = Dispatcher(
            {},
            self.suppression,
            self.consent,
            self.timeline,
            metrics=context.metrics,
            policy=GatePolicy(),
            clock=self.clock,
        )
        self.runner = JourneyRunner(context, dispatcher, waits=self.waits)
        self.contacts.upsert("ana", ContactInput(email="ana@example.com"))
        self.contacts.upsert("bo", ContactInput(email="bo@example.com"))

    def kinds(self, kind: str, contact_id: str = "ana") -> list[dict[str, Any]]:
        return [dict(e.detail) for e in reversed(self.timeline.all(contact_id)) if e.kind == kind]

    def task(
        self,
        action: str,
        *,
        token: str | None = "token-1",  # noqa: S107 (a task token, not a password)
        contact_id: str = "ana",
        **extra: Any,
    ) -> Any:
        record_subject(self.subjects, subject_of(EXECUTION, contact_id, "survey", "ticket.closed"))
        payload = {
            "action": action,
            "journey": "survey",
            "step": "answered",
            "execution": EXECUTION,
            "steps": {},
            "token": token,
            **extra,
        }
        return self.runner.handle(StepRequest.model_validate(payload))


def _event(key: str = "k1", contact_id: str = "ana", type_: str = "survey.answered") -> EventIn:
    return EventIn(contact_id=contact_id, type=type_, data={"score": 9}, idempotency_key=key)


@pytest.fixture
def world() -> World:
    return World()


def test_await_event_stores_the_waiter_with_its_token_and_timeout(world: World) -> None:
    world.task("await_event")

    (waiter,) = world.waiters.of_contact("ana")
    assert (waiter.event_type, waiter.execution_name, waiter.step, waiter.token) == (
        "survey.answered",
        "survey-0123abcd",
        "answered",
        "token-1",
    )
    assert waiter.timeout_at == T0 + timedelta(days=3)
    assert waiter.sort_key == "survey.answered#survey-0123abcd#answered"
    (started,) = world.kinds(WAIT_STARTED)
    assert started["event"] == "survey.answered"
    assert started["timeout_at"] == to_iso(T0 + timedelta(days=3))


def test_the_answer_a_resumed_execution_keeps_holds_neither_the_events_data_nor_its_key(
    world: World,
) -> None:
    world.task("await_event")
    event = EventIn(
        contact_id="ana",
        type="survey.answered",
        data={"comment": "Ana from 5th avenue loved it"},
        idempotency_key="survey-ana@example.com",
    )

    world.events.record(event)

    ((_, answer),) = world.tokens.sent
    assert "Ana" not in str(answer)
    assert "ana@example.com" not in str(answer)


def test_the_event_resumes_the_waiting_execution_once(world: World) -> None:
    world.task("await_event")

    world.events.record(_event())

    assert world.tokens.sent == [("token-1", {"event_received": True, "event": {"type": "survey.answered"}})]
    assert world.waiters.of_contact("ana") == []
    (received,) = world.kinds(WAIT_EVENT_RECEIVED)
    assert (received["journey"], received["step"], received["idempotency_key"]) == (
        "survey",
        "answered",
        "k1",
    )


def test_the_same_event_twice_resumes_nothing_the_second_time(world: World) -> None:
    world.task("await_event")
    world.events.record(_event())

    world.events.record(_event())  # the same key (no idempotency layer here: the waiter is gone)
    world.events.record(_event(key="k2"))  # even another delivery of the type

    assert len(world.tokens.sent) == 1
    assert len(world.kinds(WAIT_EVENT_RECEIVED)) == 1


def test_an_event_for_another_contact_or_type_resumes_nothing(world: World) -> None:
    world.task("await_event")

    world.events.record(_event(contact_id="bo"))
    world.events.record(_event(type_="survey.answeredx"))

    assert world.tokens.sent == []
    assert len(world.waiters.of_contact("ana")) == 1


def test_an_event_nobody_waits_for_still_starts_journeys_and_is_on_the_timeline(world: World) -> None:
    answer = world.events.record(_event())

    assert answer.journeys_started == ["thanks"]
    (received,) = world.kinds("event.received")
    assert received == {
        "type": "survey.answered",
        "data": {"score": 9},
        "idempotency_key": "k1",
        "journeys_started": ["thanks"],
        "waits_resumed": [],
    }


def test_the_event_says_which_waits_it_resumed(world: World) -> None:
    world.task("await_event")

    world.events.record(_event())

    (received,) = world.kinds("event.received")
    assert received["waits_resumed"] == ["survey/answered"]


def test_a_stale_token_is_dropped_without_a_received_record(world: World) -> None:
    world.task("await_event", token="expired")
    world.tokens.stale.add("expired")

    world.events.record(_event())

    assert world.waiters.of_contact("ana") == []
    assert world.kinds(WAIT_EVENT_RECEIVED) == []


def test_a_failed_resume_puts_the_waiter_back_for_the_retry(world: World) -> None:
    world.task("await_event")

    class Broken(InMemoryTaskTokens):
        def succeed(self, token: str, output: dict[str, Any]) -> bool:
            raise RuntimeError("Step Functions is unavailable")

    waits = WaitService(world.waiters, Broken(), world.timeline, world.clock)
    with pytest.raises(RuntimeError):
        waits.resume("ana", "survey.answered", "k1")

    assert len(world.waiters.of_contact("ana")) == 1
    assert len(world.waits.resume("ana", "survey.answered", "k1")) == 1


def test_a_retried_await_event_replaces_the_token(world: World) -> None:
    world.task("await_event", token="token-1")
    world.task("await_event", token="token-2")

    world.events.record(_event())

    assert [token for token, _ in world.tokens.sent] == ["token-2"]


def test_the_timeout_path_removes_the_waiter_and_answers_not_received(world: World) -> None:
    world.task("await_event")

    result = world.task("wait_timed_out", token=None)
    again = world.task("wait_timed_out", token=None)

    assert result == again == {"event_received": False, "event": None}
    assert world.waiters.of_contact("ana") == []
    assert len(world.kinds(WAIT_TIMED_OUT)) == 1
    world.events.record(_event())
    assert world.tokens.sent == []


def test_await_event_without_a_token_is_refused(world: World) -> None:
    with pytest.raises(InvalidStep, match="task token"):
        world.task("await_event", token=None)


def test_await_event_on_a_step_that_is_not_an_event_wait_is_refused(world: World) -> None:
    with pytest.raises(InvalidStep, match="not a wait for an event"):
        world.task("await_event", step="route")


def test_a_runner_without_the_waits_service_refuses_event_waits(world: World) -> None:
    runner = JourneyRunner(
        world.runner.context,
        Dispatcher(
            {},
            world.suppression,
            world.consent,
            world.timeline,
            metrics=world.runner.context.metrics,
            policy=GatePolicy(),
            clock=world.clock,
        ),
    )
    request = StepRequest.model_validate(
        {
            "action": "await_event",
            "journey": "survey",
            "step": "answered",
            "execution": EXECUTION,
            "token": "t",
        }
    )
    record_subject(world.subjects, subject_of(EXECUTION, "ana", "survey"))

    with pytest.raises(InvalidStep, match="waits service"):
        runner.handle(request)


def test_the_waiters_of_an_erased_contact_are_removed() -> None:
    repository = InMemoryWaitRepository()
    for step in ("a", "b"):
        repository.put(
            Waiter(
                contact_id="ana",
                event_type="x",
                journey="j",
                execution=EXECUTION,
                execution_name="n",
                step=step,
                token=step,
                started_at=T0,
                timeout_at=T0,
            )
        )

    assert repository.delete_all("ana") == 2
    assert repository.of_contact("ana") == []
