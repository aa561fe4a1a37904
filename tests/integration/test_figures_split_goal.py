"""Figures of a journey with a split, a holdout and a goal on the embedded AWS: 300 contacts
through one campaign (its batches), with skips, a provider's refusals, deliveries, bounces,
unsubscribes and orders (held-out contacts' too, one repeated); the figures equal what the
contacts' timelines show, count for count, by step, channel and variant, and each variant's
conversion rate, lift against the holdout and p-value are those the timelines' counts give."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest

from baton import bootstrap
from baton.campaigns.batch import BatchRequest
from baton.campaigns.wiring import campaign_batch
from baton.consent.vocabulary import Channel, Source
from baton.feedback.events import parse_eventbridge
from baton.feedback.wiring import feedback_service
from baton.figures.projection import HOLDOUT, NONE, split_counter
from baton.figures.repository import DynamoFiguresRepository
from baton.figures.service import FiguresService
from baton.suppression.models import SuppressionReason
from baton.triggers import wiring
from baton.triggers.models import EventIn
from tests.approvals import approve_catalog
from tests.integration.journeys import lambda_context
from tests.integration.test_campaign_batch import NOW, SALE_NOTE, SEGMENT, _contact, _run
from tests.integration.test_campaign_split import SPLIT_SALE as CAMPAIGN_SPLIT_SALE
from tests.integration.test_figures_timelines import (
    BOUNCES,
    CONTACTS,
    NO_CONSENT,
    SUPPRESSED,
    UNSUBSCRIBES,
    _ses_event,
    _tags_and_rejections,
    world,
)

__all__ = ["world"]

# The campaign split's journey (two variants, a goal) with a holdout of one in ten.
SPLIT_SALE = CAMPAIGN_SPLIT_SALE.replace("holdout: 20%", "holdout: 10%")
STEPS = ["subject", "loud-note", "note"]
# Who orders, by the contact's number: every third; every sixth orders again (the same event
# delivered twice, then a second order): an entry converts once.
ORDERS, REPEATS = 3, 6

# One counter: (measure, step, channel, variant), as the figures table keeps them.
Key = tuple[str, str, str, str]


@pytest.fixture
def journeys(tmp_path: Path) -> Path:
    (tmp_path / "templates").mkdir()
    (tmp_path / "segments").mkdir()
    for name, text in {
        "spring-sale.yaml": SPLIT_SALE,
        "templates/sale-note.yaml": SALE_NOTE,
        "segments/everyone-opted-in.yaml": SEGMENT,
    }.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    approve_catalog(tmp_path)
    return tmp_path


def _order(s: bootstrap.Services, contact_id: str, key: str) -> None:
    service = wiring.event_service(s, lambda_context("Baton-PrivateApiFunction"))
    service.record(EventIn(contact_id=contact_id, type="order.placed", idempotency_key=key))


def _timeline_counts(s: bootstrap.Services, contact_ids: list[str]) -> Counter[Key]:
    """What the contacts' timelines show, in the figures' words: each entry where it happened
    (an unsubscribe against the last email the contact was sent)."""
    seen: Counter[Key] = Counter()
    for contact_id in contact_ids:
        last_sent: tuple[str, str] | None = None
        for event in reversed(s.timeline.all(contact_id)):  # oldest first
            detail = event.detail
            step, channel = str(detail.get("step", NONE)), str(detail.get("channel", NONE))
            variant = str(detail.get("variant", NONE))
            match event.kind:
                case "journey.started":
                    seen["entered", NONE, NONE, variant] += 1
                case "journey.converted":
                    seen["converted", NONE, NONE, variant] += 1
                case "journey.split":
                    seen["assigned", step, NONE, variant] += 1
                case "journey.completed":
                    seen["completed", step, NONE, variant] += 1
                case "journey.ended":
                    seen[f"ended.{detail['outcome']}", step, NONE, variant] += 1
                case "message.sent":
                    seen["sent", step, channel, variant] += 1
                    last_sent = (step, variant)
                case "message.refused":
                    seen[f"skipped.{detail['reason']}", step, channel, variant] += 1
                case "message.failed":
                    seen["failed", step, channel, variant] += 1
                case "delivery.event":
                    measure = {"failed": "undelivered"}.get(str(detail["status"]), str(detail["status"]))
                    seen[measure, step, channel, variant] += 1
                case "consent.changed" if detail["status"] == "revoked" and detail["source"] == "link":
                    assert last_sent is not None
                    seen["unsubscribed", last_sent[0], "email", last_sent[1]] += 1
    return seen


def _figures_counts(s: bootstrap.Services) -> Counter[Key]:
    """Every counter of the journey's items in the figures table."""
    counted: Counter[Key] = Counter()
    for item in DynamoFiguresRepository(s.settings.figures_table).items(
        "journey#spring-sale", NOW.date().isoformat(), f"{NOW.date().isoformat()}#~"
    ):
        step = item.key.sk.partition("#")[2]
        for counter, amount in item.counters.items():
            parts = split_counter(counter)
            assert parts is not None
            measure, channel, variant = parts
            counted[measure, step, channel, variant] += amount
    return counted


def _who(s: bootstrap.Services, contact_ids: list[str], kind: str) -> dict[str, str]:
    """The contacts with a `kind` entry, each with its variant."""
    found = {}
    for contact_id in contact_ids:
        for event in s.timeline.all(contact_id):
            if event.kind == kind:
                found[contact_id] = str(event.detail.get("variant", NONE))
    return found


