"""The public flows and inbound keywords end to end on moto: sign-up, double opt-in, STOP, HELP,
START, one-click unsubscribe, erasure, and the refusals they leave on the timeline."""

from __future__ import annotations

import email
import email.policy
import functools
import re
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from baton.bootstrap import Services, build
from baton.clock import FixedClock
from baton.consent.vocabulary import Basis, Channel, ConsentStatus, Source
from baton.contacts.models import ContactInput, ContactProfile
from baton.delivery.gate import Reason
from baton.delivery.message import OutboundMessage, Purpose
from baton.ids import new_id
from baton.inbound.models import InboundSms
from baton.inbound.service import InboundSmsService
from baton.settings import Settings
from baton.subscriptions.links import Links
from baton.subscriptions.models import Caller, SubscriptionRequest
from baton.subscriptions.service import SubscriptionService
from baton.suppression.models import SuppressionReason
from baton.timeline.models import TimelineKind
from baton.tokens.exceptions import TokenError
from baton.web.forms import parse_preferences_form
from tests.integration.conftest import marketing_email
from tests.tokens import signed_by_hand

REGION = "us-east-1"
EMAIL = "ana@example.com"
PHONE = "+5511912345678"
BROWSER = Caller(ip="203.0.113.7", user_agent="Mozilla/5.0 (test)")


@pytest.fixture
def services(aws: Settings, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setenv("BATON_TOPICS", '["news", "offers"]')
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="example.com")
    return build(Settings(), clock)


@pytest.fixture
def flows(services: Services) -> SubscriptionService:
    return SubscriptionService(services)


@pytest.fixture
def inbound(services: Services) -> InboundSmsService:
    return InboundSmsService(services)


def _emails() -> list[EmailMessage]:
    sent = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
    parsed = [email.message_from_string(m.raw_data, policy=email.policy.default) for m in sent]
    return [m for m in parsed if isinstance(m, EmailMessage)]


def _texts(to: str) -> list[str]:
    messages = sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages.values()
    return [text for number, text, *_ in messages if number == to]


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    text: str = part.get_content()
    return text


def _token(url_part: str, text: str) -> str:
    match = re.search(rf"/v1/{url_part}/([A-Za-z0-9_.-]+)", text)
    assert match, f"no {url_part} link in {text!r}"
    return match.group(1)


def _signup(**overrides: Any) -> SubscriptionRequest:
    body: dict[str, Any] = {
        "email": "Ana@Example.com",
        "phone": "(11) 91234-5678",
        "country": "BR",
        "first_name": "Ana",
        "locale": "pt-BR",
        "timezone": "America/Sao_Paulo",
        "topics": ["news"],
        "channels": ["email", "sms"],
        "consent_text": "Quero receber novidades.",
        "form_id": "footer-v1",
        "page_url": "https://www.example.com/",
    }
    body.update(overrides)
    return SubscriptionRequest.model_validate(body)


def _status(
    services: Services, contact_id: str, channel: Channel, topic: str = "news"
) -> ConsentStatus | None:
    state = services.consent.state(contact_id, channel, topic)
    return state.status if state else None


def _kinds(services: Services, contact_id: str) -> list[str]:
    return [event.kind for event in services.timeline.all(contact_id)]


def _sms(body: str, message_id: str = "in-1", number: str = PHONE) -> InboundSms:
    return InboundSms.model_validate(
        {
            "originationNumber": number,
            "destinationNumber": "+15550100",
            "messageBody": body,
            "inboundMessageId": message_id,
        }
    )


def test_form_signup_is_pending_with_proof_and_asks_to_confirm_on_both_channels(
    flows: SubscriptionService, services: Services
) -> None:
    accepted = flows.subscribe(_signup(), BROWSER)

    contact = services.contacts.get(accepted.contact_id)
    profile = services.contacts.export(contact.contact_id).profile
    assert (contact.email, contact.phone) == (None, None)  # the owners have not confirmed yet
    assert (profile.pending_email, profile.pending_phone) == (EMAIL, PHONE)
    assert (contact.first_name, contact.locale) == ("Ana", "pt-BR")
    assert _status(services, contact.contact_id, Channel.EMAIL) == ConsentStatus.PENDING
    assert _status(services, contact.contact_id, Channel.SMS) == ConsentStatus.PENDING
    entry = services.consent.entries(contact.contact_id)[0]
    assert (entry.proof.consent_text, entry.proof.form_id, entry.proof.page_url) == (
        "Quero receber novidades.",
        "footer-v1",
        "https://www.example.com/",
    )
    assert (str(entry.proof.ip), entry.proof.user_agent, entry.proof.language) == (
        "203.0.113.7",
        "Mozilla/5.0 (test)",
        "pt-BR",
    )
    [confirmation] = _emails()
    assert confirmation["To"] == EMAIL
    assert "/v1/confirm/" in _body(confirmation)
    [request] = _texts(PHONE)
    assert "SIM" in request  # R-CTIA-3, in the contact's language
    assert "SAIR" in request


def test_r_mbx_5_email_consent_is_granted_only_when_the_link_is_followed(
    flows: SubscriptionService, services: Services
) -> None:
    contact_id = flows.subscribe(_signup(channels=["email"]), BROWSER).contact_id
    assert _status(services, contact_id, Channel.EMAIL) == ConsentStatus.PENDING

    page = flows.confirm(_token("confirm", _body(_emails()[-1])), BROWSER)

    assert page.status == 200
    assert _status(services, contact_id, Channel.EMAIL) == ConsentStatus.GRANTED
    grant = services.consent.entries(contact_id)[-1]
    assert grant.source == "link"
    assert grant.confirms_entry_id is not None


