"""Email through SES v2 on the embedded AWS: raw MIME lands in moto's SES backend as sent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_string
from email.message import EmailMessage
from email.policy import default
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from baton.clock import FixedClock
from baton.delivery.exceptions import ProviderRejected
from baton.delivery.message import OutboundMessage, Purpose
from baton.delivery.ses import SesEmailAdapter

REGION = "us-east-1"
SENDER = "news@acme.example"
UNSUBSCRIBE = "https://api.example/v1/unsubscribe/eyJhbGciOi.c2lnbmF0dXJl"


@pytest.fixture
def sesv2(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(variable, "testing")
    with mock_aws():
        client = boto3.client("sesv2", region_name=REGION)
        client.create_email_identity(EmailIdentity="acme.example")
        yield client


def _delivered() -> list[EmailMessage]:
    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    parsed = [message_from_string(sent.raw_data, policy=default) for sent in backend.sent_messages]
    assert all(isinstance(message, EmailMessage) for message in parsed)
    return parsed  # type: ignore[return-value]


def _adapter(client: Any) -> SesEmailAdapter:
    return SesEmailAdapter(
        client, sender=SENDER, sender_name="Acme", clock=FixedClock(datetime(2026, 5, 1, tzinfo=UTC))
    )


def test_r_mbx_1_marketing_email_lands_with_one_click_unsubscribe_headers(sesv2: Any) -> None:
    message = OutboundMessage.email(
        to="ana@example.com",
        purpose=Purpose.MARKETING,
        subject="Novidades de maio",
        text=f"Olá!\nCancelar: {UNSUBSCRIBE}\n",
        html=f'<p>Olá!</p><p><a href="{UNSUBSCRIBE}">Cancelar</a></p>',
        topic="news",
        unsubscribe_url=UNSUBSCRIBE,
    )

    message_id = _adapter(sesv2).send(message)

    assert message_id
    [email] = _delivered()
    assert email["To"] == "ana@example.com"
    assert email["From"] == f"Acme <{SENDER}>"
    assert email["Subject"] == "Novidades de maio"
    assert email["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = email.get_body(preferencelist=("html",))
    assert isinstance(html, EmailMessage)
    assert UNSUBSCRIBE in html.get_content()


def test_transactional_email_lands_without_list_headers(sesv2: Any) -> None:
    message = OutboundMessage.email(
        to="ana@example.com", purpose=Purpose.TRANSACTIONAL, subject="Your receipt", text="Thanks."
    )

    _adapter(sesv2).send(message)

    [email] = _delivered()
    assert "List-Unsubscribe" not in email
    assert email.get_content_type() == "text/plain"


def test_sending_from_an_unverified_identity_is_rejected_not_retried(sesv2: Any) -> None:
    adapter = SesEmailAdapter(sesv2, sender="someone@elsewhere.example")
    message = OutboundMessage.email(
        to="ana@example.com", purpose=Purpose.TRANSACTIONAL, subject="x", text="x"
    )

    with pytest.raises(ProviderRejected) as caught:
        adapter.send(message)

    assert caught.value.code == "MessageRejected"
    assert not caught.value.retryable
    assert _delivered() == []
