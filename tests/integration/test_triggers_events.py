"""POST /v1/events on moto: journeys start by deterministic name, a repeated key starts nothing,
exit_on stops running executions; the compiled definitions run in moto's Step Functions, under
the local stack's scheduler (an event's executions have run until they wait or end when the
call that started them returns)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

import baton.aws
from baton import bootstrap
from baton.contacts.models import ContactInput
from baton.privacy import erase_contact
from baton.settings import Settings
from baton.triggers import wiring
from baton.triggers.models import EventIn, RunStatus
from baton.triggers.runs import DynamoRunRepository
from baton.triggers.service import EventService
from baton.triggers.subjects import DynamoSubjectRepository
from infra.local.exceptions import InvocationError
from tests.integration.handler_calls import private_call
from tests.integration.journeys import (
    REGION,
    STATE_MACHINE_PREFIX,
    JourneysOnMoto,
    execution_name_now,
    lambda_context,
)


def _name(journey_id: str, contact_id: str, key: str) -> str:
    return execution_name_now(journey_id, contact_id, key)


_TEMPLATE = """\
template: {id}
owner: cx@example.com
purpose: transactional
locales:
  en:
    email: {{subject: "Hello", html: "<p>Hello {{{{ contact.first_name }}}}</p>", text: "Hello"}}
    sms: {{text: "Hello from {{{{ brand }}}}"}}
"""
_JOURNEYS = {
    # Waits a day first: its executions stay RUNNING, for exit_on to stop.
    "welcome": """\
journey: welcome
owner: growth@example.com
purpose: transactional
review_by: 2027-01-01
trigger: {event: contact.confirmed}
exit_on: [contact.left]
steps:
  - id: pause
    wait: {duration: 1d}
  - id: hello
    send: {template: hello, channels: [email]}
""",
    "welcome-tips": """\
journey: welcome-tips
owner: growth@example.com
purpose: transactional
review_by: 2027-01-01
trigger: {event: contact.confirmed}
steps:
  - id: pause
    wait: {duration: 2d}
  - id: tip
    send: {template: hello, channels: [email]}
""",
    # Sends at once and finishes.
    "order-thanks": """\
journey: order-thanks
owner: shop@example.com
purpose: transactional
review_by: 2027-01-01
trigger: {event: order.paid}
exit_on: [order.refunded]
steps:
  - id: thanks
    send: {template: hello, channels: [sms, email]}
""",
}


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    root = tmp_path / "journeys"
    (root / "templates").mkdir(parents=True)
    (root / "templates" / "hello.yaml").write_text(_TEMPLATE.format(id="hello"))
    for journey_id, text in _JOURNEYS.items():
        (root / f"{journey_id}.yaml").write_text(text)
    return root


SENT = {"outcome": "sent", "channel": "email", "until": None, "reason": None, "attempts": []}


@dataclass
class FakeJourneyStep:
    """Stands in for JourneyStepFunction: answers `sent` unless a step's answers are scripted.
    A scripted answer with `errorType` is an unhandled error, as Lambda reports one."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    script: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def answer(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(payload)
        queue = self.script.get(payload.get("step") or payload["action"], [])
        if queue:
            scripted = queue.pop(0)
            if "errorType" in scripted:
                raise InvocationError(
                    "scripted", error_type=scripted["errorType"], error_message=scripted["errorMessage"]
                )
            return scripted
        return dict(SENT) if payload["action"] == "send" else {}

    def actions(self, execution_arn: str) -> list[tuple[str, str | None]]:
        return [(c["action"], c.get("step")) for c in self.calls if c["execution"] == execution_arn]


@dataclass
class Journeys:
    settings: Settings
    machines: JourneysOnMoto
    step: FakeJourneyStep
    service: Callable[[], EventService]

    @property
    def sfn(self) -> Any:
        return self.machines.sfn

    def described(self, execution_arn: str) -> dict[str, Any]:
        described: dict[str, Any] = self.sfn.describe_execution(executionArn=execution_arn)
        return described

    def executions(self, journey_id: str) -> list[dict[str, Any]]:
        return self.machines.executions(journey_id)


@pytest.fixture
def journeys(
    journeys_on_moto: JourneysOnMoto, catalog_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Journeys]:
    """Moto's executing Step Functions with the catalog's compiled state machines; their tasks
    call a fake JourneyStepFunction; the env a deployed private API function would have."""
    step = FakeJourneyStep()
    monkeypatch.setenv("BATON_JOURNEYS_DIR", str(catalog_dir))
    monkeypatch.setenv("BATON_STATE_MACHINE_ARN_PREFIX", STATE_MACHINE_PREFIX)
    bootstrap.reset()
    wiring.catalog.cache_clear()
    journeys_on_moto.deploy(catalog_dir, lambda event, context: step.answer(event))
    services = bootstrap.services()
    for contact_id in ("ana", "bo"):
        services.contacts.upsert(
            contact_id, ContactInput(email=f"{contact_id}@example.com", first_name=contact_id)
        )
    yield Journeys(
        services.settings,
        journeys_on_moto,
        step,
        lambda: wiring.event_service(bootstrap.services(), _context()),
    )
    bootstrap.reset()
    wiring.catalog.cache_clear()