def test_r_ctia_3_sms_consent_is_granted_only_after_yes_and_a_confirmation_follows(
    flows: SubscriptionService, inbound: InboundSmsService, services: Services
) -> None:
    contact_id = flows.subscribe(_signup(channels=["sms"]), BROWSER).contact_id
    inbound.handle(_sms("hello?", "in-0"))
    assert _status(services, contact_id, Channel.SMS) == ConsentStatus.PENDING

    inbound.handle(_sms("sim"))

    assert _status(services, contact_id, Channel.SMS) == ConsentStatus.GRANTED
    assert services.consent.entries(contact_id)[-1].proof.message_id == "in-1"
    assert len(_texts(PHONE)) == 2  # the request, then the opt-in confirmation


def test_r_tcpa_5_stop_revokes_every_sms_topic_and_sends_exactly_one_confirmation(
    flows: SubscriptionService, inbound: InboundSmsService, services: Services
) -> None:
    contact_id = flows.subscribe(_signup(channels=["sms"], topics=["news", "offers"]), BROWSER).contact_id
    inbound.handle(_sms("SIM", "in-1"))
    sent_before = len(_texts(PHONE))

    inbound.handle(_sms("Stop", "in-2"))
    inbound.handle(_sms("STOP", "in-3"))

    assert _status(services, contact_id, Channel.SMS, "news") == ConsentStatus.REVOKED
    assert _status(services, contact_id, Channel.SMS, "offers") == ConsentStatus.REVOKED
    assert len(_texts(PHONE)) == sent_before + 1
    assert services.suppression.check(Channel.SMS, PHONE) is not None


def test_r_tcpa_3_free_text_revocation_is_honoured(
    flows: SubscriptionService, inbound: InboundSmsService, services: Services
) -> None:
    contact_id = flows.subscribe(_signup(channels=["sms"]), BROWSER).contact_id
    inbound.handle(_sms("SIM", "in-1"))

    inbound.handle(_sms("please stop texting me", "in-2"))

    assert _status(services, contact_id, Channel.SMS) == ConsentStatus.REVOKED


def test_r_gdpr_3_withdrawing_takes_one_click_or_one_keyword_as_giving_did(
    flows: SubscriptionService, inbound: InboundSmsService, services: Services
) -> None:
    topics = ["news", "offers"]
    contact_id = flows.subscribe(_signup(channels=["email", "sms"], topics=topics), BROWSER).contact_id
    flows.confirm(_token("confirm", _body(_emails()[-1])), BROWSER)  # given with one click
    inbound.handle(_sms("SIM", "in-1"))  # and with one keyword
    assert {_status(services, contact_id, ch, t) for ch in (Channel.EMAIL, Channel.SMS) for t in topics} == {
        ConsentStatus.GRANTED
    }

    flows.unsubscribe(_token("unsubscribe", _emails()[-1]["List-Unsubscribe"]), BROWSER)  # one click
    inbound.handle(_sms("SAIR", "in-2"))  # one word, in the contact's language

    assert {_status(services, contact_id, ch, t) for ch in (Channel.EMAIL, Channel.SMS) for t in topics} == {
        ConsentStatus.REVOKED
    }
    assert services.suppression.check(Channel.EMAIL, EMAIL) is not None
    assert services.suppression.check(Channel.SMS, PHONE) is not None


def test_r_ctia_2_help_is_answered_even_after_stop(
    flows: SubscriptionService, inbound: InboundSmsService, services: Services
) -> None:
    flows.subscribe(_signup(channels=["sms"]), BROWSER)
    inbound.handle(_sms("STOP", "in-1"))

    inbound.handle(_sms("AJUDA", "in-2"))

    reply = _texts(PHONE)[-1]
    assert services.settings.brand_name in reply
    assert services.settings.support_url in reply


def test_r_ctia_4_start_resubscribes_only_where_a_consent_existed(
    flows: SubscriptionService, inbound: InboundSmsService, services: Services
) -> None:
    contact_id = flows.subscribe(_signup(channels=["sms"]), BROWSER).contact_id
    inbound.handle(_sms("SIM", "in-1"))
    inbound.handle(_sms("STOP", "in-2"))

    inbound.handle(_sms("START", "in-3"))

    assert _status(services, contact_id, Channel.SMS, "news") == ConsentStatus.GRANTED
    assert _status(services, contact_id, Channel.SMS, "offers") is None
    assert services.suppression.check(Channel.SMS, PHONE) is None


def test_r_ctia_4_start_does_not_turn_a_request_never_confirmed_into_consent(
    flows: SubscriptionService, inbound: InboundSmsService, services: Services
) -> None:
    contact_id = flows.subscribe(_signup(channels=["sms"]), BROWSER).contact_id
    inbound.handle(_sms("SIM", "in-1"))  # news: confirmed; the number is the contact's own now
    flows.subscribe(_signup(channels=["sms"], topics=["offers"]), BROWSER)  # asked, never confirmed
    assert _status(services, contact_id, Channel.SMS, "offers") == ConsentStatus.PENDING
    inbound.handle(_sms("STOP", "in-2"))

    inbound.handle(_sms("START", "in-3"))

    assert _status(services, contact_id, Channel.SMS, "news") == ConsentStatus.GRANTED
    assert _status(services, contact_id, Channel.SMS, "offers") == ConsentStatus.REVOKED


