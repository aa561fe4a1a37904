"""Erasure reaches Baton's dead-letter queues (R-GDPR-5): every message that mentions the contact
(their id as a JSON string, an email in any case, a number in E.164 or without its `+`) is
deleted; a message about someone else, however near the id, address or number, stays and is
visible again at once. A queue erasure cannot read through is named in its answer, a 202 still."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from baton.data.dead_letters import MAX_MESSAGES_READ
from baton.settings import Settings, dead_letter_queue_fields
from tests.integration import handler_calls
from tests.integration.every_table import every_dead_letter
from tests.integration.handler_calls import REGION, Baton

# `start_with_ana`: contact `ana`, ana@example.com, +14255550182.
ABOUT_ANA = {
    "events_dead_letter_queue": [
        json.dumps({"detail-type": "order.placed", "detail": {"contact_id": "ana", "data": {}}}),
    ],
    "feedback_dead_letter_queue": [
        json.dumps({"detail": {"mail": {"destination": ["ANA@Example.COM"]}}}),  # any case
        json.dumps({"detail": {"destinationPhoneNumber": "+14255550182"}}),
    ],
    "sms_inbound_dead_letter_queue": [
        json.dumps({"Message": json.dumps({"originationNumber": "14255550182", "messageBody": "STOP"})}),
        json.dumps({"Message": json.dumps({"contact_id": "ana"})}),  # a JSON string in a JSON string
    ],
}
ABOUT_OTHERS = {
    "events_dead_letter_queue": [
        json.dumps({"detail": {"contact_id": "ana-2", "data": {}}}),
        json.dumps({"detail": {"contact_id": "banana", "data": {"note": "Ana's cousin"}}}),
        json.dumps({"detail": {"contact_id": "crm-9", "data": {"note": "from ana, by hand"}}}),
    ],
    "feedback_dead_letter_queue": [
        json.dumps({"detail": {"mail": {"destination": ["joana@example.com"]}}}),
        json.dumps({"detail": {"mail": {"destination": ["ana@example.com.br"]}}}),
    ],
    "sms_inbound_dead_letter_queue": [
        json.dumps({"Message": json.dumps({"originationNumber": "+142555501823", "messageBody": "STOP"})}),
    ],
}


@pytest.fixture
def baton(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Baton]:
    yield handler_calls.start_with_ana(aws, monkeypatch)
    handler_calls.stop()


def _send(settings: Settings, field: str, bodies: list[str]) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    for body in bodies:
        sqs.send_message(QueueUrl=getattr(settings, field), MessageBody=body)


def _erase(baton: Baton) -> dict[str, Any]:
    answer = baton.call("DELETE", "/v1/contacts/ana")
    assert answer.status == 202, answer
    erased: dict[str, Any] = answer.body
    return erased


def test_r_gdpr_5_erasure_deletes_each_dead_letter_that_mentions_the_contact_in_any_form(
    baton: Baton,
) -> None:
    for field in dead_letter_queue_fields():
        _send(baton.settings, field, ABOUT_ANA[field] + ABOUT_OTHERS[field])

    erased = _erase(baton)

    assert erased["dead_letters_removed"] == {field: len(bodies) for field, bodies in ABOUT_ANA.items()}
    assert erased["dead_letter_queues_unread"] == []
    # The others' messages are all there, visible again at once: their alarm and redrive see them.
    left = every_dead_letter(baton.settings)
    assert {field: sorted(bodies) for field, bodies in left.items()} == {
        field: sorted(bodies) for field, bodies in ABOUT_OTHERS.items()
    }


def test_r_gdpr_5_a_dead_letter_queue_erasure_cannot_read_is_named_in_its_answer(
    aws: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = aws.events_dead_letter_queue.rsplit("/", 1)[0] + "/baton-test-no-such-queue"
    monkeypatch.setenv("BATON_EVENTS_DEAD_LETTER_QUEUE", gone)
    baton = handler_calls.start_with_ana(aws, monkeypatch)
    try:
        _send(baton.settings, "feedback_dead_letter_queue", ABOUT_ANA["feedback_dead_letter_queue"])

        erased = _erase(baton)
    finally:
        handler_calls.stop()

    assert erased["dead_letter_queues_unread"] == ["events_dead_letter_queue"]
    # The other queues are read all the same, and the tables erased.
    assert erased["dead_letters_removed"]["feedback_dead_letter_queue"] == 2
    assert erased["erasure"]["contact_removed"] is True


def test_r_gdpr_5_a_dead_letter_queue_holding_more_than_erasure_reads_is_named_in_its_answer(
    baton: Baton,
) -> None:
    field = "events_dead_letter_queue"
    others = [json.dumps({"detail": {"contact_id": f"crm-{n}"}}) for n in range(MAX_MESSAGES_READ + 1)]
    _send(baton.settings, field, ABOUT_ANA[field] + others)

    erased = _erase(baton)

    assert erased["dead_letter_queues_unread"] == [field]
    assert erased["dead_letters_removed"][field] == 1
    assert sorted(every_dead_letter(baton.settings)[field]) == sorted(others)