def _context() -> Any:
    return lambda_context("Baton-PrivateApiFunction")


def _event(contact_id: str = "ana", type_: str = "contact.confirmed", key: str = "signup-1") -> EventIn:
    return EventIn(contact_id=contact_id, type=type_, data={"form": "footer"}, idempotency_key=key)


def _timeline_kinds(contact_id: str, kind: str) -> list[dict[str, Any]]:
    events = bootstrap.services().timeline.all(contact_id)
    return [dict(e.detail) for e in events if e.kind == kind]


def test_an_event_starts_every_journey_it_triggers_under_a_deterministic_name_r_rel_2(
    journeys: Journeys,
) -> None:
    # given two journeys triggered by contact.confirmed, when Ana's sign-up is confirmed
    event = _event()
    answer = journeys.service().record(event)

    # then both start, each under the name derived from (journey, contact, key)
    assert answer.journeys_started == ["welcome", "welcome-tips"]
    for journey_id in answer.journeys_started:
        (execution,) = journeys.executions(journey_id)
        assert execution["name"] == _name(journey_id, "ana", "signup-1")
        described = journeys.sfn.describe_execution(executionArn=execution["executionArn"])
        assert json.loads(described["input"]) == {"event": {"type": "contact.confirmed"}, "steps": {}}
    # and each start is on the timeline and in the runs table
    started = _timeline_kinds("ana", "journey.started")
    assert sorted(d["journey"] for d in started) == ["welcome", "welcome-tips"]
    runs = DynamoRunRepository(journeys.settings.runs_table).of_contact("ana")
    assert {(r.journey, r.status) for r in runs} == {
        ("welcome", RunStatus.RUNNING),
        ("welcome-tips", RunStatus.RUNNING),
    }


def test_a_contact_erased_and_created_again_with_the_same_id_starts_its_journeys_on_the_same_event(
    journeys: Journeys,
) -> None:
    # given Ana's journeys started by her sign-up, then Ana erased
    journeys.service().record(_event())
    erased = {journey_id: _name(journey_id, "ana", "signup-1") for journey_id in ("welcome", "welcome-tips")}
    erase_contact(bootstrap.services(), "ana")
    # when the CRM creates a contact with the same id and sends the same event, same key
    bootstrap.services().contacts.upsert("ana", ContactInput(email="ana@example.com"))
    answer = journeys.service().record(_event())

    # then the new contact's journeys start, under names of their own, and run
    assert answer.journeys_started == ["welcome", "welcome-tips"]
    for journey_id, old_name in erased.items():
        statuses = {e["name"]: e["status"] for e in journeys.executions(journey_id)}
        new_name = _name(journey_id, "ana", "signup-1")
        assert new_name != old_name
        assert statuses == {old_name: "ABORTED", new_name: "RUNNING"}
        subject = DynamoSubjectRepository(journeys.settings.subjects_table).get(new_name)
        assert subject is not None
        assert subject.contact_id == "ana"
    runs = DynamoRunRepository(journeys.settings.runs_table).of_contact("ana")
    assert {(r.execution_name, r.status) for r in runs} == {
        (_name(journey_id, "ana", "signup-1"), RunStatus.RUNNING) for journey_id in erased
    }


def test_repeating_an_idempotency_key_starts_nothing_new_and_answers_the_same(journeys: Journeys) -> None:
    # given an event already recorded
    first = journeys.service().record(_event())

    # when the CRM sends it again (a retry), even with a different body
    again = journeys.service().record(_event().model_copy(update={"data": {"form": "retry"}}))

    # then the answer is the same and nothing new started or was recorded
    assert again == first
    assert len(journeys.executions("welcome")) == 1
    assert len(journeys.executions("welcome-tips")) == 1
    assert len(_timeline_kinds("ana", "journey.started")) == 2


def test_a_repeated_key_after_the_idempotency_record_expired_still_starts_nothing_new(
    journeys: Journeys, aws: Settings
) -> None:
    # given an event recorded, and its idempotency record gone (expired)
    first = journeys.service().record(_event())
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for item in dynamodb.scan(TableName=aws.idempotency_table)["Items"]:
        dynamodb.delete_item(TableName=aws.idempotency_table, Key={"id": item["id"]})

    # when the same key comes again
    again = journeys.service().record(_event())

    # then the deterministic execution names still start nothing new (R-REL-2)
    assert again == first
    assert len(journeys.executions("welcome")) == 1
    assert len(_timeline_kinds("ana", "journey.started")) == 2