def _p_value(x1: int, n1: int, x0: int, n0: int) -> float:
    """The two-sided p-value of the pooled two-proportion z-test, by hand."""
    pooled = (x1 + x0) / (n1 + n0)
    z = (x1 / n1 - x0 / n0) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    return 2 * (1 - 0.5 * (1 + math.erf(abs(z) / math.sqrt(2))))


def test_the_figures_of_a_split_with_a_holdout_and_a_goal_equal_the_timelines(
    world: bootstrap.Services,
) -> None:
    # given 300 contacts: some without consent, some suppressed, some SES refuses (MessageRejected)
    contact_ids = [f"c-{n:04d}" for n in range(CONTACTS)]
    for n, contact_id in enumerate(contact_ids):
        _contact(world, contact_id, email=n % 10 != NO_CONSENT)
        if n % 10 == SUPPRESSED:
            address = f"{contact_id}@example.com"
            world.suppression.add(Channel.EMAIL, address, SuppressionReason.MANUAL, "test")
    sent = _tags_and_rejections()
    _run(world)

    # when the campaign's three batches run
    batch = campaign_batch(world, lambda: float("inf"))
    for index in range(0, CONTACTS, 100):
        batch.run(BatchRequest("run-1", index // 100, contact_ids[index : index + 100]))
    # and SES reports deliveries and bounces (each echoing the send's tags), some unsubscribe
    feedback = feedback_service(world)
    for message_id, tags in sent.items():
        number = int(tags["to"].split("@")[0].rsplit("-", 1)[1])
        receipt = parse_eventbridge(_ses_event(message_id, tags, bounce=number % 10 == BOUNCES))
        assert receipt is not None
        feedback.handle(receipt)
        if number % 10 == UNSUBSCRIBES:
            world.consent.revoke(contact_ids[number], Channel.EMAIL, "news", source=Source.LINK)
    # and every third contact orders (held-out ones too), every sixth twice and the first again
    for n, contact_id in enumerate(contact_ids):
        if n % ORDERS == 0:
            _order(world, contact_id, f"{contact_id}-order-1")
        if n % REPEATS == 0:
            _order(world, contact_id, f"{contact_id}-order-1")
            _order(world, contact_id, f"{contact_id}-order-2")
    world.figures.flush()

    # then every counter, by step, channel and variant, is what the timelines show
    shown = _timeline_counts(world, contact_ids)
    assert _figures_counts(world) == shown
    figures = FiguresService(DynamoFiguresRepository(world.settings.figures_table)).journey(
        "spring-sale", NOW.date(), NOW.date(), STEPS
    )
    totals: Counter[str] = Counter()
    by_step: dict[str, Counter[str]] = {}
    for (measure, step, _, _), amount in shown.items():
        totals[measure] += amount
        by_step.setdefault(step, Counter())[measure] += amount
    assert figures.totals == dict(totals)
    assert [step.step for step in figures.steps] == [NONE, *STEPS]
    assert {step.step: step.totals for step in figures.steps} == {k: dict(v) for k, v in by_step.items()}

    # and who was held out, split and converted, once per entry, is what the timelines say
    held = _who(world, contact_ids, "journey.held_out")
    split = _who(world, contact_ids, "journey.split")
    converted = _who(world, contact_ids, "journey.converted")
    assert 15 <= len(held) <= 50
    assert len(held) + len(split) == CONTACTS
    assert set(converted) == {c for n, c in enumerate(contact_ids) if n % ORDERS == 0}
    assert any(converted.get(c) == HOLDOUT for c in held)
    assert totals["converted"] == len(converted)  # the repeated orders converted nothing more
    assert totals["entered"] == CONTACTS
    assert totals["sent"] == sum(shown[k] for k in shown if k[0] == "sent") > 0
    for measure in (
        "delivered",
        "bounced",
        "unsubscribed",
        "skipped.no_consent",
        "skipped.suppressed",
        "failed",
    ):
        assert totals[measure] > 0, measure

    # and each variant's receipts are counted by it (the variant travels in the SES tags)
    for variant in ("plain", "loud"):
        assert shown["delivered", {"plain": "note", "loud": "loud-note"}[variant], "email", variant] > 0

    # and the conversion rates, lifts and p-values are those of the timelines' counts
    n0 = len(held)
    x0 = sum(1 for c in held if c in converted)
    assert figures.holdout is not None
    assert (figures.holdout.entered, figures.holdout.converted) == (n0, x0)
    assert figures.holdout.conversion_rate == pytest.approx(x0 / n0)
    assert [v.variant for v in figures.variants] == ["loud", "plain"]
    for answer in figures.variants:
        members = [c for c, variant in split.items() if variant == answer.variant]
        n, x = len(members), sum(1 for c in members if converted.get(c) == answer.variant)
        assert (answer.entered, answer.converted) == (n, x)
        assert answer.conversion_rate == pytest.approx(x / n)
        assert answer.lift == pytest.approx((x / n - x0 / n0) / (x0 / n0))
        assert answer.p_value == pytest.approx(_p_value(x, n, x0, n0))
        assert answer.test == "two-proportion z-test"
    assert figures.rates["converted"] == pytest.approx(len(converted) / CONTACTS)
    assert figures.rates["delivered"] == pytest.approx(totals["delivered"] / totals["sent"])
