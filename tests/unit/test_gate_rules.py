"""The send gate's journey rules, one decision per rule: sales hold, frequency cap, quiet hours
(R-TCPA-2), the Brazilian calling window (R-BR-1) and a step's window; the time rules hold
with `until`, the moment the window next opens, and every day boundary and DST day counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from baton.consent.vocabulary import Channel, ConsentStatus
from baton.delivery.gate import (
    ConsentFact,
    FrequencyCap,
    GateFacts,
    GatePolicy,
    GateRequest,
    Reason,
    Recipient,
    SentFact,
    SuppressionFact,
    decide,
)
from baton.delivery.message import Purpose
from baton.delivery.timing import DailyWindow, WeeklyWindow
from baton.suppression.models import SuppressionReason

NY_PHONE = "+12125550100"  # area code 212: America/New_York
SP_PHONE = "+5511912345678"  # area code 11: America/Sao_Paulo (UTC-3, no DST)
EMAIL = "ana@example.com"
NEW_YORK = Recipient(timezone="America/New_York", country="US")
SAO_PAULO = Recipient(timezone="America/Sao_Paulo", country="BR")


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _address(channel: Channel, phone: str) -> str:
    return EMAIL if channel == Channel.EMAIL else phone


def _marketing(
    channel: Channel = Channel.SMS, phone: str = NY_PHONE, window: DailyWindow | None = None
) -> GateRequest:
    return GateRequest(channel, Purpose.MARKETING, _address(channel, phone), "news", True, window)


def _transactional(
    channel: Channel = Channel.SMS, phone: str = NY_PHONE, window: DailyWindow | None = None
) -> GateRequest:
    return GateRequest(channel, Purpose.TRANSACTIONAL, _address(channel, phone), None, False, window)


def _facts(
    now: datetime,
    request: GateRequest,
    recipient: Recipient = NEW_YORK,
    *,
    sales_hold: bool = False,
    recent: tuple[SentFact, ...] = (),
    suppressed: bool = False,
) -> GateFacts:
    return GateFacts(
        now=now,
        consent=ConsentFact(ConsentStatus.GRANTED, address=request.address),
        suppression=SuppressionFact(SuppressionReason.OPT_OUT, now - timedelta(days=1))
        if suppressed
        else None,
        sales_hold=sales_hold,
        recent_sends=recent,
        recipient=recipient,
    )


def _outcome(request: GateRequest, facts: GateFacts, policy: GatePolicy | None = None) -> tuple[object, ...]:
    decision = decide(request, facts, policy or GatePolicy())
    return decision.allowed, decision.reason, decision.rule, decision.until


# -- sales hold ---------------------------------------------------------------------------------


def test_sales_hold_an_open_deal_refuses_every_marketing_channel() -> None:
    now = utc(2026, 5, 4, 15)  # 11:00 in New York
    for channel in (Channel.SMS, Channel.EMAIL, Channel.VOICE):
        request = _marketing(channel)

        assert _outcome(request, _facts(now, request, sales_hold=True)) == (
            False,
            Reason.SALES_HOLD,
            None,
            None,
        )


def test_sales_hold_does_not_touch_transactional_messages() -> None:
    now = utc(2026, 5, 4, 15)
    request = _transactional()

    assert decide(request, _facts(now, request, sales_hold=True)).allowed


# -- frequency cap ------------------------------------------------------------------------------


def _sent(channel: Channel, at: datetime, purpose: Purpose = Purpose.MARKETING) -> SentFact:
    return SentFact(channel=channel, purpose=purpose, at=at)


def test_frequency_cap_three_marketing_messages_in_seven_days_across_channels_refuse_the_fourth() -> None:
    now = utc(2026, 5, 8, 15)
    recent = (
        _sent(Channel.EMAIL, now - timedelta(days=1)),
        _sent(Channel.SMS, now - timedelta(days=3)),
        _sent(Channel.WHATSAPP, now - timedelta(days=6, hours=23)),
    )
    request = _marketing(Channel.EMAIL)

    assert _outcome(request, _facts(now, request, recent=recent)) == (False, Reason.FREQUENCY_CAP, None, None)


def test_frequency_cap_is_rolling_a_send_exactly_seven_days_ago_no_longer_counts() -> None:
    now = utc(2026, 5, 8, 15)
    recent = (
        _sent(Channel.EMAIL, now - timedelta(days=1)),
        _sent(Channel.SMS, now - timedelta(days=3)),
        _sent(Channel.SMS, now - timedelta(days=7)),
    )
    request = _marketing(Channel.EMAIL)

    assert decide(request, _facts(now, request, recent=recent)).allowed


def test_frequency_cap_counts_marketing_only_and_never_limits_transactional() -> None:
    now = utc(2026, 5, 8, 15)
    receipts = tuple(
        _sent(Channel.EMAIL, now - timedelta(hours=n), Purpose.TRANSACTIONAL) for n in range(1, 6)
    )
    marketing = _marketing(Channel.EMAIL)
    transactional = _transactional(Channel.EMAIL)

    assert decide(marketing, _facts(now, marketing, recent=receipts)).allowed
    many = tuple(_sent(Channel.EMAIL, now - timedelta(hours=n)) for n in range(1, 6))
    assert decide(transactional, _facts(now, transactional, recent=many)).allowed


def test_frequency_cap_per_channel_is_configurable() -> None:
    now = utc(2026, 5, 8, 15)
    policy = GatePolicy(
        frequency_caps=(
            FrequencyCap.parse({"purpose": "marketing", "channel": "sms", "limit": 1, "days": 1}),
        )
    )
    recent = (_sent(Channel.SMS, now - timedelta(hours=2)),)
    sms, email = _marketing(Channel.SMS), _marketing(Channel.EMAIL)

    assert _outcome(sms, _facts(now, sms, recent=recent), policy)[1] == Reason.FREQUENCY_CAP
    assert decide(email, _facts(now, email, recent=recent), policy).allowed


# -- R-TCPA-2 quiet hours -----------------------------------------------------------------------


def test_r_tcpa_2_marketing_sms_at_2130_local_is_held_until_0800() -> None:
    now = utc(2026, 5, 5, 1, 30)  # 21:30 EDT on 4 May
    request = _marketing()

    assert _outcome(request, _facts(now, request)) == (
        False,
        Reason.QUIET_HOURS,
        "R-TCPA-2",
        utc(2026, 5, 5, 12),  # 08:00 EDT on 5 May
    )


@pytest.mark.parametrize(
    ("local", "allowed"),
    [
        ((7, 59), False),
        ((8, 0), True),  # 08:00 is inside
        ((20, 59), True),
        ((21, 0), False),  # at 21:00 it is over
    ],
)
def test_r_tcpa_2_quiet_hours_boundaries_are_0800_inclusive_and_2100_exclusive(
    local: tuple[int, int], allowed: bool
) -> None:
    now = utc(2026, 5, 4, 4) + timedelta(hours=local[0], minutes=local[1])  # EDT is UTC-4
    request = _marketing()

    assert decide(request, _facts(now, request)).allowed is allowed


def test_r_tcpa_2_marketing_voice_before_0800_is_held_until_0800_the_same_day() -> None:
    now = utc(2026, 5, 4, 10, 15)  # 06:15 EDT
    request = _marketing(Channel.VOICE)

    assert _outcome(request, _facts(now, request))[1:] == (
        Reason.QUIET_HOURS,
        "R-TCPA-2",
        utc(2026, 5, 4, 12),
    )


def test_r_tcpa_2_on_the_spring_forward_day_0800_is_0800_edt() -> None:
    # 8 March 2026: New York moves from EST (UTC-5) to EDT (UTC-4) at 02:00.
    request = _marketing()
    before = utc(2026, 3, 8, 11, 30)  # 07:30 EDT (would be 06:30 EST)

    assert _outcome(request, _facts(before, request))[1:] == (
        Reason.QUIET_HOURS,
        "R-TCPA-2",
        utc(2026, 3, 8, 12),
    )
    assert decide(request, _facts(utc(2026, 3, 8, 12, 30), request)).allowed  # 08:30 EDT


def test_r_tcpa_2_on_the_fall_back_day_2100_is_2100_est() -> None:
    # 1 November 2026: New York moves from EDT back to EST (UTC-5) at 02:00.
    request = _marketing()

    assert decide(request, _facts(utc(2026, 11, 2, 1, 30), request)).allowed  # 20:30 EST
    held = _outcome(request, _facts(utc(2026, 11, 2, 2, 0), request))  # 21:00 EST
    assert held[1:] == (Reason.QUIET_HOURS, "R-TCPA-2", utc(2026, 11, 2, 13))  # 08:00 EST


def test_r_tcpa_2_held_across_new_year_opens_on_the_first_morning() -> None:
    request = _marketing(phone=SP_PHONE)
    now = utc(2027, 1, 1, 1, 0)  # 22:00 on 31 December in São Paulo

    assert _outcome(request, _facts(now, request, SAO_PAULO))[3] == utc(2027, 1, 1, 11)  # 08:00 BRT


def test_r_tcpa_2_unknown_zone_is_derived_from_a_number_with_one_zone() -> None:
    request = _marketing(phone=SP_PHONE)
    no_zone = Recipient()
    night = utc(2026, 5, 5, 2)  # 23:00 in São Paulo, 19:00 in Manaus

    assert _outcome(request, _facts(night, request, no_zone))[1:] == (
        Reason.QUIET_HOURS,
        "R-TCPA-2",
        utc(2026, 5, 5, 11),
    )


def test_r_tcpa_2_unknown_zone_with_several_candidates_waits_until_open_in_all() -> None:
    # A London mobile (+44 7) may be in London, Jersey, Guernsey or the Isle of Man: all one
    # offset, so the hold ends at 08:00 in all of them at once.
    request = _marketing(phone="+447911123456")
    now = utc(2026, 5, 4, 5)  # 06:00 BST

    assert _outcome(request, _facts(now, request, Recipient()))[1:] == (
        Reason.QUIET_HOURS,
        "R-TCPA-2",
        utc(2026, 5, 4, 7),
    )


def test_r_tcpa_2_a_number_that_may_ring_anywhere_waits_for_the_hours_open_everywhere() -> None:
    # A US toll-free number could ring from Guam (UTC+10) to St. John's (UTC-2:30): 08:00 in
    # Guam is 22:00 UTC, when it is 18:00 in New York and 19:30 in St. John's.
    request = _marketing(phone="+18005550100")

    assert _outcome(request, _facts(utc(2026, 5, 4, 15), request, Recipient())) == (
        False,
        Reason.QUIET_HOURS,
        "R-TCPA-2",
        utc(2026, 5, 4, 22),
    )


def test_r_tcpa_2_zones_too_far_apart_to_share_quiet_hours_refuse_with_unknown_timezone() -> None:
    # A Russian mobile may be anywhere from Moscow (UTC+3) to Kamchatka (UTC+12): with quiet
    # hours narrowed to 09:00-12:00 no moment is inside them everywhere, so it is never sent.
    policy = GatePolicy(quiet_hours=DailyWindow.parse("09:00-12:00"))
    request = _marketing(phone="+79161234567")

    assert _outcome(request, _facts(utc(2026, 5, 4, 6), request, Recipient()), policy) == (
        False,
        Reason.UNKNOWN_TIMEZONE,
        "R-TCPA-2",
        None,
    )


def test_r_tcpa_2_a_number_with_no_zone_and_no_contact_zone_is_refused() -> None:
    request = _marketing(phone="+15555550100")  # 555: a number no zone can be read from

    assert _outcome(request, _facts(utc(2026, 5, 4, 15), request, Recipient())) == (
        False,
        Reason.UNKNOWN_TIMEZONE,
        "R-TCPA-2",
        None,
    )


def test_r_tcpa_2_the_contacts_own_zone_holds_a_text_the_numbers_zone_would_allow() -> None:
    request = _marketing(phone=NY_PHONE)  # a New York number, the person lives in Los Angeles
    now = utc(2026, 5, 4, 13)  # 09:00 New York, 06:00 Los Angeles

    decision = decide(request, _facts(now, request, Recipient(timezone="America/Los_Angeles")))

    assert (decision.reason, decision.until) == (Reason.QUIET_HOURS, utc(2026, 5, 4, 15))


def test_r_tcpa_2_the_numbers_zone_holds_a_text_the_stored_zone_would_allow() -> None:
    # A contact stored with zone UTC on a New York number: 10:30 UTC is 06:30 in New York.
    request = _marketing(phone=NY_PHONE)
    now = utc(2026, 5, 4, 10, 30)

    decision = decide(request, _facts(now, request, Recipient(timezone="UTC", country="US")))

    assert (decision.allowed, decision.reason, decision.rule) == (False, Reason.QUIET_HOURS, "R-TCPA-2")
    assert decision.until == utc(2026, 5, 4, 12)  # 08:00 EDT: open in UTC and in New York


def test_r_tcpa_2_evening_ends_at_the_earlier_of_the_stored_and_the_numbers_zone() -> None:
    request = _marketing(phone="+13105550100")  # a Los Angeles number, stored zone New York
    now = utc(2026, 5, 5, 1, 30)  # 21:30 New York, 18:30 Los Angeles

    decision = decide(request, _facts(now, request, Recipient(timezone="America/New_York")))

    assert (decision.allowed, decision.reason) == (False, Reason.QUIET_HOURS)
    assert decision.until == utc(2026, 5, 5, 15)  # 08:00 Los Angeles, 11:00 New York


def test_r_tcpa_2_a_florida_number_gets_no_marketing_text_after_2000() -> None:
    miami = _marketing(phone="+13055550100")  # area code 305: Florida
    new_york = _marketing(phone=NY_PHONE)
    now = utc(2026, 5, 5, 0, 30)  # 20:30 EDT in both

    assert _outcome(miami, _facts(now, miami, Recipient(country="US"))) == (
        False,
        Reason.QUIET_HOURS,
        "R-TCPA-2",
        utc(2026, 5, 5, 12),  # 08:00 EDT
    )
    assert decide(new_york, _facts(now, new_york, Recipient(country="US"))).allowed


def test_r_tcpa_2_a_state_configured_stricter_wins_over_its_country() -> None:
    policy = GatePolicy(
        quiet_hours_by_country={
            "US": DailyWindow.parse("09:00-20:00"),
            "US-NY": DailyWindow.parse("10:00-18:00"),
        }
    )
    request = _marketing(phone=NY_PHONE)
    now = utc(2026, 5, 4, 13, 30)  # 09:30 EDT: open in the US, not yet in New York

    assert _outcome(request, _facts(now, request), policy)[1:] == (
        Reason.QUIET_HOURS,
        "R-TCPA-2",
        utc(2026, 5, 4, 14),
    )


def test_r_tcpa_2_stricter_hours_per_country_are_configuration() -> None:
    policy = GatePolicy(quiet_hours_by_country={"US": DailyWindow.parse("09:00-20:00")})
    request = _marketing()
    now = utc(2026, 5, 5, 0, 30)  # 20:30 EDT

    assert _outcome(request, _facts(now, request), policy)[1:] == (
        Reason.QUIET_HOURS,
        "R-TCPA-2",
        utc(2026, 5, 5, 13),  # 09:00 EDT
    )


@pytest.mark.parametrize("window", ["07:00-21:00", "08:00-22:00", "20:00-09:00"])
def test_r_tcpa_2_looser_quiet_hours_are_refused_at_start_up(window: str) -> None:
    with pytest.raises(ValueError, match="looser than R-TCPA-2"):
        GatePolicy(quiet_hours=DailyWindow.parse(window))


def test_r_tcpa_2_marketing_email_and_transactional_sms_ignore_quiet_hours() -> None:
    night = utc(2026, 5, 5, 3)  # 23:00 EDT
    email, receipt = _marketing(Channel.EMAIL), _transactional(Channel.SMS)

    assert decide(email, _facts(night, email)).allowed
    assert decide(receipt, _facts(night, receipt)).allowed


# -- R-BR-1 calling window ----------------------------------------------------------------------


def test_r_br_1_marketing_call_to_brazil_on_sunday_is_held_until_monday_0900() -> None:
    request = _marketing(Channel.VOICE, SP_PHONE)
    sunday_noon = utc(2026, 5, 10, 15)  # Sunday 12:00 BRT: inside R-TCPA-2, outside R-BR-1

    assert _outcome(request, _facts(sunday_noon, request, SAO_PAULO)) == (
        False,
        Reason.CALLING_WINDOW,
        "R-BR-1",
        utc(2026, 5, 11, 12),  # Monday 09:00 BRT
    )


def test_r_br_1_saturday_calls_end_at_1600() -> None:
    request = _marketing(Channel.VOICE, SP_PHONE)

    assert decide(request, _facts(utc(2026, 5, 9, 18, 59), request, SAO_PAULO)).allowed  # 15:59
    held = _outcome(request, _facts(utc(2026, 5, 9, 19), request, SAO_PAULO))  # 16:00 Saturday
    assert held[1:] == (Reason.CALLING_WINDOW, "R-BR-1", utc(2026, 5, 11, 12))


def test_r_br_1_weekday_window_starts_at_0900_not_0800() -> None:
    request = _marketing(Channel.VOICE, SP_PHONE)
    monday_0830 = utc(2026, 5, 11, 11, 30)  # R-TCPA-2 open, R-BR-1 not yet

    assert _outcome(request, _facts(monday_0830, request, SAO_PAULO))[1:] == (
        Reason.CALLING_WINDOW,
        "R-BR-1",
        utc(2026, 5, 11, 12),
    )


def test_r_br_1_no_marketing_calls_on_a_national_holiday() -> None:
    request = _marketing(Channel.VOICE, SP_PHONE)
    tiradentes = utc(2026, 4, 21, 15)  # Tuesday 21 April, 12:00 BRT

    assert _outcome(request, _facts(tiradentes, request, SAO_PAULO))[1:] == (
        Reason.CALLING_WINDOW,
        "R-BR-1",
        utc(2026, 4, 22, 12),
    )


@pytest.mark.parametrize(
    ("good_friday", "next_open"),
    [
        (utc(2027, 3, 26, 15), utc(2027, 3, 27, 13)),  # Friday 12:00 BRT -> Saturday 10:00
        (utc(2028, 4, 14, 15), utc(2028, 4, 15, 13)),
    ],
)
def test_r_br_1_no_marketing_calls_on_good_friday_whichever_date_easter_falls_on(
    good_friday: datetime, next_open: datetime
) -> None:
    request = _marketing(Channel.VOICE, SP_PHONE)

    assert _outcome(request, _facts(good_friday, request, SAO_PAULO))[1:] == (
        Reason.CALLING_WINDOW,
        "R-BR-1",
        next_open,
    )


def test_r_br_1_applies_to_calls_not_texts_and_not_to_other_countries() -> None:
    sunday_noon_brt = utc(2026, 5, 10, 15)
    sms = _marketing(Channel.SMS, SP_PHONE)
    us_call = _marketing(Channel.VOICE, NY_PHONE)

    assert decide(sms, _facts(sunday_noon_brt, sms, SAO_PAULO)).allowed
    assert decide(us_call, _facts(sunday_noon_brt, us_call)).allowed  # 11:00 EDT, Sunday


def test_r_br_1_calling_window_is_configuration() -> None:
    policy = GatePolicy(calling_windows={"BR": WeeklyWindow.parse({"mon-sat": "10:00-18:00"})})
    request = _marketing(Channel.VOICE, SP_PHONE)
    monday_0930 = utc(2026, 5, 11, 12, 30)

    assert _outcome(request, _facts(monday_0930, request, SAO_PAULO), policy)[3] == utc(2026, 5, 11, 13)


# -- the step's window --------------------------------------------------------------------------

TIP_WINDOW = DailyWindow.between("09:00", "18:00")


def test_step_window_holds_an_email_until_the_window_opens_in_the_recipients_zone() -> None:
    request = _marketing(Channel.EMAIL, window=TIP_WINDOW)
    now = utc(2026, 5, 4, 22)  # 18:00 EDT: just closed

    assert _outcome(request, _facts(now, request)) == (
        False,
        Reason.OUTSIDE_WINDOW,
        None,
        utc(2026, 5, 5, 13),
    )


def test_step_window_applies_to_transactional_journeys_too() -> None:
    request = _transactional(Channel.EMAIL, window=TIP_WINDOW)
    now = utc(2026, 5, 4, 12)  # 08:00 EDT

    assert _outcome(request, _facts(now, request))[1:] == (Reason.OUTSIDE_WINDOW, None, utc(2026, 5, 4, 13))


def test_step_window_may_run_past_midnight() -> None:
    request = _marketing(Channel.EMAIL, window=DailyWindow.between("22:00", "02:00"))

    assert decide(request, _facts(utc(2026, 5, 5, 5), request)).allowed  # 01:00 EDT
    assert _outcome(request, _facts(utc(2026, 5, 5, 6), request))[3] == utc(2026, 5, 6, 2)  # 22:00 EDT


def test_step_window_without_any_zone_reads_the_configured_default() -> None:
    request = _marketing(Channel.EMAIL, window=TIP_WINDOW)
    policy = GatePolicy(default_timezone="Europe/Lisbon")
    now = utc(2026, 5, 4, 7)  # 08:00 in Lisbon (WEST, UTC+1)

    assert _outcome(request, _facts(now, request, Recipient()), policy)[3] == utc(2026, 5, 4, 8)


def test_quiet_hours_and_step_window_together_hold_until_both_are_open() -> None:
    # Quiet hours open at 08:00, the step's window at 10:00: the SMS waits for 10:00, and the
    # reason names the first rule closed now.
    request = _marketing(Channel.SMS, window=DailyWindow.between("10:00", "12:00"))
    now = utc(2026, 5, 4, 11)  # 07:00 EDT

    assert _outcome(request, _facts(now, request))[1:] == (
        Reason.QUIET_HOURS,
        "R-TCPA-2",
        utc(2026, 5, 4, 14),
    )


# -- what transactional never skips ---------------------------------------------------------------


def test_transactional_skips_marketing_checks_but_never_suppression() -> None:
    request = _transactional()
    night = utc(2026, 5, 5, 3)

    assert decide(request, _facts(night, request, sales_hold=True)).allowed
    assert _outcome(request, _facts(night, request, suppressed=True))[:3] == (
        False,
        Reason.SUPPRESSED,
        "R-TCPA-3",
    )


def test_checks_run_in_order_suppression_before_sales_hold_before_quiet_hours() -> None:
    request = _marketing()
    night = utc(2026, 5, 5, 3)

    assert _outcome(request, _facts(night, request, sales_hold=True, suppressed=True))[1] == Reason.SUPPRESSED
    assert _outcome(request, _facts(night, request, sales_hold=True))[1] == Reason.SALES_HOLD
    consent_gone = GateFacts(now=night, sales_hold=True, recipient=NEW_YORK)
    assert decide(request, consent_gone).reason == Reason.NO_CONSENT