def test_r_mbx_3_an_unsubscribe_counts_at_once_and_for_the_address_itself(
    flows: SubscriptionService, services: Services
) -> None:
    contact_id = flows.subscribe(_signup(channels=["email"]), BROWSER).contact_id
    flows.confirm(_token("confirm", _body(_emails()[-1])), BROWSER)

    flows.unsubscribe(_token("unsubscribe", _emails()[-1]["List-Unsubscribe"]), BROWSER)
    result = services.dispatcher.send(contact_id, marketing_email(EMAIL, topic="offers"))

    # Refused by the address's own suppression, not only by the revoked topics: a consent
    # granted later by anyone but the person cannot bring the mail back.
    assert (result.sent, result.reason) == (False, Reason.SUPPRESSED)
    entry = services.suppression.check(Channel.EMAIL, EMAIL)
    assert entry is not None
    assert entry.reason == SuppressionReason.OPT_OUT


def test_after_stop_the_next_confirmation_is_refused_and_the_refusal_is_on_the_timeline(
    flows: SubscriptionService, inbound: InboundSmsService, services: Services
) -> None:
    flows.subscribe(_signup(channels=["sms"]), BROWSER)
    inbound.handle(_sms("STOP", "in-1"))
    sent_before = len(_texts(PHONE))

    # The number is still no contact's own (never confirmed): the new sign-up waits for it.
    again = flows.subscribe(_signup(channels=["sms"]), BROWSER).contact_id

    assert len(_texts(PHONE)) == sent_before
    refusal = services.timeline.all(again)[0]
    assert (refusal.kind, refusal.detail["reason"]) == ("message.refused", "suppressed")


def test_r_mbx_2_one_click_unsubscribe_revokes_email_and_refuses_the_next_confirmation_and_marketing(
    flows: SubscriptionService, services: Services
) -> None:
    contact_id = flows.subscribe(_signup(channels=["email"]), BROWSER).contact_id
    flows.confirm(_token("confirm", _body(_emails()[-1])), BROWSER)
    unsubscribe = _token("unsubscribe", _emails()[-1]["List-Unsubscribe"])
    sent_before = len(_emails())

    flows.unsubscribe(unsubscribe, BROWSER)
    flows.subscribe(_signup(channels=["email"]), BROWSER)
    result = services.dispatcher.send(
        contact_id,
        OutboundMessage.email(
            to=EMAIL,
            purpose=Purpose.MARKETING,
            subject="Offers",
            text="...",
            topic="news",
            unsubscribe_url="https://example.com/u",
        ),
    )

    assert _status(services, contact_id, Channel.EMAIL) == ConsentStatus.PENDING  # asked again, never granted
    assert len(_emails()) == sent_before
    assert not result.sent
    refusals = [e for e in services.timeline.all(contact_id) if e.kind == "message.refused"]
    assert len(refusals) == 2


def test_r_gdpr_5_after_erasure_a_new_signup_gets_no_confirmation(
    flows: SubscriptionService, services: Services
) -> None:
    contact_id = flows.subscribe(_signup(channels=["email", "sms"]), BROWSER).contact_id
    flows.confirm(_token("confirm", _body(_emails()[-1])), BROWSER)
    InboundSmsService(services).handle(_sms("SIM"))  # both addresses are the contact's own now
    services.contacts.erase(contact_id)
    sent_before = (len(_emails()), len(_texts(PHONE)))

    again = flows.subscribe(_signup(channels=["email", "sms"]), BROWSER)

    assert (len(_emails()), len(_texts(PHONE))) == sent_before
    assert _kinds(services, again.contact_id).count("message.refused") == 2


def test_preference_page_changes_topics_and_sms_needs_a_new_yes(
    flows: SubscriptionService, inbound: InboundSmsService, services: Services
) -> None:
    contact_id = flows.subscribe(_signup(), BROWSER).contact_id
    confirmed = flows.confirm(_token("confirm", _body(_emails()[-1])), BROWSER)
    inbound.handle(_sms("SIM", "in-1"))
    token = _token("preferences", confirmed.html)
    page = flows.preferences(token)
    assert 'value="email:offers"' in page.html

    shown = "shown=email:news&shown=email:offers&shown=sms:news&shown=sms:offers"
    form = f"{shown}&choice=email:offers&choice=sms:offers&action=save"
    flows.save_preferences(token, parse_preferences_form(form), BROWSER)

    assert _status(services, contact_id, Channel.EMAIL, "news") == ConsentStatus.REVOKED
    assert _status(services, contact_id, Channel.EMAIL, "offers") == ConsentStatus.GRANTED
    assert _status(services, contact_id, Channel.SMS, "news") == ConsentStatus.REVOKED
    assert _status(services, contact_id, Channel.SMS, "offers") == ConsentStatus.PENDING


def test_forged_or_altered_tokens_are_refused_and_change_nothing(
    flows: SubscriptionService, services: Services
) -> None:
    contact_id = flows.subscribe(_signup(channels=["email"]), BROWSER).contact_id
    token = _token("confirm", _body(_emails()[-1]))
    altered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    entries_before = len(services.consent.entries(contact_id))

    for bad in (altered, "forged.token", token.replace(".", "")):
        with pytest.raises(TokenError):
            flows.confirm(bad, BROWSER)
    with pytest.raises(TokenError):
        flows.unsubscribe(token, BROWSER)  # a confirm token is not an unsubscribe token

    assert len(services.consent.entries(contact_id)) == entries_before
    assert _status(services, contact_id, Channel.EMAIL) == ConsentStatus.PENDING


