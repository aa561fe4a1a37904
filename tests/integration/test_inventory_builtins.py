"""Messages Baton sends on its own are counted under their inventory ids on moto: a sign-up's
double opt-in email and SMS confirmation request, a HELP reply, and a STOP's confirmation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from baton.settings import Settings
from tests.integration import handler_calls
from tests.integration.handler_calls import REGION, Baton

PHONE = "+14255550182"


@pytest.fixture
def baton(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Baton]:
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="example.com")
    stack = handler_calls.start(aws, monkeypatch)
    yield stack
    handler_calls.stop()


def _sent(baton: Baton) -> dict[str, Any]:
    answer = baton.call("GET", "/v1/inventory")
    assert answer.status == 200
    return {entry["id"]: entry["last_7_days"]["sent"] for entry in answer.body["items"]}


def test_a_sign_up_help_and_stop_are_counted_by_their_built_in_ids(baton: Baton) -> None:
    before = _sent(baton)
    assert before["builtin/double-opt-in-email"] == 0

    # when a person signs up with an email and a phone, texts HELP, then STOP
    signup = {
        "email": "ana@example.com",
        "phone": PHONE,
        "topics": ["news"],
        "channels": ["email", "sms"],
        "consent_text": "Send me news by email and text.",
        "locale": "en",
    }
    assert baton.call("POST", "/v1/subscriptions", signup).status == 202
    baton.text_in(PHONE, "HELP", "in-help")
    baton.text_in(PHONE, "STOP", "in-stop")

    # then each built-in message counts one send, and no journey counts any
    after = _sent(baton)
    assert {entry_id: count for entry_id, count in after.items() if count} == {
        "builtin/double-opt-in-email": 1,
        "builtin/sms-confirmation-request": 1,
        "builtin/sms-help": 1,
        "builtin/sms-opt-out-confirmed": 1,
    }
