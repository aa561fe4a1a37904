"""Erasure reaches Step Functions (R-GDPR-5): execution histories cannot be deleted, so no
execution of a contact ever holds their personal data, before or after erasure.

On the session's local stack, over HTTP: a contact with a name, an address, a number and free
text in the trigger events' data runs the sample journeys through every kind of task (sends,
a hand-off completed with a note, a wait, a send with confirmed delivery and its receipt, an
event that resumes a wait, a branch, an exit_on stop, the finish), then is erased while one
run still waits. Every execution's input, output and full history (every event's details) is
searched for the contact id, the addresses, the names and the data's strings: none is there.
The dead-letter queues the local stack creates reach erasure too: it deletes what names them.
These move the session stack's clock forward, so they run last."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import boto3
import pytest

from baton.clock import to_iso
from baton.settings import dead_letter_queue_fields
from infra.http_client import LocalClient
from infra.local import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.moves_session_clock]

ZONE = "America/Sao_Paulo"
CONTACT_ID = "crm-erase-e2e-5521"
EMAIL = "anastacia.silveira.e2e@example.com"
PHONE = "+5511987650321"
FIRST_NAME = "Anastacia"
LAST_NAME = "Silveira"
COMPLAINT = "My order for Anastacia is late"
SURVEY_COMMENT = "Anastacia says the agent was lovely"
DELIVERY_NOTE = "Leave the parcel with Dona Quiteria next door"
TASK_NOTE = "Called Anastacia Silveira back about the late order"
# What a caller may well put in its idempotency keys and event data.
REQUEST_KEY = f"ticket-{EMAIL}"
PERSONAL = (
    CONTACT_ID,
    EMAIL,
    PHONE,
    PHONE.removeprefix("+55"),
    FIRST_NAME,
    LAST_NAME,
    COMPLAINT,
    SURVEY_COMMENT,
    DELIVERY_NOTE,
    TASK_NOTE,
)


def _ok(resp: Any, status: int, what: str) -> Any:
    assert resp.status == status, f"{what}: HTTP {resp.status}: {resp.text[:300]}"
    return resp.json()


def _event(api: LocalClient, event_type: str, data: dict[str, Any], key: str) -> Any:
    body = {"contact_id": CONTACT_ID, "type": event_type, "data": data, "idempotency_key": key}
    return _ok(api.post("/v1/events", json_body=body), 202, f"POST /v1/events {event_type}")


def _outbox(api: LocalClient, to: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = _ok(api.get(f"/_local/outbox?{urlencode({'to': to})}"), 200, "outbox")
    return messages


def _open_task(api: LocalClient, queue: str) -> dict[str, Any]:
    tasks = _ok(api.get(f"/v1/tasks?{urlencode({'queue': queue})}"), 200, "tasks")["items"]
    (task,) = [task for task in tasks if task["contact_id"] == CONTACT_ID]
    found: dict[str, Any] = task
    return found


def _sms_delivered(api: LocalClient, message: dict[str, Any]) -> None:
    detail = {
        "eventType": "TEXT_DELIVERED",
        "messageId": message["message_id"],
        "destinationPhoneNumber": message["to"],
        "messageStatus": "DELIVERED",
        "isFinal": True,
    }
    body = {
        "source": "aws.sms-voice",
        "detail-type": "Text Message Delivery Status Updated",
        "detail": detail,
    }
    _ok(api.post("/_local/ses-event", json_body=body), 202, "SMS receipt")


def _next_morning(stack: LocalStack) -> datetime:
    """10:00 in the contact's zone, on the day after the stack's now (inside every send window)."""
    day = stack.clock.now().astimezone(ZoneInfo(ZONE)).date() + timedelta(days=1)
    return datetime.combine(day, time(10, 0), tzinfo=ZoneInfo(ZONE))


def _executions() -> list[dict[str, Any]]:
    """Every execution of every state machine: its description (input, output, error, cause)
    and every event of its history."""
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    found: list[dict[str, Any]] = []
    for machines in sfn.get_paginator("list_state_machines").paginate():
        for machine in machines["stateMachines"]:
            pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=machine["stateMachineArn"])
            for page in pages:
                for execution in page["executions"]:
                    arn = execution["executionArn"]
                    history: list[dict[str, Any]] = []
                    for events in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
                        history.extend(events["events"])
                    found.append({"execution": sfn.describe_execution(executionArn=arn), "history": history})
    return found


def _personal_data_in(executions: list[dict[str, Any]]) -> list[str]:
    text = json.dumps(executions, default=str).lower()
    return [value for value in PERSONAL if value.lower() in text]


def _statuses(executions: list[dict[str, Any]], names: set[str]) -> dict[str, str]:
    return {
        e["execution"]["name"]: e["execution"]["status"]
        for e in executions
        if e["execution"]["name"] in names
    }


def _dead_letter_queues(local_stack: LocalStack) -> dict[str, str]:
    """The queue URLs the local stack gave the function that erases, by settings field."""
    environment = local_stack.deployment.function("PrivateApiFunction").environment
    queues = {field: environment[f"BATON_{field.upper()}"] for field in dead_letter_queue_fields()}
    assert all(queues.values()), queues
    return queues


def test_no_execution_holds_the_contacts_personal_data_before_or_after_erasure(
    local_stack: LocalStack, api: LocalClient
) -> None:
    profile = {
        "email": EMAIL,
        "phone": PHONE,
        "first_name": FIRST_NAME,
        "last_name": LAST_NAME,
        "locale": "en",
        "timezone": ZONE,
        "country": "BR",
        "attributes": {"plan": "starter", "nickname": FIRST_NAME},
    }
    resp = api.put(f"/v1/contacts/{CONTACT_ID}", json_body=profile)
    assert resp.status in (200, 201), resp.text
    _ok(api.post("/_local/clock", json_body={"to": to_iso(_next_morning(local_stack))}), 200, "clock")

    # The whole relay: ack, hand-off completed with a note, a day's pause, the survey by SMS with
    # its receipt, the answer resuming the wait, the branch to the end.
    request = {"message": COMPLAINT, "email": EMAIL, "customer": f"{FIRST_NAME} {LAST_NAME}"}
    assert _event(api, "support.request_created", request, REQUEST_KEY) == {
        "journeys_started": ["support-follow-up"]
    }
    task = _open_task(api, "support-agents")
    done = api.post(
        f"/v1/tasks/{task['task_id']}/complete", json_body={"outcome": "answered", "note": TASK_NOTE}
    )
    _ok(done, 200, "complete")
    _ok(api.post("/_local/clock", json_body={"advance": "1d"}), 200, "advance")
    (survey,) = _outbox(api, PHONE)
    _sms_delivered(api, survey)
    _event(api, "survey.answered", {"comment": SURVEY_COMMENT, "phone": PHONE}, f"survey-{PHONE}")
    # A transactional send rendering the event's data (read by the runner from Baton's tables).
    shipped = {"order_id": "A-7731", "tracking_url": "https://track.example.com/A7731", "note": DELIVERY_NOTE}
    assert _event(api, "order.shipped", shipped, f"shipped-{EMAIL}") == {
        "journeys_started": ["order-shipped"]
    }
    # A run stopped by its exit_on event, then one still waiting on its hand-off when erased.
    _event(api, "support.request_created", request, f"{REQUEST_KEY}-2")
    _event(api, "support.request_withdrawn", {"reason": COMPLAINT}, f"withdrawn-{EMAIL}")
    _event(api, "support.request_created", request, f"{REQUEST_KEY}-3")

    runs = _ok(api.get(f"/v1/contacts/{CONTACT_ID}/export"), 200, "export")["journey_runs"]
    names = {run["execution_name"] for run in runs}
    before = _executions()
    statuses = sorted(_statuses(before, names).values())
    assert statuses == ["ABORTED", "RUNNING", "SUCCEEDED", "SUCCEEDED"], statuses
    assert any(
        m["channel"] == "sms" and "https://track.example.com/A7731" in m["body"] for m in _outbox(api, PHONE)
    )
    assert _personal_data_in(before) == []

    # What AWS would dead-letter: the contact's failed inbound text and bus event, another's too.
    queues = _dead_letter_queues(local_stack)
    sqs = boto3.client("sqs")
    for url in queues.values():
        for contact_id, number in ((CONTACT_ID, PHONE), ("crm-erase-e2e-other", "+5511900000000")):
            body = {"detail": {"contact_id": contact_id, "data": {"phone": number}}}
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))

    erased = _ok(api.delete(f"/v1/contacts/{CONTACT_ID}"), 202, "erase")

    assert erased["dead_letters_removed"] == dict.fromkeys(queues, 1)
    assert erased["dead_letter_queues_unread"] == []
    for url in queues.values():
        (left,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        assert "crm-erase-e2e-other" in left["Body"]
        sqs.delete_message(QueueUrl=url, ReceiptHandle=left["ReceiptHandle"])

    after = _executions()
    assert sorted(_statuses(after, names).values()) == ["ABORTED", "ABORTED", "SUCCEEDED", "SUCCEEDED"]
    assert _personal_data_in(after) == []