def test_a_new_key_starts_a_new_run(journeys: Journeys) -> None:
    journeys.service().record(_event(key="signup-1"))
    journeys.service().record(_event(key="signup-2"))

    assert len(journeys.executions("welcome")) == 2


def test_an_exit_on_event_stops_the_contacts_running_executions_and_records_it(journeys: Journeys) -> None:
    # given Ana and Bo both waiting in `welcome`
    journeys.service().record(_event("ana"))
    journeys.service().record(_event("bo"))

    # when Ana leaves (welcome's exit_on)
    answer = journeys.service().record(_event("ana", "contact.left", "left-1"))

    # then Ana's welcome run is stopped and the timeline says so; Bo's and welcome-tips run on
    assert answer.journeys_started == []
    statuses = {
        e["name"]: e["status"]
        for journey_id in ("welcome", "welcome-tips")
        for e in journeys.executions(journey_id)
    }
    assert statuses == {
        _name("welcome", "ana", "signup-1"): "ABORTED",
        _name("welcome", "bo", "signup-1"): "RUNNING",
        _name("welcome-tips", "ana", "signup-1"): "RUNNING",
        _name("welcome-tips", "bo", "signup-1"): "RUNNING",
    }
    (exited,) = _timeline_kinds("ana", "journey.exited")
    assert exited == {
        "journey": "welcome",
        "execution": _name("welcome", "ana", "signup-1"),
        "event": "contact.left",
    }
    assert _timeline_kinds("bo", "journey.exited") == []
    runs = {r.journey: r for r in DynamoRunRepository(journeys.settings.runs_table).of_contact("ana")}
    assert runs["welcome"].status is RunStatus.ABORTED
    assert runs["welcome"].exited_on == "contact.left"


def test_an_exit_on_event_leaves_finished_runs_alone(journeys: Journeys) -> None:
    # given an order journey that has already sent and finished
    journeys.service().record(_event("ana", "order.paid", "order-7"))
    (execution,) = journeys.executions("order-thanks")
    assert journeys.described(execution["executionArn"])["status"] == "SUCCEEDED"

    # when the order is refunded (its exit_on)
    journeys.service().record(_event("ana", "order.refunded", "refund-7"))

    # then nothing is stopped or recorded, and the run remembers how it ended
    assert _timeline_kinds("ana", "journey.exited") == []
    (run,) = DynamoRunRepository(journeys.settings.runs_table).of_contact("ana")
    assert run.status is RunStatus.SUCCEEDED


def test_the_compiled_definition_sends_then_finishes_in_moto(journeys: Journeys) -> None:
    journeys.service().record(_event("ana", "order.paid", "order-7"))
    (execution,) = journeys.executions("order-thanks")
    arn = execution["executionArn"]

    described = journeys.described(arn)

    assert described["status"] == "SUCCEEDED"
    # the last step's send completes the journey itself: no finish task after it
    assert journeys.step.actions(arn) == [("send", "thanks")]
    (send,) = [c for c in journeys.step.calls if c["execution"] == arn]
    assert send == {
        "action": "send",
        "journey": "order-thanks",
        "step": "thanks",
        "execution": arn,
        "pass": 1,
        "steps": {},
        # the task's retries so far (`$$.State.RetryCount`) and how many it has (R-REL-4)
        "retry_count": 0,
        "max_retries": 4,
        "ends": True,
    }
    # the send's answer is under its step id when the journey ends
    assert json.loads(described["output"])["steps"] == {"thanks": SENT}


def test_a_message_sent_at_once_costs_two_state_transitions_in_the_execution_history(
    journeys: Journeys,
) -> None:
    # given a one-send journey whose message goes out at once
    journeys.service().record(_event("ana", "order.paid", "order-7"))
    (execution,) = journeys.executions("order-thanks")

    # when its history is read
    events = journeys.sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
    invocations = [e for e in events if e["type"] == "LambdaFunctionScheduled"]

    # then the send is two transitions (task, choice) and the whole run three (no Start choice:
    # a run continued in a new execution resumes at the send), with one invocation: the last
    # step's send completes the journey itself
    assert entered == ["Send thanks", "thanks outcome", "Journey completed"]
    assert entered.index("Journey completed") - entered.index("Send thanks") == 2
    assert len(invocations) == 1


