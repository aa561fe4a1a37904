"""SMS through SNS on the embedded AWS: the text lands in moto's SNS SMS record."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from baton.delivery.message import OutboundMessage, Purpose
from baton.delivery.sns import SnsSmsAdapter
from baton.messages import sms_confirmation_request

REGION = "us-east-1"


@pytest.fixture
def sns(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(variable, "testing")
    with mock_aws():
        yield boto3.client("sns", region_name=REGION)


def test_r_ctia_3_confirmation_request_sms_lands_with_its_text(sns: Any) -> None:
    text = sms_confirmation_request(locale="pt-BR", brand="Acme", frequency="Ate 4 msgs/mes").text
    message = OutboundMessage.sms(to="+5511987654321", purpose=Purpose.CONFIRMATION, text=text, topic="news")

    message_id = SnsSmsAdapter(sns, sender_id="ACME").send(message)

    sms_messages = sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages
    assert sms_messages[message_id] == ("+5511987654321", text)


def test_every_send_is_its_own_sms(sns: Any) -> None:
    adapter = SnsSmsAdapter(sns)
    first = adapter.send(OutboundMessage.sms(to="+15555550100", purpose=Purpose.TRANSACTIONAL, text="Code 1"))
    second = adapter.send(
        OutboundMessage.sms(to="+15555550100", purpose=Purpose.TRANSACTIONAL, text="Code 2")
    )

    sms_messages = sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages
    assert first != second
    assert [sms_messages[first][1], sms_messages[second][1]] == ["Code 1", "Code 2"]