ATTACKER_PHONE = "+5511988887777"
ATTACKER_EMAIL = "mallory@example.net"


def _customer(services: Services, **fields: Any) -> str:
    """A contact the back office holds (its addresses are the company's to vouch for)."""
    body = {"email": EMAIL, "first_name": "Ana", "locale": "pt-BR", **fields}
    return services.contacts.upsert("crm-ana", ContactInput.model_validate(body)).contact.contact_id


def _record(services: Services, contact_id: str) -> ContactProfile:
    return services.contacts.export(contact_id).profile


def test_form_with_known_email_and_new_phone_does_not_attach_the_phone(
    flows: SubscriptionService, inbound: InboundSmsService, services: Services
) -> None:
    ana = _customer(services)
    before = _record(services, ana)

    answer = flows.subscribe(_signup(phone=ATTACKER_PHONE, first_name="Mallory", locale="en"), BROWSER)
    inbound.handle(_sms("SIM", "in-attacker", ATTACKER_PHONE))

    assert _record(services, ana) == before  # no phone, same name, locale, version and dates
    assert _status(services, ana, Channel.SMS) is None
    assert answer.contact_id != ana
    # The number its own owner confirmed is a contact of its own, not Ana's.
    signup = services.contacts.get(answer.contact_id)
    assert (signup.phone, signup.email) == (ATTACKER_PHONE, None)
    assert _status(services, signup.contact_id, Channel.SMS) == ConsentStatus.GRANTED


def test_form_with_known_phone_and_new_email_does_not_attach_the_email(
    flows: SubscriptionService, services: Services
) -> None:
    ana = _customer(services, email=None, phone=PHONE)
    before = _record(services, ana)

    answer = flows.subscribe(_signup(email=ATTACKER_EMAIL), BROWSER)
    [link] = [m for m in _emails() if m["To"] == ATTACKER_EMAIL]
    page = flows.confirm(_token("confirm", _body(link)), BROWSER)

    assert page.status == 200
    assert _record(services, ana) == before
    assert _status(services, ana, Channel.EMAIL) is None
    assert _status(services, ana, Channel.SMS) == ConsentStatus.PENDING  # only Ana's own YES grants it
    assert services.contacts.get(answer.contact_id).email == ATTACKER_EMAIL
    assert services.contacts.find_by_phone(PHONE)[0].contact_id == ana


def test_form_with_known_email_and_another_name_locale_and_timezone_changes_nothing_of_the_profile(
    flows: SubscriptionService, services: Services
) -> None:
    ana = _customer(services)
    before = _record(services, ana)

    flows.subscribe(
        _signup(channels=["email"], first_name="Mallory", locale="en", timezone="America/New_York"),
        BROWSER,
    )

    assert _record(services, ana) == before
    assert _status(services, ana, Channel.EMAIL) == ConsentStatus.PENDING
    [confirmation] = _emails()
    assert "Mallory" not in _body(confirmation)  # the profile's name, not the form's


def test_the_answer_does_not_reveal_whether_the_address_was_known(
    flows: SubscriptionService, services: Services, clock: FixedClock
) -> None:
    ana = _customer(services)
    clock.set(clock.now() + timedelta(days=30))

    known = flows.subscribe(_signup(channels=["email"]), BROWSER)
    unknown = flows.subscribe(_signup(channels=["email"], email="new@example.com"), BROWSER)

    assert known.model_dump().keys() == unknown.model_dump().keys()
    assert known.status == unknown.status == "pending_confirmation"
    assert ana not in (known.contact_id, unknown.contact_id)
    # Ids are time-ordered: both answers are as new as the request, neither dates the address.
    assert known.contact_id[:10] == unknown.contact_id[:10] == new_id(clock.now())[:10]


def test_a_new_contact_gets_each_address_only_when_its_owner_confirms_it(
    flows: SubscriptionService, inbound: InboundSmsService, services: Services
) -> None:
    contact_id = flows.subscribe(_signup(), BROWSER).contact_id

    flows.confirm(_token("confirm", _body(_emails()[-1])), BROWSER)
    after_link = services.contacts.get(contact_id)
    inbound.handle(_sms("SIM"))
    after_yes = services.contacts.get(contact_id)

    assert (after_link.email, after_link.phone) == (EMAIL, None)
    assert (after_yes.email, after_yes.phone) == (EMAIL, PHONE)
    assert (_record(services, contact_id).pending_email, _record(services, contact_id).pending_phone) == (
        None,
        None,
    )


def test_a_pending_phone_is_confirmed_only_by_that_phones_own_yes(
    flows: SubscriptionService, inbound: InboundSmsService, services: Services
) -> None:
    contact_id = flows.subscribe(_signup(), BROWSER).contact_id

    inbound.handle(_sms("SIM", "in-other", ATTACKER_PHONE))
    flows.confirm(_token("confirm", _body(_emails()[-1])), BROWSER)  # the email link is not the phone's YES

    assert services.contacts.get(contact_id).phone is None
    assert _status(services, contact_id, Channel.SMS) == ConsentStatus.PENDING
    assert _texts(ATTACKER_PHONE) == []


def test_a_pending_email_is_confirmed_only_by_the_link_sent_to_it(
    flows: SubscriptionService, services: Services
) -> None:
    first = flows.subscribe(_signup(channels=["email"]), BROWSER).contact_id
    other = flows.subscribe(_signup(channels=["email"], email=ATTACKER_EMAIL), BROWSER).contact_id
    [attackers_link] = [m for m in _emails() if m["To"] == ATTACKER_EMAIL]

    flows.confirm(_token("confirm", _body(attackers_link)), BROWSER)

    assert services.contacts.get(first).email is None
    assert _status(services, first, Channel.EMAIL) == ConsentStatus.PENDING
    assert services.contacts.get(other).email == ATTACKER_EMAIL


