"""The MIME message of an email: alternative parts and the headers mailbox providers check (R-MBX-1)."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import pytest

from baton.delivery.message import OutboundMessage, Purpose
from baton.delivery.mime import build_email

SENT_AT = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
UNSUBSCRIBE = "https://api.example/v1/unsubscribe/" + "t" * 400 + ".sig"


def _email(**overrides: object) -> OutboundMessage:
    values: dict[str, object] = {
        "to": "ana@example.com",
        "purpose": Purpose.MARKETING,
        "subject": "Novidades de maio: promoção",
        "text": "Olá Ana\n",
        "html": "<p>Olá Ana</p>",
        "topic": "news",
        "unsubscribe_url": UNSUBSCRIBE,
    }
    values.update(overrides)
    return OutboundMessage.email(**values)  # type: ignore[arg-type]


def _wire(message: OutboundMessage) -> tuple[bytes, EmailMessage]:
    """The bytes SES receives, and what a mail client parses from them."""
    raw = build_email(message, sender="news@acme.example", sender_name="Acme", sent_at=SENT_AT).as_bytes()
    parsed = message_from_bytes(raw, policy=default)
    assert isinstance(parsed, EmailMessage)
    return raw, parsed


def test_r_mbx_1_marketing_mail_carries_both_one_click_headers_exactly() -> None:
    raw, parsed = _wire(_email())

    assert parsed["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # On the wire too: one plain line, not folded into RFC 2047 encoded words.
    assert f"List-Unsubscribe: <{UNSUBSCRIBE}>\r\n".encode() in raw


def test_mail_without_an_unsubscribe_url_has_no_list_headers() -> None:
    _, parsed = _wire(_email(purpose=Purpose.TRANSACTIONAL, unsubscribe_url=None))

    assert "List-Unsubscribe" not in parsed
    assert "List-Unsubscribe-Post" not in parsed


def test_mail_is_multipart_alternative_text_first_then_html() -> None:
    _, parsed = _wire(_email())

    assert parsed.get_content_type() == "multipart/alternative"
    parts = list(parsed.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert isinstance(parts[0], EmailMessage)
    assert parts[0].get_content() == "Olá Ana\r\n"  # CRLF line ends, as SMTP wants


def test_mail_without_html_is_plain_text() -> None:
    _, parsed = _wire(_email(html=None))

    assert parsed.get_content_type() == "text/plain"


def test_r_casl_2_mail_names_its_sender_in_from_with_to_subject_date_and_message_id() -> None:
    _, parsed = _wire(_email())

    assert parsed["From"] == "Acme <news@acme.example>"
    assert parsed["To"] == "ana@example.com"
    assert parsed["Subject"] == "Novidades de maio: promoção"
    assert parsed["Date"] == "Fri, 01 May 2026 12:00:00 +0000"
    assert parsed["Message-ID"].endswith("@acme.example>")


def test_a_header_value_cannot_smuggle_in_another_header() -> None:
    with pytest.raises(ValueError, match="linefeed or carriage return"):
        _wire(_email(subject="Hi\r\nBcc: everyone@example.com"))


def test_an_unsubscribe_url_too_long_for_one_header_line_is_refused() -> None:
    with pytest.raises(ValueError, match="too long"):
        _wire(_email(unsubscribe_url="https://x.example/" + "a" * 1000))


def test_r_mbx_1_a_mailto_alone_is_not_an_unsubscribe_url() -> None:
    with pytest.raises(ValueError, match="web URL"):
        _email(unsubscribe_url="mailto:unsubscribe@acme.example")
