"""What the local API Gateway makes of a Lambda proxy answer, and the outbox's reading of the
raw MIME a handler sent."""

from __future__ import annotations

import base64
import email.policy
import json
from datetime import UTC, datetime
from email.message import EmailMessage
from types import SimpleNamespace
from typing import Any

import pytest

from infra.cli import build_parser
from infra.local.outbox import _emails
from infra.local.server import error_response, proxy_response

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_proxy_answer_merges_headers_and_multi_value_headers() -> None:
    response = proxy_response(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "text/html", "Set-Cookie": "ignored=1", "X-One": "1"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": "<p>ok</p>",
        }
    )

    assert response.status == 201
    assert sorted(response.headers) == [
        ("Content-Type", "text/html"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("X-One", "1"),
    ]
    assert response.body == b"<p>ok</p>"


def test_proxy_answer_in_base64_is_decoded_and_json_is_the_default_type() -> None:
    response = proxy_response(
        {"statusCode": "200", "body": base64.b64encode(b"\x00raw").decode(), "isBase64Encoded": True}
    )

    assert (response.status, response.body) == (200, b"\x00raw")
    assert ("Content-Type", "application/json") in response.headers


@pytest.mark.parametrize("answer", [None, "text", {"body": "no status"}])
def test_answer_that_is_not_a_proxy_response_is_a_502(answer: Any) -> None:
    assert proxy_response(answer).status == 502


def test_errors_have_the_contract_shape() -> None:
    response = error_response(422, "invalid_field", "bad", [{"field": "from", "message": "required"}])

    assert json.loads(response.body) == {
        "error": {
            "code": "invalid_field",
            "message": "bad",
            "details": [{"field": "from", "message": "required"}],
        }
    }


def test_raw_email_is_read_once_per_recipient_with_text_html_and_headers() -> None:
    mime = EmailMessage(policy=email.policy.SMTP)
    mime["Subject"] = "Confirme sua inscrição"
    mime["From"] = "Baton <hello@example.com>"
    mime["To"] = "ana@example.com"
    mime["List-Unsubscribe"] = "<https://example.com/u/1>"
    mime.set_content("Olá, confirme.", cte="8bit")
    mime.add_alternative("<p>Olá</p>", subtype="html", cte="8bit")
    # moto appends the MIME To to the SendEmail destinations: the same person twice.
    sent = SimpleNamespace(
        id="m-1",
        source="hello@example.com",
        destinations=["ana@example.com", "ana@example.com"],
        raw_data=mime.as_bytes().decode(),  # what moto keeps of SendEmail's Content.Raw
    )

    (message,) = _emails(sent, NOW)

    assert message.to == "ana@example.com"
    assert message.subject == "Confirme sua inscrição"
    assert message.body == "Olá, confirme.\n"
    assert "<p>Olá</p>" in (message.html or "")
    assert message.headers["List-Unsubscribe"] == "<https://example.com/u/1>"
    assert message.as_json()["from"] == "Baton <hello@example.com>"
    assert message.as_json()["sent_at"] == "2026-05-01T12:00:00.000000Z"


def test_simple_email_is_read_from_its_destinations() -> None:
    sent = SimpleNamespace(
        id="m-2",
        source="hello@example.com",
        subject="Hi",
        body="Hello",
        destinations={"ToAddresses": ["a@example.com"], "CcAddresses": ["b@example.com"]},
    )

    assert [(m.to, m.subject, m.body) for m in _emails(sent, NOW)] == [
        ("a@example.com", "Hi", "Hello"),
        ("b@example.com", "Hi", "Hello"),
    ]


def test_command_line_offers_local_with_a_port() -> None:
    args = build_parser().parse_args(["local", "--port", "4000"])

    assert (args.command, args.port, args.template) == ("local", 4000, None)