@pytest.mark.parametrize("purpose", [Purpose.TRANSACTIONAL, Purpose.MARKETING])
def test_nothing_but_the_confirmation_request_goes_to_an_unconfirmed_address(
    flows: SubscriptionService, services: Services, purpose: Purpose
) -> None:
    contact_id = flows.subscribe(_signup(), BROWSER).contact_id
    sent_before = (len(_emails()), len(_texts(PHONE)))

    results = [
        services.dispatcher.send(
            contact_id,
            OutboundMessage.sms(to=PHONE, purpose=purpose, text="Your order shipped", topic="news"),
        ),
        services.dispatcher.send(
            contact_id,
            OutboundMessage.email(
                to=EMAIL,
                purpose=purpose,
                subject="Order",
                text="...",
                topic="news",
                unsubscribe_url="https://x/u",
            ),
        ),
    ]

    assert [(r.sent, r.reason) for r in results] == [(False, Reason.UNCONFIRMED_ADDRESS)] * 2
    assert (len(_emails()), len(_texts(PHONE))) == sent_before == (1, 1)  # the two confirmation requests


def test_links_of_an_erased_contact_do_not_work_for_a_new_contact_with_the_same_id(
    flows: SubscriptionService, services: Services
) -> None:
    ana = _customer(services)
    flows.subscribe(_signup(channels=["email"]), BROWSER)
    [request] = _emails()
    confirm = _token("confirm", _body(request))
    unsubscribe = _token("unsubscribe", request["List-Unsubscribe"])
    services.contacts.erase(ana)
    again = _customer(services, email="ana.new@example.com")
    flows.subscribe(_signup(channels=["email"], email="ana.new@example.com"), BROWSER)
    entries_before = services.consent.entries(again)

    confirmed = flows.confirm(confirm, BROWSER)
    unsubscribed = flows.unsubscribe(unsubscribe, BROWSER)

    assert again == ana
    assert (confirmed.status, unsubscribed.status) == (200, 200)
    assert services.consent.entries(again) == entries_before
    assert _status(services, again, Channel.EMAIL) == ConsentStatus.PENDING
    assert services.suppression.check(Channel.EMAIL, "ana.new@example.com") is None


def test_preference_link_of_an_erased_contact_shows_no_page_of_the_new_one(
    flows: SubscriptionService, services: Services
) -> None:
    ana = _customer(services)
    flows.subscribe(_signup(channels=["email"]), BROWSER)
    token = _token("preferences", flows.confirm(_token("confirm", _body(_emails()[-1])), BROWSER).html)
    services.contacts.erase(ana)
    _customer(services, email="ana.new@example.com")

    page = flows.preferences(token)

    assert page.status == 404
    assert "ana.new" not in page.html


def test_unsubscribe_after_erasure_shows_the_page_and_writes_nothing(
    flows: SubscriptionService, services: Services
) -> None:
    ana = _customer(services)
    flows.subscribe(_signup(channels=["email"]), BROWSER)
    unsubscribe = _token("unsubscribe", _emails()[-1]["List-Unsubscribe"])
    services.contacts.erase(ana)
    suppressed = services.suppression.check(Channel.EMAIL, EMAIL)

    page = flows.unsubscribe(unsubscribe, BROWSER)

    assert page.status == 200
    assert services.suppression.check(Channel.EMAIL, EMAIL) == suppressed  # erasure's own entry
    assert services.consent.entries(ana) == []


# A YES answers the last question the number was asked (R-CTIA-3, R-CTIA-4) ------------------


def _sms_statuses(services: Services, contact_ids: list[str]) -> list[ConsentStatus | None]:
    return [_status(services, contact_id, Channel.SMS) for contact_id in contact_ids]


def test_one_yes_confirms_only_the_newest_of_several_signups_naming_the_number(
    flows: SubscriptionService, inbound: InboundSmsService, services: Services, clock: FixedClock
) -> None:
    signups = []
    for minute in range(3):  # say the person's own, then two more someone else filed
        clock.set(clock.now() + timedelta(minutes=minute))
        signups.append(flows.subscribe(_signup(channels=["sms"], email=None), BROWSER).contact_id)

    inbound.handle(_sms("SIM", "in-yes"))

    assert _sms_statuses(services, signups) == [ConsentStatus.PENDING] * 2 + [ConsentStatus.GRANTED]
    assert [services.contacts.get(c).phone for c in signups] == [None, None, PHONE]


def test_a_second_yes_does_not_reach_back_to_an_older_request(
    flows: SubscriptionService, inbound: InboundSmsService, services: Services, clock: FixedClock
) -> None:
    older = flows.subscribe(_signup(channels=["sms"], email=None), BROWSER).contact_id
    clock.set(clock.now() + timedelta(minutes=5))
    newer = flows.subscribe(_signup(channels=["sms"], email=None), BROWSER).contact_id
    inbound.handle(_sms("SIM", "in-1"))
    sent_before = len(_texts(PHONE))

    inbound.handle(_sms("SIM", "in-2"))

    assert _sms_statuses(services, [older, newer]) == [ConsentStatus.PENDING, ConsentStatus.GRANTED]
    assert len(_texts(PHONE)) == sent_before  # nothing confirmed, nothing to confirm by text


