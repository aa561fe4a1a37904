"""The send gate: one decision per rule, from the request and the facts read at send time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from baton.consent.vocabulary import Basis, Channel, ConsentStatus
from baton.delivery.gate import (
    ConsentFact,
    DoNotContactFact,
    GateFacts,
    GatePolicy,
    GateRequest,
    Reason,
    SuppressionFact,
    decide,
)
from baton.delivery.message import Purpose
from baton.suppression.models import SuppressionReason

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
PHONE = "+442079460000"  # London: the quiet hours (R-TCPA-2) read Europe/London
EMAIL = "ana@example.com"
STOPPED = SuppressionFact(reason=SuppressionReason.OPT_OUT, since=NOW - timedelta(minutes=1))


def _address(channel: Channel) -> str:
    return EMAIL if channel == Channel.EMAIL else PHONE


def _request(
    purpose: Purpose, channel: Channel = Channel.SMS, topic: str | None = "news", unsubscribe: bool = True
) -> GateRequest:
    return GateRequest(channel, purpose, _address(channel), topic, has_unsubscribe_url=unsubscribe)


def _consent(status: ConsentStatus, channel: Channel = Channel.SMS, **extra: object) -> ConsentFact:
    values: dict[str, object] = {"address": _address(channel), **extra}
    return ConsentFact(status, **values)  # type: ignore[arg-type]


def _facts(consent: ConsentFact | None = None, suppression: SuppressionFact | None = None) -> GateFacts:
    return GateFacts(now=NOW, suppression=suppression, consent=consent)


def test_reasons_are_stable_strings() -> None:
    assert [str(reason) for reason in Reason] == [
        "allowed",
        "no_address",
        "suppressed",
        "no_topic",
        "no_consent",
        "consent_for_other_address",
        "consent_expired",
        "no_unsubscribe_url",
        "not_pending",
        "not_opted_out",
        "opt_out_window_closed",
        "no_adapter",
        "sales_hold",
        "frequency_cap",
        "quiet_hours",
        "calling_window",
        "outside_window",
        "unknown_timezone",
        "unconfirmed_address",
        "sending_paused",
        "sending_quota",
        "do_not_contact_list",
        "provider_throttled",
        "provider_unavailable",
        "not_approved",
    ]


@pytest.mark.parametrize("purpose", list(Purpose))
def test_nothing_goes_to_a_missing_address(purpose: Purpose) -> None:
    decision = decide(GateRequest(Channel.EMAIL, purpose, "  ", "news", True), _facts())

    assert (decision.allowed, decision.reason) == (False, Reason.NO_ADDRESS)


@pytest.mark.parametrize("status", [None, ConsentStatus.PENDING, ConsentStatus.REVOKED])
def test_r_tcpa_1_marketing_sms_needs_granted_consent(status: ConsentStatus | None) -> None:
    decision = decide(_request(Purpose.MARKETING), _facts(_consent(status) if status else None))

    assert (decision.allowed, decision.reason, decision.rule) == (False, Reason.NO_CONSENT, "R-TCPA-1")


def test_r_tcpa_1_marketing_sms_with_granted_consent_is_allowed() -> None:
    decision = decide(_request(Purpose.MARKETING), _facts(_consent(ConsentStatus.GRANTED)))

    assert (decision.allowed, decision.reason, decision.rule) == (True, Reason.ALLOWED, "R-TCPA-1")


def test_r_tcpa_1_consent_given_for_another_number_does_not_cover_this_one() -> None:
    granted_for_old_number = ConsentFact(ConsentStatus.GRANTED, address="+15555550199")

    decision = decide(_request(Purpose.MARKETING), _facts(granted_for_old_number))

    assert (decision.allowed, decision.reason, decision.rule) == (
        False,
        Reason.CONSENT_FOR_OTHER_ADDRESS,
        "R-TCPA-1",
    )


@pytest.mark.parametrize("status", [None, ConsentStatus.PENDING, ConsentStatus.REVOKED])
def test_r_gdpr_1_marketing_email_needs_granted_consent(status: ConsentStatus | None) -> None:
    consent = _consent(status, Channel.EMAIL) if status else None

    decision = decide(_request(Purpose.MARKETING, Channel.EMAIL), _facts(consent))

    assert (decision.allowed, decision.reason, decision.rule) == (False, Reason.NO_CONSENT, "R-GDPR-1")


def test_r_gdpr_1_email_consent_matches_the_address_whatever_its_case() -> None:
    consent = ConsentFact(ConsentStatus.GRANTED, address="Ana@Example.com")

    assert decide(_request(Purpose.MARKETING, Channel.EMAIL), _facts(consent)).allowed


def test_r_gdpr_1_consent_is_per_topic_so_marketing_without_a_topic_is_refused() -> None:
    decision = decide(_request(Purpose.MARKETING, topic=None), _facts(_consent(ConsentStatus.GRANTED)))

    assert (decision.allowed, decision.reason) == (False, Reason.NO_TOPIC)


def test_r_mbx_1_marketing_email_without_one_click_unsubscribe_is_refused() -> None:
    request = _request(Purpose.MARKETING, Channel.EMAIL, unsubscribe=False)

    decision = decide(request, _facts(_consent(ConsentStatus.GRANTED, Channel.EMAIL)))

    assert (decision.allowed, decision.reason, decision.rule) == (False, Reason.NO_UNSUBSCRIBE_URL, "R-MBX-1")


def test_r_mbx_1_marketing_email_with_consent_and_unsubscribe_url_is_allowed() -> None:
    consent = _consent(ConsentStatus.GRANTED, Channel.EMAIL)

    assert decide(_request(Purpose.MARKETING, Channel.EMAIL), _facts(consent)).allowed


@pytest.mark.parametrize(
    ("basis", "granted_days_ago", "allowed"),
    [
        (Basis.IMPLIED_PURCHASE, 729, True),
        (Basis.IMPLIED_PURCHASE, 730, False),
        (Basis.IMPLIED_INQUIRY, 180, True),
        (Basis.IMPLIED_INQUIRY, 181, False),
        (Basis.EXPRESS, 5000, True),
    ],
)
def test_r_casl_1_implied_consent_expires_express_consent_does_not(
    basis: Basis, granted_days_ago: int, allowed: bool
) -> None:
    consent = _consent(
        ConsentStatus.GRANTED, granted_basis=basis, granted_at=NOW - timedelta(days=granted_days_ago)
    )

    decision = decide(_request(Purpose.MARKETING), _facts(consent))

    assert decision.allowed is allowed
    if not allowed:
        assert (decision.reason, decision.rule) == (Reason.CONSENT_EXPIRED, "R-CASL-1")


def test_r_tcpa_4_suppression_after_stop_outranks_a_stale_grant() -> None:
    decision = decide(_request(Purpose.MARKETING), _facts(_consent(ConsentStatus.GRANTED), STOPPED))

    assert (decision.allowed, decision.reason, decision.rule) == (False, Reason.SUPPRESSED, "R-TCPA-3")


def test_r_ses_3_a_hard_bounced_address_gets_nothing_not_even_transactional_mail() -> None:
    bounced = SuppressionFact(reason=SuppressionReason.HARD_BOUNCE, since=NOW - timedelta(days=3))

    decision = decide(_request(Purpose.TRANSACTIONAL, Channel.EMAIL), _facts(suppression=bounced))

    assert (decision.allowed, decision.reason, decision.rule) == (False, Reason.SUPPRESSED, "R-SES-3")


def test_r_gdpr_5_an_erased_person_gets_nothing() -> None:
    erased = SuppressionFact(reason=SuppressionReason.ERASED, since=NOW)

    decision = decide(_request(Purpose.TRANSACTIONAL, Channel.EMAIL), _facts(suppression=erased))

    assert (decision.allowed, decision.reason, decision.rule) == (False, Reason.SUPPRESSED, "R-GDPR-5")


def test_r_canspam_4_transactional_mail_needs_no_marketing_consent() -> None:
    decision = decide(_request(Purpose.TRANSACTIONAL, Channel.EMAIL, topic=None), _facts())

    assert (decision.allowed, decision.reason) == (True, Reason.ALLOWED)


@pytest.mark.parametrize(
    ("purpose", "channel", "rule"),
    [
        (Purpose.TRANSACTIONAL, Channel.SMS, "R-CTIA-3"),
        (Purpose.MARKETING, Channel.SMS, "R-CTIA-3"),
        (Purpose.TRANSACTIONAL, Channel.EMAIL, "R-MBX-5"),
        (Purpose.MARKETING, Channel.EMAIL, "R-MBX-5"),
    ],
)
def test_an_address_its_owner_has_not_confirmed_gets_no_message_but_the_confirmation_request(
    purpose: Purpose, channel: Channel, rule: str
) -> None:
    granted = GateFacts(now=NOW, consent=_consent(ConsentStatus.GRANTED, channel), unconfirmed_address=True)

    decision = decide(_request(purpose, channel), granted)

    assert (decision.allowed, decision.reason, decision.rule) == (False, Reason.UNCONFIRMED_ADDRESS, rule)


def test_the_confirmation_request_may_go_to_an_address_its_owner_has_not_confirmed() -> None:
    pending = GateFacts(
        now=NOW, consent=_consent(ConsentStatus.PENDING, Channel.EMAIL), unconfirmed_address=True
    )

    decision = decide(_request(Purpose.CONFIRMATION, Channel.EMAIL), pending)

    assert (decision.allowed, decision.rule) == (True, "R-MBX-5")


def test_r_mbx_5_confirmation_request_goes_to_a_pending_consent() -> None:
    consent = _consent(ConsentStatus.PENDING, Channel.EMAIL)

    decision = decide(_request(Purpose.CONFIRMATION, Channel.EMAIL), _facts(consent))

    assert (decision.allowed, decision.rule) == (True, "R-MBX-5")


@pytest.mark.parametrize("status", [None, ConsentStatus.GRANTED, ConsentStatus.REVOKED])
def test_r_mbx_5_confirmation_request_only_for_a_pending_consent(status: ConsentStatus | None) -> None:
    decision = decide(_request(Purpose.CONFIRMATION), _facts(_consent(status) if status else None))

    assert (decision.allowed, decision.reason) == (False, Reason.NOT_PENDING)


def test_r_mbx_5_confirmation_request_only_to_the_address_that_asked() -> None:
    pending_elsewhere = ConsentFact(ConsentStatus.PENDING, address="other@example.com")

    decision = decide(_request(Purpose.CONFIRMATION, Channel.EMAIL), _facts(pending_elsewhere))

    assert (decision.allowed, decision.reason) == (False, Reason.CONSENT_FOR_OTHER_ADDRESS)


@pytest.mark.parametrize("reason", list(SuppressionReason))
def test_r_gdpr_5_confirmation_request_to_a_suppressed_address_is_refused(reason: SuppressionReason) -> None:
    suppressed = SuppressionFact(reason=reason, since=NOW - timedelta(days=1))
    consent = _consent(ConsentStatus.PENDING, Channel.EMAIL)

    decision = decide(_request(Purpose.CONFIRMATION, Channel.EMAIL), _facts(consent, suppressed))

    assert (decision.allowed, decision.reason) == (False, Reason.SUPPRESSED)


def test_r_tcpa_5_one_confirmation_text_right_after_an_opt_out_is_allowed() -> None:
    decision = decide(_request(Purpose.OPT_OUT_CONFIRMATION, topic=None), _facts(suppression=STOPPED))

    assert (decision.allowed, decision.rule) == (True, "R-TCPA-5")


def test_r_tcpa_5_opt_out_confirmation_after_the_five_minute_window_is_refused() -> None:
    old = SuppressionFact(reason=SuppressionReason.OPT_OUT, since=NOW - timedelta(minutes=5, seconds=1))

    decision = decide(_request(Purpose.OPT_OUT_CONFIRMATION), _facts(suppression=old))

    assert (decision.allowed, decision.reason) == (False, Reason.OPT_OUT_WINDOW_CLOSED)


@pytest.mark.parametrize(
    "suppression",
    [None, *(SuppressionFact(reason, since=NOW) for reason in SuppressionReason if reason != "opt_out")],
)
def test_r_tcpa_5_opt_out_confirmation_needs_an_actual_opt_out(suppression: SuppressionFact | None) -> None:
    decision = decide(_request(Purpose.OPT_OUT_CONFIRMATION), _facts(suppression=suppression))

    assert (decision.allowed, decision.reason) == (False, Reason.NOT_OPTED_OUT)


def test_r_tcpa_5_opt_out_reasons_and_window_are_policy() -> None:
    policy = GatePolicy(
        opt_out_reasons=frozenset({"manual"}), opt_out_confirmation_window=timedelta(minutes=1)
    )
    request = _request(Purpose.OPT_OUT_CONFIRMATION)

    assert decide(request, _facts(suppression=SuppressionFact("manual", NOW)), policy).allowed
    assert not decide(request, _facts(suppression=STOPPED), policy).allowed


# -- R-BR-1 do-not-contact list ("Não Me Perturbe") --------------------------------------------

BR_PHONE = "+5511912345678"  # São Paulo mobile
ON_THE_LIST = DoNotContactFact(list_name="br_nao_me_perturbe", rule="R-BR-1")


def _listed(channel: Channel, purpose: Purpose, consent: ConsentFact | None = None) -> GateFacts:
    address = EMAIL if channel == Channel.EMAIL else BR_PHONE
    granted = consent or ConsentFact(ConsentStatus.GRANTED, address=address)
    return GateFacts(now=NOW, consent=granted, do_not_contact=ON_THE_LIST)


def _br_request(purpose: Purpose, channel: Channel) -> GateRequest:
    address = EMAIL if channel == Channel.EMAIL else BR_PHONE
    return GateRequest(channel, purpose, address, "news", has_unsubscribe_url=True)


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.VOICE])
def test_r_br_1_a_marketing_text_or_call_to_a_listed_number_is_refused_despite_granted_consent(
    channel: Channel,
) -> None:
    decision = decide(_br_request(Purpose.MARKETING, channel), _listed(channel, Purpose.MARKETING))

    assert (decision.allowed, decision.reason, decision.rule) == (False, Reason.DO_NOT_CONTACT_LIST, "R-BR-1")
    assert not decision.held  # not a window that opens later: refused


@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.WHATSAPP])
def test_r_br_1_the_list_refuses_no_marketing_on_other_channels(channel: Channel) -> None:
    decision = decide(_br_request(Purpose.MARKETING, channel), _listed(channel, Purpose.MARKETING))

    assert decision.reason != Reason.DO_NOT_CONTACT_LIST


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.VOICE])
@pytest.mark.parametrize("purpose", [Purpose.TRANSACTIONAL, Purpose.HELP_REPLY])
def test_r_br_1_the_list_leaves_transactional_messages_and_help_replies_alone(
    channel: Channel, purpose: Purpose
) -> None:
    decision = decide(_br_request(purpose, channel), _listed(channel, purpose))

    assert (decision.allowed, decision.reason) == (True, Reason.ALLOWED)


def test_r_br_1_the_list_leaves_the_opt_in_confirmation_and_the_opt_out_confirmation_alone() -> None:
    pending = ConsentFact(ConsentStatus.PENDING, address=BR_PHONE)
    stopped = GateFacts(now=NOW, suppression=STOPPED, do_not_contact=ON_THE_LIST)

    confirmation = decide(
        _br_request(Purpose.CONFIRMATION, Channel.SMS), _listed(Channel.SMS, Purpose.CONFIRMATION, pending)
    )
    opt_out = decide(_br_request(Purpose.OPT_OUT_CONFIRMATION, Channel.SMS), stopped)

    assert (confirmation.allowed, confirmation.reason) == (True, Reason.ALLOWED)
    assert (opt_out.allowed, opt_out.reason) == (True, Reason.ALLOWED)


def test_r_br_1_the_channels_a_list_refuses_are_policy() -> None:
    texts_only = GatePolicy(do_not_contact_channels=frozenset({Channel.SMS}))

    call = decide(
        _br_request(Purpose.MARKETING, Channel.VOICE), _listed(Channel.VOICE, Purpose.MARKETING), texts_only
    )
    text = decide(
        _br_request(Purpose.MARKETING, Channel.SMS), _listed(Channel.SMS, Purpose.MARKETING), texts_only
    )

    assert call.reason != Reason.DO_NOT_CONTACT_LIST
    assert text.reason == Reason.DO_NOT_CONTACT_LIST
