"""Baton's own texts go out at most once: an answer lost after the provider took the message is
recorded `message.unknown`, never sent again by the SDK (R-REL-4), and a retry of the whole
inbound message (SNS, Lambda) does not answer it a second time (R-TCPA-5, R-CTIA-2)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.models import botocore_stubber
from moto.sns.models import sns_backends

from baton import aws as baton_aws
from baton import bootstrap
from baton.data.once import DynamoOnceTable, Leases
from baton.inbound.models import InboundSms
from baton.inbound.replies import Replies
from baton.inbound.service import InboundSmsService
from baton.settings import Settings
from tests.integration import handler_calls
from tests.integration.handler_calls import REGION, Baton

PHONE = "+14255550182"


class Killed(BaseException):
    """The invocation ends right here (a Lambda timeout): nothing after it runs."""


@pytest.fixture
def baton(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Baton]:
    stack = handler_calls.start(aws, monkeypatch)
    assert stack.call("PUT", "/v1/contacts/ana", {"phone": PHONE, "locale": "en"}).status == 201
    yield stack
    handler_calls.stop()


def _texts() -> list[str]:
    return [text for number, text, *_ in sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages.values()]


def _kinds(contact_id: str = "ana") -> list[str]:
    return [event.kind for event in bootstrap.services().timeline.all(contact_id)]


def _after_sns_took_it(fault: BaseException) -> None:
    """The next SNS Publish reaches SNS (moto takes the text), then `fault` is raised where its
    answer would be read, as a read timeout is. Armed on every client Baton could send with."""
    armed = [fault]

    def lose_the_answer(request: Any, event_name: str, **kwargs: Any) -> Any:
        if not armed:
            return None
        botocore_stubber(event_name=event_name, request=request, **kwargs)  # SNS takes it
        raise armed.pop()

    for make in (baton_aws.client, baton_aws.delivery_client):
        make("sns").meta.events.register_first("before-send.sns.Publish", lose_the_answer)


def _inbound(body: str, message_id: str) -> InboundSms:
    return InboundSms.model_validate(
        {"originationNumber": PHONE, "messageBody": body, "inboundMessageId": message_id}
    )


def test_a_help_reply_whose_answer_is_lost_goes_out_once_and_is_recorded_unknown(baton: Baton) -> None:
    _after_sns_took_it(ReadTimeoutError(endpoint_url="https://sns.us-east-1.amazonaws.com"))

    answer = baton.text_in(PHONE, "HELP", "in-help")

    assert len(_texts()) == 1
    assert answer["handled"][0]["replied"] is False
    assert "message.unknown" in _kinds()
    assert "message.sent" not in _kinds()


def test_a_confirmation_request_whose_answer_is_lost_goes_out_once(baton: Baton) -> None:
    _after_sns_took_it(ReadTimeoutError(endpoint_url="https://sns.us-east-1.amazonaws.com"))

    answer = baton.call("POST", "/v1/subscriptions", {"phone": "+14255550199", "channels": ["sms"]})

    assert answer.status == 202
    assert len(_texts()) == 1


def test_a_retried_inbound_message_does_not_send_its_reply_again(baton: Baton) -> None:
    inbound = InboundSmsService(bootstrap.services())

    first = inbound.handle(_inbound("HELP", "in-help"))
    again = inbound.handle(_inbound("HELP", "in-help"))  # the whole handling run again
    other = inbound.handle(_inbound("HELP", "in-help-2"))  # a new HELP is answered

    assert (first.replied, again.replied, other.replied) == (True, True, True)
    assert len(_texts()) == 2
    assert _kinds().count("message.sent") == 2  # the retry found its own event, added none


def test_a_reply_whose_invocation_ended_mid_call_is_recorded_unknown_and_not_sent_again(
    baton: Baton,
) -> None:
    s = bootstrap.services()
    leases = Leases()
    leases.register(_NoTimeLeft())  # the lease ends with the invocation: at once
    replies = Replies(DynamoOnceTable(s.settings.idempotency_table), s.clock, leases)
    _after_sns_took_it(Killed())

    with pytest.raises(Killed):
        InboundSmsService(s, replies).handle(_inbound("HELP", "in-help"))
    retried = InboundSmsService(s, replies).handle(_inbound("HELP", "in-help"))

    assert len(_texts()) == 1
    assert retried.replied is False
    assert _kinds().count("message.unknown") == 1


class _NoTimeLeft:
    def get_remaining_time_in_millis(self) -> int:
        return 0
