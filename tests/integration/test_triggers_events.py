"""POST /v1/events on moto: journeys start by deterministic name, a repeated key starts nothing,
exit_on stops running executions; the compiled definitions run in moto's Step Functions."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.awslambda.models import LambdaBackend
from moto.core.config import default_user_config

import baton.aws
from baton import bootstrap
from baton import secrets as baton_secrets
from baton.contacts.models import ContactInput
from baton.handlers import private_api
from baton.journeys.catalog import load_catalog
from baton.settings import Settings
from baton.triggers import wiring
from baton.triggers.models import EventIn, RunStatus
from baton.triggers.naming import execution_name
from baton.triggers.runs import DynamoRunRepository
from baton.triggers.service import EventService
from infra.journeys.compiler import render_definition
from infra.local.runtime import LambdaContext
from tests.integration.conftest import REGION


def _name(journey_id: str, contact_id: str, key: str) -> str:
    """The execution name Baton gives this start (keyed with the stack's secret)."""
    return execution_name(journey_id, contact_id, key, key=baton_secrets.execution_name_key())


ACCOUNT = "123456789012"
STATE_MACHINE_PREFIX = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:Baton-"
STEP_FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:Baton-JourneyStepFunction"

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
            return queue.pop(0)
        return dict(SENT) if payload["action"] == "send" else {}

    def actions(self, execution_arn: str) -> list[tuple[str, str | None]]:
        return [(c["action"], c.get("step")) for c in self.calls if c["execution"] == execution_arn]


@dataclass
class Journeys:
    settings: Settings
    sfn: Any
    step: FakeJourneyStep
    service: Callable[[], EventService]

    def wait_until_done(self, execution_arn: str, timeout_s: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            described: dict[str, Any] = self.sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING" or time.monotonic() > deadline:
                return described
            time.sleep(0.02)

    def wait_until_started(self, execution_arn: str, timeout_s: float = 10) -> None:
        """Until moto's worker has parsed the definition and entered the first state (stopping
        an execution before that fails inside moto)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            history = self.sfn.get_execution_history(executionArn=execution_arn)["events"]
            if any(e["type"].endswith("StateEntered") for e in history):
                return
            time.sleep(0.02)

    def executions(self, journey_id: str) -> list[dict[str, Any]]:
        arn = f"{STATE_MACHINE_PREFIX}{journey_id}"
        listed: list[dict[str, Any]] = self.sfn.list_executions(stateMachineArn=arn)["executions"]
        return listed


@pytest.fixture
def journeys(aws: Settings, catalog_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Journeys]:
    """Moto's executing Step Functions with the catalog's compiled state machines; their tasks
    call a fake JourneyStepFunction; the env a deployed private API function would have."""
    monkeypatch.setitem(default_user_config, "stepfunctions", {"execute_state_machine": True})
    step = FakeJourneyStep()

    def invoke(
        backend: LambdaBackend, name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any
    ) -> bytes:
        answer = step.answer(json.loads(body))
        if "errorType" in answer:
            response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps(answer).encode()

    monkeypatch.setattr(LambdaBackend, "invoke", invoke)
    monkeypatch.setenv("BATON_JOURNEYS_DIR", str(catalog_dir))
    monkeypatch.setenv("BATON_STATE_MACHINE_ARN_PREFIX", STATE_MACHINE_PREFIX)
    bootstrap.reset()
    wiring.catalog.cache_clear()
    sfn = boto3.client("stepfunctions", region_name=REGION)
    for journey_id, journey in load_catalog(catalog_dir).journeys.items():
        sfn.create_state_machine(
            name=f"Baton-{journey_id}",
            definition=json.dumps(render_definition(journey, function_arn=STEP_FUNCTION_ARN)),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/Baton-{journey_id}",
        )
    services = bootstrap.services()
    for contact_id in ("ana", "bo"):
        services.contacts.upsert(
            contact_id, ContactInput(email=f"{contact_id}@example.com", first_name=contact_id)
        )
    journeys_ = Journeys(
        services.settings, sfn, step, lambda: wiring.event_service(bootstrap.services(), _context())
    )
    yield journeys_
    for machine in sfn.list_state_machines()["stateMachines"]:  # end the waits' worker threads
        for execution in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]:
            if execution["status"] == "RUNNING":
                journeys_.wait_until_started(execution["executionArn"])
                sfn.stop_execution(executionArn=execution["executionArn"])
    bootstrap.reset()
    wiring.catalog.cache_clear()


def _context() -> Any:
    return LambdaContext(
        function_name="Baton-PrivateApiFunction",
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:Baton-PrivateApiFunction",
        memory_limit_in_mb=512,
        aws_request_id="req-1",
        timeout_s=15,
    )


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
    for execution in journeys.executions("welcome"):
        journeys.wait_until_started(execution["executionArn"])

    # when Ana leaves (welcome's exit_on)
    answer = journeys.service().record(_event("ana", "contact.left", "left-1"))

    # then Ana's welcome run is stopped and the timeline says so; Bo's and welcome-tips run on
    assert answer.journeys_started == []
    stopped = f"{STATE_MACHINE_PREFIX.replace('stateMachine', 'execution')}welcome:" + _name(
        "welcome", "ana", "signup-1"
    )
    journeys.wait_until_done(stopped)
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
    assert journeys.wait_until_done(execution["executionArn"])["status"] == "SUCCEEDED"

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

    described = journeys.wait_until_done(arn)

    assert described["status"] == "SUCCEEDED"
    assert journeys.step.actions(arn) == [("send", "thanks"), ("finish", None)]
    send, finish = [c for c in journeys.step.calls if c["execution"] == arn]
    assert send == {
        "action": "send",
        "journey": "order-thanks",
        "step": "thanks",
        "execution": arn,
        "steps": {},
    }
    # the send's answer is under its step id when the journey finishes
    assert finish["steps"] == {"thanks": SENT}


def test_a_message_sent_at_once_costs_two_state_transitions_in_the_execution_history(
    journeys: Journeys,
) -> None:
    # given a one-send journey whose message goes out at once
    journeys.service().record(_event("ana", "order.paid", "order-7"))
    (execution,) = journeys.executions("order-thanks")
    journeys.wait_until_done(execution["executionArn"])

    # when its history is read
    events = journeys.sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
    invocations = [e for e in events if e["type"] == "LambdaFunctionScheduled"]

    # then the send is two transitions (task, choice) and the whole run four, with two invocations
    assert entered == ["Send thanks", "thanks outcome", "Finish journey", "Journey completed"]
    assert entered.index("Finish journey") - entered.index("Send thanks") == 2
    assert len(invocations) == 2


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

    described = journeys.wait_until_done(execution["executionArn"])

    assert described["status"] == "SUCCEEDED"
    assert journeys.step.actions(execution["executionArn"]) == [
        ("send", "thanks"),
        ("send", "thanks"),
        ("finish", None),
    ]


def test_a_skipped_send_ends_the_run_without_finishing(journeys: Journeys) -> None:
    journeys.step.script["thanks"] = [
        {"outcome": "skipped", "channel": None, "until": None, "reason": "no_consent", "attempts": []}
    ]
    journeys.service().record(_event("ana", "order.paid", "order-7"))
    (execution,) = journeys.executions("order-thanks")

    described = journeys.wait_until_done(execution["executionArn"])

    assert described["status"] == "SUCCEEDED"
    assert journeys.step.actions(execution["executionArn"]) == [("send", "thanks")]


def test_an_unexpected_error_is_recorded_by_the_fail_task_and_fails_the_run(journeys: Journeys) -> None:
    # given the step function raises something that is not retryable
    journeys.step.script["thanks"] = [{"errorType": "TemplateRenderError", "errorMessage": "undefined: x"}]
    journeys.service().record(_event("ana", "order.paid", "order-7"))
    (execution,) = journeys.executions("order-thanks")

    described = journeys.wait_until_done(execution["executionArn"])

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

_CANONICAL = Path(__file__).resolve().parents[1] / "events" / "apigw_rest_proxy.json"


def _call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
    event = json.loads(_CANONICAL.read_text())
    event.update(
        httpMethod=method,
        path=path,
        resource=path,
        body=None if body is None else json.dumps(body),
        queryStringParameters=None,
        multiValueQueryStringParameters=None,
    )
    event["requestContext"].update(httpMethod=method, path=f"/prod{path}", resourcePath=path)
    response = private_api.handler(event, _context())
    return response["statusCode"], json.loads(response["body"])


def test_post_events_answers_202_with_the_journeys_started(journeys: Journeys) -> None:
    status, body = _call(
        "POST",
        "/v1/events",
        {"contact_id": "ana", "type": "contact.confirmed", "data": {}, "idempotency_key": "signup-1"},
    )

    assert status == 202
    assert body == {"journeys_started": ["welcome", "welcome-tips"]}


def test_post_events_for_an_unknown_contact_is_404_and_starts_nothing(journeys: Journeys) -> None:
    status, body = _call(
        "POST",
        "/v1/events",
        {"contact_id": "nobody", "type": "contact.confirmed", "data": {}, "idempotency_key": "k"},
    )

    assert status == 404
    assert body["error"]["code"] == "not_found"
    assert journeys.executions("welcome") == []


def test_post_events_without_type_and_key_is_422_naming_both(journeys: Journeys) -> None:
    status, body = _call("POST", "/v1/events", {"contact_id": "ana", "data": {}})

    assert status == 422
    assert {d["field"] for d in body["error"]["details"]} == {"type", "idempotency_key"}


def test_get_journeys_lists_the_inventory(journeys: Journeys) -> None:
    status, body = _call("GET", "/v1/journeys")

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
    status, body = _call("GET", "/v1/journeys/welcome")
    missing, error = _call("GET", "/v1/journeys/nope")

    assert status == 200
    assert body["id"] == "welcome"
    assert body["review_by"] == "2027-01-01"
    assert [s["kind"] for s in body["steps"]] == ["wait", "send"]
    assert missing == 404
    assert error["error"]["code"] == "not_found"
