"""Links people click: the confirmation link and the body's unsubscribe link open a page with
one button, in the contact's language; the GET changes nothing (mail scanners prefetch every
link), the button's POST does what the page says (R-MBX-5, R-CANSPAM-1, R-GDPR-3, R-MBX-2)."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from email.message import EmailMessage
from html import unescape

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from baton import bootstrap
from baton.consent.vocabulary import Channel, ConsentStatus
from baton.settings import Settings
from tests.integration import handler_calls
from tests.integration.handler_calls import Baton

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_FORM_TAG = re.compile(r'<form method="post" action="([^"]+)">(.*?)</form>', re.S)


@pytest.fixture
def baton(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Baton]:
    yield handler_calls.start(aws, monkeypatch)
    handler_calls.stop()


def _signed_up(baton: Baton, locale: str = "en") -> tuple[str, EmailMessage]:
    body = {
        "email": "lia@example.com",
        "channels": ["email"],
        "topics": ["news"],
        "locale": locale,
        "consent_text": "Send me the news.",
    }
    answer = baton.call("POST", "/v1/subscriptions", body)
    assert answer.status == 202, answer
    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    (raw,) = [message.raw_data for message in sent]
    parsed = email.message_from_string(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return answer.body["contact_id"], parsed


def _path(message: EmailMessage, route: str) -> str:
    """The confirmation link of the body; the unsubscribe link every message carries (the
    List-Unsubscribe header's, the same URL a marketing body shows as its link)."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    text = part.get_content() if route == "confirm" else str(message["List-Unsubscribe"])
    match = re.search(rf"https?://[^/\s]+(/v1/{route}/[A-Za-z0-9_.-]+)", text)
    assert match, f"no {route} link"
    return match.group(1)


def _button(page: str, path: str) -> str:
    """The one form of the page: it posts to the link itself; its hidden fields, as a body."""
    (form,) = _FORM_TAG.findall(page)
    action, inner = form
    assert unescape(action).endswith(path)
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]+)">', inner)
    assert len(re.findall(r"<button", inner)) == 1
    return "&".join(f"{name}={value}" for name, value in fields)


def _email_status(contact_id: str) -> ConsentStatus | None:
    state = bootstrap.services().consent.state(contact_id, Channel.EMAIL, "news")
    return state.status if state else None


def test_r_mbx_5_opening_the_confirmation_link_grants_nothing_and_its_button_confirms(baton: Baton) -> None:
    contact_id, message = _signed_up(baton)
    confirm = _path(message, "confirm")
    before = baton.snapshot()

    page = baton.call("GET", confirm)
    again = baton.call("GET", confirm)  # a scanner, then the person

    assert (page.status, again.status) == (200, 200)
    assert baton.snapshot() == before  # nothing granted, nothing written, nothing sent
    assert _email_status(contact_id) == ConsentStatus.PENDING
    body = _button(page.body, confirm)
    confirmed = baton.call("POST", confirm, raw=body, headers=FORM)
    assert confirmed.status == 200
    assert "Subscription confirmed" in confirmed.body
    assert _email_status(contact_id) == ConsentStatus.GRANTED


def test_a_confirmation_link_with_nothing_left_to_confirm_offers_no_button(baton: Baton) -> None:
    _, message = _signed_up(baton)
    confirm = _path(message, "confirm")
    baton.call("POST", confirm, raw="", headers=FORM)

    page = baton.call("GET", confirm)

    assert page.status == 200
    assert "<form" not in page.body


def test_r_canspam_1_the_body_unsubscribe_link_opens_a_page_whose_button_unsubscribes(baton: Baton) -> None:
    contact_id, message = _signed_up(baton)
    unsubscribe = _path(message, "unsubscribe")
    before = baton.snapshot()

    page = baton.call("GET", unsubscribe)

    assert page.status == 200
    assert baton.snapshot() == before  # a prefetch unsubscribes nobody
    body = _button(page.body, unsubscribe)
    assert body == "List-Unsubscribe=One-Click"  # the same endpoint the header names (R-MBX-2)
    done = baton.call("POST", unsubscribe, raw=body, headers=FORM)
    assert done.status == 200
    assert "You are unsubscribed" in done.body
    assert _email_status(contact_id) == ConsentStatus.REVOKED
    assert bootstrap.services().suppression.check(Channel.EMAIL, "lia@example.com") is not None


def test_the_pages_speak_the_contacts_language(baton: Baton) -> None:
    _, message = _signed_up(baton, locale="pt-BR")

    confirm_page = baton.call("GET", _path(message, "confirm")).body
    unsubscribe_page = baton.call("GET", _path(message, "unsubscribe")).body

    assert "Sim, quero receber" in confirm_page
    assert "Cancelar inscrição" in unsubscribe_page


def test_a_forged_link_opens_no_page_and_changes_nothing(baton: Baton) -> None:
    _, message = _signed_up(baton)
    for route in ("confirm", "unsubscribe"):
        forged = _path(message, route)[:-4] + "AAAA"
        before = baton.snapshot()

        assert baton.call("GET", forged).status == 403
        assert baton.snapshot() == before


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ("", FORM),
        ("List-Unsubscribe=Nope", FORM),
        ("unsubscribe=yes", FORM),
    ],
)
def test_r_mbx_2_a_post_without_the_one_click_body_unsubscribes_nobody(
    baton: Baton, body: str, headers: dict[str, str]
) -> None:
    contact_id, message = _signed_up(baton)
    unsubscribe = _path(message, "unsubscribe")
    before = baton.snapshot()

    answer = baton.call("POST", unsubscribe, raw=body, headers=headers)

    assert answer.status == 400
    assert baton.snapshot() == before
    assert _email_status(contact_id) == ConsentStatus.PENDING
