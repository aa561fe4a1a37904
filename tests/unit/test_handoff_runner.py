"""The handoff and handoff_timeout journey tasks, with in-memory services: the task each creates,
the step result the timeout path answers, and how the journey ends per `on_timeout`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools import Metrics

from baton.clock import FixedClock
from baton.consent.repository import InMemoryConsentRepository
from baton.consent.service import ConsentService
from baton.contacts.models import ContactInput
from baton.contacts.repository import InMemoryContactRepository
from baton.contacts.service import ContactService
from baton.data.once import InMemoryOnceTable
from baton.handoffs.exceptions import QueueNotifyFailed
from baton.handoffs.models import Task, TaskStatus, task_id_of
from baton.handoffs.repository import InMemoryTaskRepository
from baton.handoffs.service import HandoffService
from baton.journeys.catalog import Catalog
from baton.journeys.models import Journey
from baton.runner.context import RunnerContext
from baton.runner.exceptions import RETRYABLE_ERRORS, InvalidStep
from baton.runner.handoff import HandoffTask, HandoffTimeoutTask
from baton.runner.models import StepRequest
from baton.runner.once import SendLedger
from baton.settings import METRICS_NAMESPACE
from baton.suppression.repository import InMemorySuppressionRepository
from baton.suppression.service import SuppressionService
from baton.timeline.repository import InMemoryTimelineRepository
from baton.timeline.service import TimelineService
from baton.triggers.subjects import InMemorySubjectRepository
from tests.subjects import subject_of

NOW = datetime(2026, 5, 4, 15, tzinfo=UTC)
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:Baton-support:support-0123abcd"


def _journey(on_timeout: str, escalate_to: str | None = None) -> Journey:
    handoff: dict[str, Any] = {"queue": "support-agents", "sla": "24h", "on_timeout": on_timeout}
    if escalate_to:
        handoff["escalate_to"] = escalate_to
    return Journey.model_validate(
        {
            "journey": f"support-{on_timeout}",
            "owner": "cx@example.com",
            "purpose": "transactional",
            "review_by": "2027-03-01",
            "description": "A support request",
            "trigger": {"event": "support.request_created"},
            "steps": [{"id": "agent-reply", "handoff": handoff}],
        }
    )


@dataclass
class Notifier:
    notified: list[Task] = field(default_factory=list)
    fail: bool = False

    def notify(self, task: Task) -> Mapping[str, Any]:
        if self.fail:
            raise QueueNotifyFailed("down")
        self.notified.append(task)
        return {"topic": True, "email": False}


class Callbacks:
    def succeed(self, token: str, output: Mapping[str, Any]) -> None:
        pass


@dataclass
class World:
    clock: FixedClock
    timeline: TimelineService
    tasks: InMemoryTaskRepository
    notifier: Notifier
    context: RunnerContext
    service: HandoffService

    def request(self, action: str, journey: str, **extra: Any) -> StepRequest:
        request = StepRequest.model_validate(
            {"action": action, "journey": journey, "step": "agent-reply", "execution": EXECUTION, **extra}
        )
        return request.about(subject_of(EXECUTION, "c-1", journey))

    def kinds(self) -> list[str]:
        return [event.kind for event in reversed(self.timeline.all("c-1"))]


@pytest.fixture
def world() -> Iterator[World]:
    clock = FixedClock(NOW)
    timeline = TimelineService(InMemoryTimelineRepository(), clock)
    consent = ConsentService(InMemoryConsentRepository(), timeline, clock)
    suppression = SuppressionService(InMemorySuppressionRepository(), lambda: b"salt" * 8, clock)
    contacts = ContactService(InMemoryContactRepository(), consent, timeline, suppression, clock)
    contacts.upsert("c-1", ContactInput(email="ana@example.com", first_name="Ana", last_name="Silva"))
    journeys = {
        j.journey: j for j in (_journey("end"), _journey("continue"), _journey("escalate", "support-leads"))
    }
    catalog = Catalog(root=Path("journeys"), journeys=journeys, templates={})
    metrics = Metrics(namespace=METRICS_NAMESPACE)
    context = RunnerContext(
        catalog=lambda: catalog,
        contacts=contacts,
        timeline=timeline,
        links=lambda: None,  # type: ignore[arg-type,return-value]
        once=SendLedger(InMemoryOnceTable()),
        clock=clock,
        metrics=metrics,
        brand="Acme",
        postal_address="1 Main St",
        subjects=InMemorySubjectRepository(),
    )
    tasks, notifier = InMemoryTaskRepository(), Notifier()
    service = HandoffService(tasks, notifier, Callbacks(), timeline, clock)
    yield World(clock, timeline, tasks, notifier, context, service)
    metrics.clear_metrics()


def test_the_handoff_task_creates_a_task_due_after_the_sla_naming_the_contact(world: World) -> None:
    answer = HandoffTask(world.context, world.service).run(
        world.request("handoff", "support-end", token="t-1")
    )

    task = world.tasks.tasks[answer["task_id"]]
    assert task.queue == "support-agents"
    assert task.due_at == NOW + timedelta(hours=24)
    assert "Ana Silva" in task.text
    assert task.text.startswith("A support request")
    assert world.kinds()[-2:] == ["handoff.created", "handoff.notified"]


def test_the_escalation_goes_to_escalate_to_with_the_first_task_attached(world: World) -> None:
    HandoffTask(world.context, world.service).run(world.request("handoff", "support-escalate", token="t-1"))
    HandoffTimeoutTask(world.context, world.service).run(world.request("handoff_timeout", "support-escalate"))

    answer = HandoffTask(world.context, world.service).run(
        world.request("handoff", "support-escalate", token="t-2", escalated=True)
    )

    first = task_id_of(EXECUTION, "agent-reply", None)
    escalated = world.tasks.tasks[answer["task_id"]]
    assert escalated.queue == "support-leads"
    assert escalated.escalated_from == first
    assert world.tasks.tasks[first].status == TaskStatus.EXPIRED
    assert "handoff.escalated" in world.kinds()
    assert "journey.ended" not in world.kinds()  # the escalation still waits


def test_a_handoff_task_without_its_token_is_refused(world: World) -> None:
    with pytest.raises(InvalidStep):
        HandoffTask(world.context, world.service).run(world.request("handoff", "support-end"))


def test_r_rel_4_an_unreachable_queue_raises_the_error_step_functions_retries(world: World) -> None:
    world.notifier.fail = True

    with pytest.raises(Exception) as raised:  # noqa: PT011 (the class name is what is checked)
        HandoffTask(world.context, world.service).run(world.request("handoff", "support-end", token="t-1"))

    assert type(raised.value).__name__ in RETRYABLE_ERRORS


@pytest.mark.parametrize(
    ("journey", "escalated", "ends"),
    [("support-end", False, True), ("support-continue", False, False), ("support-escalate", True, True)],
)
def test_the_timeout_expires_the_task_answers_timed_out_and_ends_the_journey_when_nothing_follows(
    world: World, journey: str, escalated: bool, ends: bool
) -> None:
    if escalated:
        HandoffTask(world.context, world.service).run(world.request("handoff", journey, token="t-1"))
        HandoffTimeoutTask(world.context, world.service).run(world.request("handoff_timeout", journey))
    HandoffTask(world.context, world.service).run(
        world.request("handoff", journey, token="t-2", escalated=escalated)
    )

    answer = HandoffTimeoutTask(world.context, world.service).run(
        world.request("handoff_timeout", journey, escalated=escalated)
    )

    assert answer["outcome"] == "timed_out"
    assert answer["handoff_outcome"] == "timed_out"
    assert answer["escalated"] is escalated
    assert world.tasks.tasks[answer["task_id"]].status == TaskStatus.EXPIRED
    ended = [e.detail for e in world.timeline.all("c-1") if e.kind == "journey.ended"]
    assert ([d["outcome"] for d in ended] == ["handoff_timed_out"]) is ends
    assert "handoff.timed_out" in world.kinds()