def test_a_yes_from_an_opted_out_number_confirms_no_signup_it_was_never_sent_and_keeps_the_opt_out(
    flows: SubscriptionService, inbound: InboundSmsService, services: Services
) -> None:
    inbound.handle(_sms("STOP", "in-stop"))
    signup = flows.subscribe(_signup(channels=["sms"], email=None, topics=["offers"]), BROWSER).contact_id
    sent_before = len(_texts(PHONE))

    inbound.handle(_sms("YES", "in-yes"))  # sent for anything, never in answer to that sign-up

    assert _status(services, signup, Channel.SMS, "offers") == ConsentStatus.PENDING
    assert services.contacts.get(signup).phone is None
    assert services.suppression.check(Channel.SMS, PHONE) is not None
    assert len(_texts(PHONE)) == sent_before


def test_a_yes_after_stop_does_not_confirm_the_request_the_stop_answered(
    flows: SubscriptionService, inbound: InboundSmsService, services: Services
) -> None:
    signup = flows.subscribe(_signup(channels=["sms"], email=None), BROWSER).contact_id
    inbound.handle(_sms("STOP", "in-stop"))

    inbound.handle(_sms("SIM", "in-yes"))

    assert _status(services, signup, Channel.SMS) == ConsentStatus.REVOKED  # withdrawn by the STOP
    assert services.contacts.get(signup).phone is None
    assert services.suppression.check(Channel.SMS, PHONE) is not None


def test_start_after_stop_regrants_what_was_granted_but_not_a_request_never_confirmed(
    flows: SubscriptionService, inbound: InboundSmsService, services: Services
) -> None:
    ana = _customer(services, email=None, phone=PHONE)
    flows.subscribe(_signup(channels=["sms"], email=None, topics=["news"]), BROWSER)
    inbound.handle(_sms("SIM", "in-yes"))
    flows.subscribe(_signup(channels=["sms"], email=None, topics=["offers"]), BROWSER)  # never answered
    inbound.handle(_sms("STOP", "in-stop"))

    inbound.handle(_sms("START", "in-start"))

    assert _status(services, ana, Channel.SMS, "news") == ConsentStatus.GRANTED
    assert _status(services, ana, Channel.SMS, "offers") == ConsentStatus.REVOKED


def test_a_yes_after_the_request_expired_confirms_nothing(
    flows: SubscriptionService, inbound: InboundSmsService, services: Services, clock: FixedClock
) -> None:
    signup = flows.subscribe(_signup(channels=["sms"], email=None), BROWSER).contact_id
    clock.set(clock.now() + timedelta(days=services.settings.confirm_ttl_days, minutes=1))

    inbound.handle(_sms("SIM", "in-late"))

    assert _status(services, signup, Channel.SMS) == ConsentStatus.PENDING
    assert services.contacts.get(signup).phone is None


# STOP: suppressed first, its one confirmation owed until it is sent (R-TCPA-5) ------------


def _failing_once(monkeypatch: pytest.MonkeyPatch, target: Any, name: str, kind: str | None = None) -> None:
    """`target.name` raises the first time it is called (for timeline kind `kind`, if given),
    then works again."""
    original = getattr(target, name)
    failures = [RuntimeError(f"{name} unavailable")]

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if failures and (kind is None or kind in args):
            raise failures.pop()
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, flaky)


@pytest.fixture
def sms_subscriber(flows: SubscriptionService, inbound: InboundSmsService) -> str:
    """A sign-up for SMS whose number answered YES: the contact id."""
    contact_id = flows.subscribe(_signup(channels=["sms"], email=None), BROWSER).contact_id
    inbound.handle(_sms("SIM", "in-yes"))
    return contact_id


