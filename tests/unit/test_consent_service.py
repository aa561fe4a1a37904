"""Consent commands on an in-memory ledger: what each records, and what the state keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from baton.clock import FixedClock
from baton.consent.exceptions import (
    ConcurrentConsentUpdate,
    InvalidAddress,
    LedgerWriteConflict,
    TransitionNotAllowed,
)
from baton.consent.models import ConsentProof
from baton.consent.repository import MAX_WRITES_PER_TRANSACTION, InMemoryConsentRepository, LedgerWrite
from baton.consent.service import ConsentService, Grant
from baton.consent.vocabulary import Basis, Channel, ConsentStatus, Source
from baton.timeline.repository import InMemoryTimelineRepository
from baton.timeline.service import TimelineService

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
PROOF = ConsentProof(
    consent_text="Yes, send me news by email.",
    language="en",
    form_id="footer-v3",
    page_url="https://shop.example.com/",
    ip="203.0.113.7",
    user_agent="Mozilla/5.0",
)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def timeline(clock: FixedClock) -> TimelineService:
    return TimelineService(InMemoryTimelineRepository(), clock)


@pytest.fixture
def consent(clock: FixedClock, timeline: TimelineService) -> ConsentService:
    return ConsentService(InMemoryConsentRepository(), timeline, clock)


def test_given_a_form_request_then_consent_is_pending_with_its_proof_r_gdpr_2(
    consent: ConsentService,
) -> None:
    change = consent.request("c1", Channel.EMAIL, "news", "Ana@Example.com", proof=PROOF)

    assert change.state.status == ConsentStatus.PENDING
    assert change.state.address == "ana@example.com"
    assert change.state.requested_at == T0
    assert change.entry is not None
    assert change.entry.proof == PROOF
    assert change.entry.source == Source.FORM
    assert change.entry.timestamp == T0


def test_given_pending_when_the_link_confirms_then_granted_and_linked_to_the_request(
    consent: ConsentService, clock: FixedClock
) -> None:
    request = consent.request("c1", Channel.EMAIL, "news", "ana@example.com", proof=PROOF)
    clock.set(T0 + timedelta(hours=1))

    change = consent.grant("c1", Channel.EMAIL, "news", source=Source.LINK)

    assert change.state.status == ConsentStatus.GRANTED
    assert change.state.granted_at == T0 + timedelta(hours=1)
    assert change.state.granted_basis == Basis.EXPRESS
    assert change.state.address == "ana@example.com"
    assert change.entry is not None
    assert request.entry is not None
    assert change.entry.confirms_entry_id == request.entry.entry_id
    assert change.entry.previous_status == ConsentStatus.PENDING


def test_sms_consent_covers_the_exact_e164_number_r_tcpa_1(consent: ConsentService) -> None:
    change = consent.request("c1", Channel.SMS, "offers", "+1 (201) 555-0123")

    assert change.state.address == "+12015550123"


def test_given_no_address_anywhere_when_granting_then_refused(consent: ConsentService) -> None:
    with pytest.raises(InvalidAddress):
        consent.grant("c1", Channel.SMS, "offers", source=Source.IMPORT, basis=Basis.EXPRESS)


def test_given_an_unparseable_number_when_requesting_then_refused(consent: ConsentService) -> None:
    with pytest.raises(InvalidAddress):
        consent.request("c1", Channel.SMS, "offers", "201 555 0123")


def test_given_granted_when_the_form_is_sent_again_then_nothing_is_written(consent: ConsentService) -> None:
    consent.grant(
        "c1", Channel.EMAIL, "news", source=Source.IMPORT, basis=Basis.EXPRESS, address="a@example.com"
    )

    change = consent.request("c1", Channel.EMAIL, "news", "a@example.com")

    assert change.changed is False
    assert change.state.status == ConsentStatus.GRANTED
    assert len(consent.entries("c1")) == 1


def test_given_revoked_when_revoked_again_then_no_second_entry(consent: ConsentService) -> None:
    consent.revoke("c1", Channel.EMAIL, "news", source=Source.LINK)

    again = consent.revoke("c1", Channel.EMAIL, "news", source=Source.LINK)

    assert again.changed is False
    assert len(consent.entries("c1")) == 1


def test_given_no_record_when_revoked_then_the_objection_is_kept_and_blocks_an_import_r_gdpr_4(
    consent: ConsentService,
) -> None:
    consent.revoke("c1", Channel.SMS, "offers", source=Source.KEYWORD, address="+12015550123")

    with pytest.raises(TransitionNotAllowed):
        consent.grant("c1", Channel.SMS, "offers", source=Source.IMPORT, basis=Basis.EXPRESS)
    state = consent.state("c1", Channel.SMS, "offers")
    assert state is not None
    assert state.status == ConsentStatus.REVOKED


def test_given_express_consent_when_an_implied_grant_follows_then_express_stays_in_force_r_casl_1(
    consent: ConsentService, clock: FixedClock
) -> None:
    consent.grant(
        "c1", Channel.EMAIL, "news", source=Source.IMPORT, basis=Basis.EXPRESS, address="a@example.com"
    )
    clock.set(T0 + timedelta(days=30))

    change = consent.grant("c1", Channel.EMAIL, "news", source=Source.IMPORT, basis=Basis.IMPLIED_PURCHASE)

    assert change.changed is True
    assert change.state.granted_basis == Basis.EXPRESS
    assert change.state.granted_at == T0


def test_given_implied_consent_when_a_new_purchase_is_recorded_then_the_grant_is_renewed_r_casl_1(
    consent: ConsentService, clock: FixedClock
) -> None:
    consent.grant(
        "c1",
        Channel.EMAIL,
        "news",
        source=Source.IMPORT,
        basis=Basis.IMPLIED_PURCHASE,
        address="a@example.com",
    )
    clock.set(T0 + timedelta(days=300))

    change = consent.grant("c1", Channel.EMAIL, "news", source=Source.AGENT, basis=Basis.IMPLIED_PURCHASE)

    assert change.state.granted_at == T0 + timedelta(days=300)


def test_given_a_revocation_then_the_last_grant_is_still_on_the_state(
    consent: ConsentService, clock: FixedClock
) -> None:
    consent.grant("c1", Channel.EMAIL, "news", source=Source.LINK, address="a@example.com")
    clock.set(T0 + timedelta(days=2))

    change = consent.revoke("c1", Channel.EMAIL, "news", source=Source.LINK)

    assert change.state.status == ConsentStatus.REVOKED
    assert change.state.revoked_at == T0 + timedelta(days=2)
    assert change.state.granted_at == T0
    assert change.state.address == "a@example.com"


def test_given_sms_topics_when_stop_revokes_all_sms_then_email_is_untouched_r_tcpa_6(
    consent: ConsentService,
) -> None:
    for topic in ("news", "offers"):
        consent.grant("c1", Channel.SMS, topic, source=Source.KEYWORD, address="+12015550123")
    consent.grant("c1", Channel.EMAIL, "news", source=Source.LINK, address="a@example.com")
    consent.revoke("c1", Channel.SMS, "news", source=Source.LINK)

    changes = consent.revoke_all("c1", Channel.SMS, Source.KEYWORD, ConsentProof(message_id="inbound-1"))

    assert [(c.state.topic, c.state.status) for c in changes] == [("offers", ConsentStatus.REVOKED)]
    statuses = {(s.channel, s.topic): s.status for s in consent.states("c1")}
    assert statuses == {
        (Channel.EMAIL, "news"): ConsentStatus.GRANTED,
        (Channel.SMS, "news"): ConsentStatus.REVOKED,
        (Channel.SMS, "offers"): ConsentStatus.REVOKED,
    }


def test_every_applied_change_is_on_the_timeline(consent: ConsentService, timeline: TimelineService) -> None:
    consent.request("c1", Channel.EMAIL, "news", "a@example.com")
    consent.grant("c1", Channel.EMAIL, "news", source=Source.LINK)
    consent.request("c1", Channel.EMAIL, "news", "a@example.com")  # no-op: not recorded

    events = timeline.page("c1").items

    assert [(e.kind, e.detail["status"]) for e in events] == [
        ("consent.changed", "granted"),
        ("consent.changed", "pending"),
    ]


def test_the_ledger_lists_entries_oldest_first(consent: ConsentService, clock: FixedClock) -> None:
    consent.request("c1", Channel.EMAIL, "news", "a@example.com")
    clock.set(T0 + timedelta(minutes=5))
    consent.grant("c1", Channel.EMAIL, "news", source=Source.LINK)
    clock.set(T0 + timedelta(minutes=9))
    consent.revoke("c1", Channel.EMAIL, "news", source=Source.PREFERENCE_PAGE)

    assert [e.status for e in consent.entries("c1")] == [
        ConsentStatus.PENDING,
        ConsentStatus.GRANTED,
        ConsentStatus.REVOKED,
    ]


def test_an_invalid_topic_is_refused_before_anything_is_written(consent: ConsentService) -> None:
    with pytest.raises(ValueError, match="topic"):
        consent.request("c1", Channel.EMAIL, "News#1", "a@example.com")
    assert consent.entries("c1") == []


class _RacingRepository(InMemoryConsentRepository):
    """Another writer changes the state just before each of the first `races` writes."""

    def __init__(self, races: int) -> None:
        super().__init__()
        self.races = races

    def append(self, writes: list[LedgerWrite]) -> None:  # type: ignore[override]
        if self.races:
            self.races -= 1
            raise LedgerWriteConflict(entry_exists=False, state_moved=True)
        super().append(writes)


def test_given_a_concurrent_writer_when_granting_then_the_change_is_recomputed_and_applied(
    clock: FixedClock, timeline: TimelineService
) -> None:
    consent = ConsentService(_RacingRepository(races=2), timeline, clock)

    change = consent.grant("c1", Channel.EMAIL, "news", source=Source.LINK, address="a@example.com")

    assert change.state.status == ConsentStatus.GRANTED


def test_given_a_writer_that_always_wins_then_a_conflict_is_raised(
    clock: FixedClock, timeline: TimelineService
) -> None:
    consent = ConsentService(_RacingRepository(races=99), timeline, clock)

    with pytest.raises(ConcurrentConsentUpdate):
        consent.grant("c1", Channel.EMAIL, "news", source=Source.LINK, address="a@example.com")


def test_a_request_is_marked_asked_only_while_it_is_the_pending_one_and_keeps_it_once_answered(
    consent: ConsentService, clock: FixedClock
) -> None:
    number = "+12015550123"
    consent.request("c-1", Channel.SMS, "news", number, proof=PROOF, request_id="r-1")
    consent.request("c-1", Channel.SMS, "news", number, proof=PROOF, request_id="r-2")  # replaces r-1
    clock.set(T0 + timedelta(minutes=1))

    stale = consent.mark_asked("c-1", Channel.SMS, ["news"], "r-1")
    marked = consent.mark_asked("c-1", Channel.SMS, ["news"], "r-2")
    consent.grant("c-1", Channel.SMS, "news", source=Source.KEYWORD)

    state = consent.state("c-1", Channel.SMS, "news")
    assert (stale, marked) == (0, 1)
    assert state is not None
    assert (state.status, state.asked_at) == (ConsentStatus.GRANTED, T0 + timedelta(minutes=1))
    consent.request("c-1", Channel.SMS, "offers", number, proof=PROOF, request_id="r-3")
    assert consent.mark_asked("c-1", Channel.SMS, ["offers", "news"], "r-3") == 1  # news is answered


def _grant(contact_id: str, topic: str = "news") -> Grant:
    return Grant(
        contact_id=contact_id,
        channel=Channel.EMAIL,
        topic=topic,
        source=Source.IMPORT,
        basis=Basis.EXPRESS,
        address=f"{contact_id}@example.com",
        proof=PROOF,
    )


def test_many_grants_are_each_recorded_as_one_grant_is_across_transactions(
    consent: ConsentService, timeline: TimelineService
) -> None:
    grants = [_grant(f"c{n}") for n in range(MAX_WRITES_PER_TRANSACTION + 1)]

    changes = consent.grant_many(grants)

    assert [change.state.contact_id for change in changes] == [grant.contact_id for grant in grants]
    for grant in (grants[0], grants[-1]):
        (entry,) = consent.entries(grant.contact_id)
        assert (entry.status, entry.source, entry.address, entry.proof) == (
            ConsentStatus.GRANTED,
            Source.IMPORT,
            grant.address,
            PROOF,
        )
        (event,) = timeline.all(grant.contact_id)
        assert event.detail["entry_id"] == entry.entry_id


def test_a_grant_over_the_persons_own_opt_out_refuses_its_whole_transaction(consent: ConsentService) -> None:
    consent.revoke("c1", Channel.EMAIL, "news", source=Source.LINK)

    with pytest.raises(TransitionNotAllowed):
        consent.grant_many([_grant("c0"), _grant("c1")])

    assert consent.entries("c0") == []


def test_given_a_concurrent_writer_many_grants_are_recomputed_and_applied(
    clock: FixedClock, timeline: TimelineService
) -> None:
    consent = ConsentService(_RacingRepository(races=1), timeline, clock)

    changes = consent.grant_many([_grant("c0"), _grant("c1")])

    assert [change.state.status for change in changes] == [ConsentStatus.GRANTED] * 2
    assert len(consent.entries("c1")) == 1
