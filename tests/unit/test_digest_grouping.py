"""The weekly review digest: grouped by owner (orphaned entries to the fallback owner), nothing
for an owner with nothing due, the subject and body in plain words, and once per owner and ISO
week on the once ledger, a failed send retried without mailing the owners already done."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from baton.clock import FixedClock
from baton.data.once import InMemoryOnceTable, Once
from baton.delivery.exceptions import DeliveryError, ProviderAmbiguous, ProviderUnavailable
from baton.delivery.message import OutboundMessage
from baton.inventory.digest import KEEP, ONCE_PREFIX, Digest, ReviewDigest, digests, iso_week
from baton.inventory.exceptions import DigestIncomplete
from baton.inventory.models import Approval, Entry, InventoryList, Status, Volume
from baton.messages.builtins import BuiltIn
from baton.messages.staff import StaffMail
from tests.staff_fakes import Counter, Email

MONDAY = datetime(2027, 3, 8, 8, tzinfo=UTC)  # ISO week 2027-W10
TODAY = MONDAY.date()
FALLBACK = "hello@example.com"


def _entry(entry_id: str, owner: str, *statuses: Status, **fields: Any) -> Entry:
    journey, _, step = entry_id.removeprefix("journey/").partition("/")
    built_in = entry_id.startswith("builtin/")
    values: dict[str, Any] = {
        "id": entry_id,
        "kind": "built_in" if built_in else "journey_step",
        "owner": owner,
        "purpose": "marketing",
        "trigger": "event x",
        "journey": None if built_in else journey,
        "step": None if built_in else step,
        "channels": ["email"],
        "templates": [] if built_in else [f"{journey}-{step}"],
        "locales": ["en"],
        "review_by": date(2027, 3, 1),
        "approval": Approval(),
        "last_sent": date(2027, 3, 5),
        "last_7_days": Volume(sent=12, delivered=10, failed=1),
        "last_30_days": Volume(sent=40, delivered=38, failed=1),
        "statuses": list(statuses),
    } | fields
    return Entry.model_validate(values)


WELCOME = _entry("journey/welcome/hello", "growth@example.com", Status.ACTIVE, Status.OVERDUE, Status.CLOSED)
LEAD = _entry("journey/lead-nurture/intro", "growth@example.com", Status.ACTIVE)  # nothing due
ORDER = _entry(
    "journey/order-shipped/notify",
    "ops@example.com",
    Status.ACTIVE,
    Status.FAILING,
    last_7_days=Volume(sent=10, delivered=4, failed=6),
)
ORPHAN = _entry("journey/support/ack", "gone@example.com", Status.ACTIVE, Status.UNAPPROVED, Status.ORPHANED)
QUIET = _entry("journey/support/survey", "cx@example.com", Status.NEVER_SENT, last_sent=None)  # not due
HELP = _entry("builtin/sms-help", FALLBACK, Status.ACTIVE, Status.OVERDUE, review_by=None)


def _digests(*entries: Entry) -> dict[str, Digest]:
    return {d.owner: d for d in digests(entries, fallback_owner=FALLBACK, week="2027-W10", as_of=TODAY)}


def test_each_owner_gets_exactly_their_due_entries_and_an_owner_with_nothing_due_gets_nothing() -> None:
    found = _digests(WELCOME, LEAD, ORDER, QUIET)

    assert sorted(found) == ["growth@example.com", "ops@example.com"]
    assert [e.id for e in found["growth@example.com"].entries] == ["journey/welcome/hello"]
    assert [e.id for e in found["ops@example.com"].entries] == ["journey/order-shipped/notify"]


def test_an_orphaned_entry_goes_to_the_fallback_owner_with_all_its_reasons_not_to_its_own() -> None:
    found = _digests(ORPHAN, HELP)

    assert sorted(found) == [FALLBACK]
    assert [e.id for e in found[FALLBACK].entries] == ["journey/support/ack", "builtin/sms-help"]
    text = found[FALLBACK].text
    assert "- unapproved: The words of support-ack lost legal's approval" in text
    assert "- orphaned: Its owner on record, gone@example.com, cannot be reached" in text


def test_owners_are_the_same_whatever_the_case_of_their_address() -> None:
    shouting = _entry("journey/welcome/tip", "Growth@Example.com", Status.SILENT)

    (digest,) = digests([WELCOME, shouting], fallback_owner=FALLBACK, week="2027-W10", as_of=TODAY)

    assert digest.owner == "growth@example.com"
    assert len(digest.entries) == 2


def test_the_subject_names_the_week_and_how_many_automations_need_the_owner() -> None:
    many = _digests(WELCOME, _entry("journey/welcome/tip", "growth@example.com", Status.SILENT))
    one = _digests(ORDER)

    assert many["growth@example.com"].subject == "Baton review digest, week 2027-W10: 2 automations need you"
    assert one["ops@example.com"].subject == "Baton review digest, week 2027-W10: 1 automation needs you"


def test_the_body_gives_each_entry_its_statuses_dates_volume_and_what_to_do() -> None:
    text = _digests(WELCOME, ORDER, HELP)["growth@example.com"].text

    assert "1. journey/welcome/hello\n" in text
    assert "   Statuses: active, overdue, closed\n" in text
    assert "   Review date: 2027-03-01\n" in text
    assert "   Last sent: 2027-03-05\n" in text
    assert "   Last 7 days: 12 sent, 10 delivered, 1 failed\n" in text
    assert "   - overdue: Its review date has passed: review it, then move review_by" in text
    assert "   - closed: A marketing journey overdue past its grace period" in text
    assert "ops@example.com" not in text  # another owner's entries are not in it
    failing = _digests(ORDER)["ops@example.com"].text
    assert "- failing: 6 of 16 sends failed in the last 7 days" in failing
    built_in = _digests(HELP)[FALLBACK].text
    assert "   Review date: none on record\n" in built_in
    assert "reviewBy in cdk.json (inventory.builtIn, 'builtin/sms-help')" in built_in


def test_the_week_is_the_iso_week_of_the_firing_in_utc() -> None:
    assert iso_week(MONDAY) == "2027-W10"
    assert iso_week(datetime(2027, 1, 1, 12, tzinfo=UTC)) == "2026-W53"  # a Friday of 2026's last week
    assert iso_week(datetime(2027, 3, 14, 23, 59, tzinfo=UTC)) == "2027-W10"  # Sunday: same week


class Inventory:
    def __init__(self, *entries: Entry) -> None:
        self.items = list(entries)

    @property
    def fallback_owner(self) -> str:
        return FALLBACK

    def entries(self, *, stale: bool = False) -> InventoryList:
        return InventoryList(items=self.items)


class World:
    def __init__(self, *entries: Entry) -> None:
        self.clock = FixedClock(MONDAY)
        self.failing: set[str] = set()
        self.ambiguous: set[str] = set()
        self.email = Email(self._failure)
        self.counter = Counter()
        self.table = InMemoryOnceTable()
        mail = StaffMail(self.email, BuiltIn.REVIEW_DIGEST, counter=self.counter, clock=self.clock)
        once = Once(self.table, prefix=ONCE_PREFIX, keep=KEEP, clock=self.clock)
        self.digest = ReviewDigest(Inventory(*entries), mail, once, self.clock)

    def _failure(self, message: OutboundMessage) -> DeliveryError | None:
        if message.to in self.failing:
            return ProviderUnavailable("ses", "ServiceUnavailable")
        if message.to in self.ambiguous:
            return ProviderAmbiguous("ses", "ReadTimeout")
        return None

    def sent_to(self) -> list[str]:
        return [message.to for message in self.email.sent]

    def measures(self) -> list[str]:
        return [measure for _, measure, _, _ in self.counter.counts]


def test_one_digest_per_owner_per_week_however_often_the_schedule_fires() -> None:
    world = World(WELCOME, ORDER, ORPHAN, LEAD)

    first = world.digest.send(MONDAY)
    again = world.digest.send(MONDAY)  # a retried firing
    later = world.digest.send(datetime(2027, 3, 10, 8, tzinfo=UTC))  # a second firing, same week

    assert sorted(world.sent_to()) == ["growth@example.com", FALLBACK, "ops@example.com"]
    assert (first.owners, first.sent, first.already_sent, first.items) == (3, 3, 0, 3)
    assert (again.sent, again.already_sent) == (0, 3) == (later.sent, later.already_sent)
    assert world.measures() == ["sent", "sent", "sent"]
    assert all(message.tags["builtin"] == "review-digest" for message in world.email.sent)
    # the ledger's keys name neither the owner nor the week in the clear
    assert all("@" not in key and "2027" not in key for key in world.table.entries)


def test_the_next_week_sends_again() -> None:
    world = World(WELCOME)
    world.digest.send(MONDAY)

    world.clock.set(datetime(2027, 3, 15, 8, tzinfo=UTC))
    report = world.digest.send(datetime(2027, 3, 15, 8, tzinfo=UTC))

    assert report.week == "2027-W11"
    assert world.sent_to() == ["growth@example.com", "growth@example.com"]
    assert "week 2027-W11" in world.email.sent[1].subject


def test_a_failed_send_fails_the_firing_and_its_retry_mails_only_the_owners_not_done() -> None:
    world = World(WELCOME, ORDER)
    world.failing = {"ops@example.com"}

    with pytest.raises(DigestIncomplete, match="1 of 2 owners"):
        world.digest.send(MONDAY)
    assert world.sent_to() == ["growth@example.com"]

    world.failing = set()
    report = world.digest.send(MONDAY)  # the schedule retries the firing

    assert world.sent_to() == ["growth@example.com", "ops@example.com"]
    assert (report.sent, report.already_sent) == (1, 1)
    assert world.measures() == ["sent", "failed", "sent"]


def test_a_lost_answer_is_not_sent_again_and_counts_as_unknown() -> None:
    world = World(ORDER)
    world.ambiguous = {"ops@example.com"}

    first = world.digest.send(MONDAY)
    world.ambiguous = set()
    again = world.digest.send(MONDAY)

    assert (first.unknown, again.already_sent) == (1, 1)
    assert world.sent_to() == []
    assert world.measures() == ["unknown"]


def test_nothing_due_sends_nothing() -> None:
    world = World(LEAD, QUIET)

    report = world.digest.send(MONDAY)

    assert (report.owners, report.sent, report.items) == (0, 0, 0)
    assert world.sent_to() == []