@pytest.fixture
def fail_once(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """`fail_once(target, name, kind=None)`: see `_failing_once`."""
    return functools.partial(_failing_once, monkeypatch)


def test_stop_suppresses_the_number_even_when_revoking_its_consents_fails(
    sms_subscriber: str, inbound: InboundSmsService, services: Services, fail_once: Callable[..., None]
) -> None:
    fail_once(services.consent, "revoke_all")

    with pytest.raises(RuntimeError):
        inbound.handle(_sms("STOP", "in-stop"))

    assert services.suppression.check(Channel.SMS, PHONE) is not None  # every send refused now
    result = services.dispatcher.send(
        sms_subscriber, OutboundMessage.sms(to=PHONE, purpose=Purpose.MARKETING, text="Sale", topic="news")
    )
    assert (result.sent, result.reason) == (False, Reason.SUPPRESSED)


def test_a_stop_retried_after_the_number_was_suppressed_still_sends_its_one_confirmation(
    sms_subscriber: str, inbound: InboundSmsService, services: Services, fail_once: Callable[..., None]
) -> None:
    sent_before = len(_texts(PHONE))
    # the revocation is written, the inbound text's own record fails, before the reply
    fail_once(services.timeline, "record", TimelineKind.INBOUND_REPLY)

    with pytest.raises(RuntimeError):
        inbound.handle(_sms("STOP", "in-stop"))
    inbound.handle(_sms("STOP", "in-stop"))  # the same message again (SNS / Lambda retry)
    inbound.handle(_sms("STOP", "in-stop"))

    assert len(_texts(PHONE)) == sent_before + 1
    assert _status(services, sms_subscriber, Channel.SMS) == ConsentStatus.REVOKED


def test_of_two_stop_texts_only_the_one_that_opted_out_confirms_even_when_it_is_retried_last(
    sms_subscriber: str, inbound: InboundSmsService, services: Services, fail_once: Callable[..., None]
) -> None:
    sent_before = len(_texts(PHONE))
    fail_once(services.timeline, "record", TimelineKind.INBOUND_REPLY)

    with pytest.raises(RuntimeError):
        inbound.handle(_sms("STOP", "in-first"))  # opted the number out, then failed
    second = inbound.handle(_sms("Stop", "in-second"))
    first = inbound.handle(_sms("STOP", "in-first"))  # its retry

    assert (second.replied, first.replied) == (False, True)
    assert len(_texts(PHONE)) == sent_before + 1


# A pending address is the form's claim, not the contact's: dropped, never suppressed ---------


@pytest.fixture
def attackers_signup(flows: SubscriptionService, services: Services) -> tuple[str, str]:
    """Someone signs up with their own email and the victim's number (PHONE), and confirms the
    email: (the sign-up contact's id, the preference-page token its confirmed page links)."""
    contact_id = flows.subscribe(_signup(email=ATTACKER_EMAIL), BROWSER).contact_id
    [link] = [m for m in _emails() if m["To"] == ATTACKER_EMAIL]
    page = flows.confirm(_token("confirm", _body(link)), BROWSER)
    return contact_id, _token("preferences", page.html)


def test_unsubscribe_all_does_not_suppress_the_pending_number_a_form_named(
    flows: SubscriptionService, services: Services, attackers_signup: tuple[str, str]
) -> None:
    contact_id, token = attackers_signup
    shown = "shown=email:news&shown=sms:news"

    flows.save_preferences(token, parse_preferences_form(f"{shown}&action=unsubscribe_all"), BROWSER)

    assert services.suppression.check(Channel.SMS, PHONE) is None
    assert services.suppression.check(Channel.EMAIL, ATTACKER_EMAIL) is not None  # their own, confirmed
    assert _status(services, contact_id, Channel.SMS) == ConsentStatus.REVOKED  # the request withdrawn
    assert _record(services, contact_id).pending_phone is None  # and the number forgotten
    sent_before = len(_texts(PHONE))
    flows.subscribe(_signup(channels=["sms"], email=None), BROWSER)  # the number's owner, later
    assert len(_texts(PHONE)) == sent_before + 1


def test_erasure_suppresses_the_confirmed_email_but_not_the_pending_number_a_form_named(
    services: Services, attackers_signup: tuple[str, str]
) -> None:
    contact_id, _ = attackers_signup

    report = services.contacts.erase(contact_id)

    assert services.suppression.check(Channel.SMS, PHONE) is None
    assert services.suppression.check(Channel.EMAIL, ATTACKER_EMAIL) is not None  # R-GDPR-5
    assert {entry.channel for entry in report.suppressed} == {Channel.EMAIL}


def test_one_click_unsubscribe_in_a_confirmation_email_suppresses_the_pending_email_it_reached(
    flows: SubscriptionService, services: Services
) -> None:
    contact_id = flows.subscribe(_signup(email=ATTACKER_EMAIL), BROWSER).contact_id
    [request] = [m for m in _emails() if m["To"] == ATTACKER_EMAIL]

    flows.unsubscribe(_token("unsubscribe", request["List-Unsubscribe"]), BROWSER)

    assert services.suppression.check(Channel.EMAIL, ATTACKER_EMAIL) is not None
    assert services.suppression.check(Channel.SMS, PHONE) is None
    assert _status(services, contact_id, Channel.SMS) == ConsentStatus.PENDING  # another channel


def _preferences_link_as_sent(services: Services, contact_id: str, channel: Channel, address: str) -> str:
    """The preference token a journey's marketing message to `address` carries (runner wiring)."""
    links = Links(
        services.settings,
        services.signing_key(),
        services.clock.now(),
        services.contacts.generation,
        address_key=services.link_address_key(),
    )
    return _token("preferences", links.preferences(contact_id, channel, address))


def _texted_customer(services: Services) -> str:
    """Ana on file with email and phone: SMS news granted, email unsubscribed (her own opt-out)."""
    ana = _customer(services, phone=PHONE)
    services.consent.grant(ana, Channel.SMS, "news", source=Source.AGENT, basis=Basis.EXPRESS, address=PHONE)
    services.consent.revoke(ana, Channel.EMAIL, "news", source=Source.LINK)
    services.suppression.add(Channel.EMAIL, EMAIL, SuppressionReason.OPT_OUT, "link")
    return ana


_TICK_EMAIL_NEWS = "shown=email:news&shown=sms:news&choice=email:news&choice=sms:news&action=save"


def test_a_preference_link_sent_by_sms_grants_no_email_consent_and_keeps_the_emails_opt_out(
    flows: SubscriptionService, services: Services
) -> None:
    ana = _texted_customer(services)
    token = _preferences_link_as_sent(services, ana, Channel.SMS, PHONE)
    sent_before = len(_emails())

    flows.save_preferences(token, parse_preferences_form(_TICK_EMAIL_NEWS), BROWSER)

    assert _status(services, ana, Channel.EMAIL) != ConsentStatus.GRANTED
    entry = services.suppression.check(Channel.EMAIL, EMAIL)
    assert entry is not None
    assert entry.reason == SuppressionReason.OPT_OUT
    assert len(_emails()) == sent_before  # the opted-out address is not even asked
    assert _status(services, ana, Channel.SMS) == ConsentStatus.GRANTED


def test_a_preference_link_sent_by_sms_asks_the_email_to_confirm_and_only_its_link_grants(
    flows: SubscriptionService, services: Services
) -> None:
    ana = _customer(services, phone=PHONE)
    services.consent.grant(ana, Channel.SMS, "news", source=Source.AGENT, basis=Basis.EXPRESS, address=PHONE)
    token = _preferences_link_as_sent(services, ana, Channel.SMS, PHONE)

    flows.save_preferences(token, parse_preferences_form(_TICK_EMAIL_NEWS), BROWSER)
    asked = _status(services, ana, Channel.EMAIL)
    [request] = [m for m in _emails() if m["To"] == EMAIL]
    flows.confirm(_token("confirm", _body(request)), BROWSER)

    assert asked == ConsentStatus.PENDING
    assert _status(services, ana, Channel.EMAIL) == ConsentStatus.GRANTED


def test_a_preference_link_sent_to_the_email_grants_for_that_email_and_lifts_its_own_opt_out(
    flows: SubscriptionService, services: Services
) -> None:
    ana = _texted_customer(services)
    token = _preferences_link_as_sent(services, ana, Channel.EMAIL, EMAIL)

    flows.save_preferences(token, parse_preferences_form(_TICK_EMAIL_NEWS), BROWSER)

    assert _status(services, ana, Channel.EMAIL) == ConsentStatus.GRANTED
    assert services.suppression.check(Channel.EMAIL, EMAIL) is None


def test_a_preference_link_sent_to_an_address_the_contact_no_longer_has_grants_and_asks_nothing(
    flows: SubscriptionService, services: Services
) -> None:
    ana = _customer(services, phone=PHONE)
    token = _preferences_link_as_sent(services, ana, Channel.EMAIL, EMAIL)
    services.contacts.upsert(ana, ContactInput.model_validate({"email": "ana.new@example.com"}))
    services.consent.grant(
        ana, Channel.SMS, "offers", source=Source.AGENT, basis=Basis.EXPRESS, address=PHONE
    )
    sent_before = len(_emails())

    form = "shown=email:news&shown=sms:offers&choice=email:news&action=save"
    flows.save_preferences(token, parse_preferences_form(form), BROWSER)

    assert _status(services, ana, Channel.EMAIL) is None
    assert len(_emails()) == sent_before
    assert _status(services, ana, Channel.SMS, "offers") == ConsentStatus.REVOKED  # revoking still works


@pytest.mark.parametrize("version", [1, 2])
def test_a_preference_link_without_an_address_binding_may_only_revoke(
    flows: SubscriptionService, services: Services, version: int
) -> None:
    ana = _texted_customer(services)
    now = services.clock.now()
    body: dict[str, object] = {
        "v": version,
        "sub": ana,
        "scp": "preferences",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(days=30)).timestamp()),
        "gen": services.contacts.generation(ana),
    }
    if version == 1:
        body["adr"] = EMAIL  # what version 1 links carried: the address itself, not a binding
    token = signed_by_hand(body, services.signing_key())
    sent_before = (len(_emails()), len(_texts(PHONE)))

    form = "shown=email:news&shown=sms:news&shown=sms:offers&choice=email:news&choice=sms:offers&action=save"
    flows.save_preferences(token, parse_preferences_form(form), BROWSER)

    assert _status(services, ana, Channel.EMAIL) == ConsentStatus.REVOKED
    assert services.suppression.check(Channel.EMAIL, EMAIL) is not None
    assert _status(services, ana, Channel.SMS, "offers") is None
    assert (len(_emails()), len(_texts(PHONE))) == sent_before
    assert _status(services, ana, Channel.SMS) == ConsentStatus.REVOKED