def test_a_held_send_waits_until_its_time_then_asks_again(journeys: Journeys) -> None:
    # given the gate holds the first time (until a moment already past), then sends
    journeys.step.script["thanks"] = [
        {
            "outcome": "held",
            "channel": None,
            "until": "2026-05-01T09:00:00.000000Z",
            "reason": "quiet_hours",
            "attempts": [],
        }
    ]
    journeys.service().record(_event("ana", "order.paid", "order-7"))
    (execution,) = journeys.executions("order-thanks")

    described = journeys.described(execution["executionArn"])

    assert described["status"] == "SUCCEEDED"
    assert journeys.step.actions(execution["executionArn"]) == [
        ("send", "thanks"),
        ("send", "thanks"),
    ]


def test_a_skipped_send_ends_the_run_without_finishing(journeys: Journeys) -> None:
    journeys.step.script["thanks"] = [
        {"outcome": "skipped", "channel": None, "until": None, "reason": "no_consent", "attempts": []}
    ]
    journeys.service().record(_event("ana", "order.paid", "order-7"))
    (execution,) = journeys.executions("order-thanks")

    described = journeys.described(execution["executionArn"])

    assert described["status"] == "SUCCEEDED"
    assert journeys.step.actions(execution["executionArn"]) == [("send", "thanks")]


def test_an_unexpected_error_is_recorded_by_the_fail_task_and_fails_the_run(journeys: Journeys) -> None:
    # given the step function raises something that is not retryable
    journeys.step.script["thanks"] = [{"errorType": "TemplateRenderError", "errorMessage": "undefined: x"}]
    journeys.service().record(_event("ana", "order.paid", "order-7"))
    (execution,) = journeys.executions("order-thanks")

    described = journeys.described(execution["executionArn"])

    # then the fail task records it (with the error) and the run fails with that error
    assert described["status"] == "FAILED"
    assert described["error"] == "TemplateRenderError"
    assert journeys.step.actions(execution["executionArn"]) == [("send", "thanks"), ("fail", None)]
    fail = journeys.step.calls[-1]
    assert fail["error"]["Error"] == "TemplateRenderError"
    assert "undefined: x" in fail["error"]["Cause"]


def test_the_runs_table_was_created_from_the_table_specs(aws: Settings) -> None:
    description = boto3.client("dynamodb", region_name=REGION).describe_table(TableName=aws.runs_table)

    assert {k["AttributeName"]: k["KeyType"] for k in description["Table"]["KeySchema"]} == {
        "contact_id": "HASH",
        "sk": "RANGE",
    }
    baton.aws.reset()


# Through the private API's handler (API Gateway REST proxy events) ---------------------------


def test_post_events_answers_202_with_the_journeys_started(journeys: Journeys) -> None:
    status, body = private_call(
        "POST",
        "/v1/events",
        {"contact_id": "ana", "type": "contact.confirmed", "data": {}, "idempotency_key": "signup-1"},
    )

    assert status == 202
    assert body == {"journeys_started": ["welcome", "welcome-tips"]}


def test_post_events_for_an_unknown_contact_is_404_and_starts_nothing(journeys: Journeys) -> None:
    status, body = private_call(
        "POST",
        "/v1/events",
        {"contact_id": "nobody", "type": "contact.confirmed", "data": {}, "idempotency_key": "k"},
    )

    assert status == 404
    assert body["error"]["code"] == "not_found"
    assert journeys.executions("welcome") == []


def test_post_events_without_type_and_key_is_422_naming_both(journeys: Journeys) -> None:
    status, body = private_call("POST", "/v1/events", {"contact_id": "ana", "data": {}})

    assert status == 422
    assert {d["field"] for d in body["error"]["details"]} == {"type", "idempotency_key"}


def test_get_journeys_lists_the_inventory(journeys: Journeys) -> None:
    status, body = private_call("GET", "/v1/journeys")

    assert status == 200
    assert [j["id"] for j in body["items"]] == ["order-thanks", "welcome", "welcome-tips"]
    (thanks,) = [j for j in body["items"] if j["id"] == "order-thanks"]
    assert thanks["owner"] == "shop@example.com"
    assert thanks["trigger"] == {"event": "order.paid"}
    assert thanks["exit_on"] == ["order.refunded"]
    assert thanks["channels"] == ["sms", "email"]
    assert thanks["templates"] == ["hello"]
    assert thanks["steps"] == [{"id": "thanks", "kind": "send", "next": ["end"]}]


def test_get_one_journey_and_an_unknown_one(journeys: Journeys) -> None:
    status, body = private_call("GET", "/v1/journeys/welcome")
    missing, error = private_call("GET", "/v1/journeys/nope")

    assert status == 200
    assert body["id"] == "welcome"
    assert body["review_by"] == "2027-01-01"
    assert [s["kind"] for s in body["steps"]] == ["wait", "send"]
    assert missing == 404
    assert error["error"]["code"] == "not_found"