def test_the_confirmed_pages_preference_link_grants_for_the_confirmed_address_only(
    flows: SubscriptionService, inbound: InboundSmsService, services: Services
) -> None:
    contact_id = flows.subscribe(_signup(), BROWSER).contact_id
    inbound.handle(_sms("SIM"))  # the phone is confirmed by its own YES
    [request] = [m for m in _emails() if m["To"] == EMAIL]
    token = _token("preferences", flows.confirm(_token("confirm", _body(request)), BROWSER).html)
    texts_before = len(_texts(PHONE))

    form = "shown=email:offers&shown=sms:offers&choice=email:offers&choice=sms:offers&action=save"
    flows.save_preferences(token, parse_preferences_form(form), BROWSER)

    assert _status(services, contact_id, Channel.EMAIL, "offers") == ConsentStatus.GRANTED
    assert _status(services, contact_id, Channel.SMS, "offers") == ConsentStatus.PENDING
    assert len(_texts(PHONE)) == texts_before + 1  # the number's own YES is asked for


def test_the_confirmation_email_to_an_unconfirmed_address_does_not_carry_the_forms_name(
    flows: SubscriptionService, services: Services
) -> None:
    words = "Claim your prize at evil.example"
    contact_id = flows.subscribe(
        _signup(channels=["email"], first_name=words, locale="en"), BROWSER
    ).contact_id

    [request] = _emails()
    flows.confirm(_token("confirm", _body(request)), BROWSER)

    assert words not in request.as_string()
    assert "Hi," in _body(request)
    assert services.contacts.get(contact_id).first_name == words  # kept for once the address is theirs


def test_the_confirmation_email_to_a_customers_own_address_greets_by_the_name_on_file(
    flows: SubscriptionService, services: Services
) -> None:
    _customer(services, locale="en")

    flows.subscribe(_signup(channels=["email"], first_name="Mallory", locale="en"), BROWSER)

    [request] = _emails()
    assert "Hi Ana," in _body(request)
    assert "Mallory" not in request.as_string()
