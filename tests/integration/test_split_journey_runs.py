"""A journey with a split, a holdout and a goal on the embedded AWS: events start it for many
contacts through the events service, its state machine runs under the local scheduler with the
real JourneyStepFunction, and the timeline says who got which variant, who was held out, and who
converted (once per entry)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from baton import bootstrap
from baton.contacts.models import ContactInput
from baton.handlers import journey_step
from baton.journeys.models import Variant
from baton.journeys.split import held_out, variant_of
from baton.triggers import wiring
from baton.triggers.models import EventIn
from tests.integration.journeys import REGION, STATE_MACHINE_PREFIX, JourneysOnMoto, lambda_context

OFFER = """\
journey: offer
owner: growth@example.com
purpose: transactional
review_by: 2027-01-01
trigger: {event: offer.requested}
goal: {event: order.placed, within: 7d}
holdout: 10%
steps:
  - id: subject
    split:
      variants:
        - {name: short, weight: 70, next: short-offer}
        - {name: long, weight: 30, next: long-offer}
  - id: short-offer
    send: {template: hello, channels: [email]}
    next: end
  - id: long-offer
    send: {template: hello, channels: [email]}
"""
HELLO = """\
template: hello
owner: growth@example.com
purpose: transactional
locales:
  en:
    email: {subject: "Hello", text: "Hello {{ contact.first_name }}"}
"""
VARIANTS = [
    Variant(name="short", weight=70, next="short-offer"),
    Variant(name="long", weight=30, next="long-offer"),
]
CONTACTS = [f"c{n:03d}" for n in range(100)]


@pytest.fixture
def journeys(
    journeys_on_moto: JourneysOnMoto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[JourneysOnMoto]:
    (tmp_path / "templates").mkdir()
    (tmp_path / "offer.yaml").write_text(OFFER, encoding="utf-8")
    (tmp_path / "templates" / "hello.yaml").write_text(HELLO, encoding="utf-8")
    monkeypatch.setenv("BATON_JOURNEYS_DIR", str(tmp_path))
    monkeypatch.setenv("BATON_STATE_MACHINE_ARN_PREFIX", STATE_MACHINE_PREFIX)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    bootstrap.reset()
    wiring.catalog.cache_clear()
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="example.com")
    journeys_on_moto.deploy(tmp_path, journey_step.handler)
    for contact_id in CONTACTS:
        bootstrap.services().contacts.upsert(
            contact_id, ContactInput(email=f"{contact_id}@example.com", first_name="Ana")
        )
    yield journeys_on_moto
    bootstrap.reset()
    wiring.catalog.cache_clear()


def _record(contact_id: str, type_: str, key: str) -> list[str]:
    service = wiring.event_service(bootstrap.services(), lambda_context("Baton-PrivateApiFunction"))
    return service.record(EventIn(contact_id=contact_id, type=type_, idempotency_key=key)).journeys_started


def _entries(contact_id: str, kind: str) -> list[dict[str, Any]]:
    timeline = bootstrap.services().timeline.all(contact_id)
    return [dict(event.detail) for event in reversed(timeline) if event.kind == kind]


def _kinds(contact_id: str) -> list[str]:
    return [event.kind for event in reversed(bootstrap.services().timeline.all(contact_id))]


def test_variants_follow_the_weights_are_stable_and_the_holdout_gets_nothing(
    journeys: JourneysOnMoto,
) -> None:
    # given an offer requested by 100 contacts
    for contact_id in CONTACTS:
        # a second apart, as requests come: the sends stay within SES's rate (R-SES-1)
        assert _record(contact_id, "offer.requested", f"{contact_id}-1") == ["offer"]
        journeys.advance("1s")

    # then about one in ten is held out: entered, recorded, sent nothing, no execution
    held = [c for c in CONTACTS if _entries(c, "journey.held_out")]
    assert held == [c for c in CONTACTS if held_out("offer", c, "10%")]
    assert 3 <= len(held) <= 20
    for contact_id in held:
        (started,) = _entries(contact_id, "journey.started")
        assert started["variant"] == "holdout"
        assert "message.sent" not in _kinds(contact_id)
        assert not _entries(contact_id, "journey.split")
    assert len(journeys.executions("offer")) == len(CONTACTS) - len(held)

    # and everyone else is split about 70/30, each message and the completion tagged with the variant
    split = [c for c in CONTACTS if c not in held]
    variants: dict[str, str] = {}
    for contact_id in split:
        (entry,) = _entries(contact_id, "journey.split")
        variants[contact_id] = str(entry["variant"])
        assert entry["variant"] == variant_of("offer", contact_id, VARIANTS).name
        (sent,) = _entries(contact_id, "message.sent")
        assert sent["variant"] == entry["variant"]
        assert sent["step"] == f"{entry['variant']}-offer"
        (completed,) = _entries(contact_id, "journey.completed")
        assert completed["variant"] == entry["variant"]
    shares = Counter(variants.values())
    assert 0.55 <= shares["short"] / len(split) <= 0.85

    # when a few enter again (a new event)
    for contact_id in split[:10]:
        _record(contact_id, "offer.requested", f"{contact_id}-2")
        journeys.advance("1s")

    # then each gets the same variant as before
    for contact_id in split[:10]:
        assert [e["variant"] for e in _entries(contact_id, "journey.split")] == [variants[contact_id]] * 2


def test_a_goal_converts_once_per_entry_held_out_contacts_too(journeys: JourneysOnMoto) -> None:
    held = next(c for c in CONTACTS if held_out("offer", c, "10%"))
    treated = next(c for c in CONTACTS if not held_out("offer", c, "10%"))
    for contact_id in (held, treated):
        _record(contact_id, "offer.requested", f"{contact_id}-offer")

    # when each places an order two days later, and the order event is repeated, then another comes
    journeys.advance("2d")
    for contact_id in (held, treated):
        _record(contact_id, "order.placed", f"{contact_id}-order-1")
        _record(contact_id, "order.placed", f"{contact_id}-order-1")
        _record(contact_id, "order.placed", f"{contact_id}-order-2")

    # then each entry converted once, with its variant and the first order's id
    (control,) = _entries(held, "journey.converted")
    assert control["variant"] == "holdout"
    assert (control["journey"], control["event"], control["event_id"]) == (
        "offer",
        "order.placed",
        f"{held}-order-1",
    )
    (converted,) = _entries(treated, "journey.converted")
    assert converted["variant"] == variant_of("offer", treated, VARIANTS).name
    (started,) = _entries(treated, "journey.started")
    assert converted["execution"] == started["execution"]
    assert str(converted["entered_at"]).endswith("Z")


def test_an_order_after_the_goal_window_converts_nothing(journeys: JourneysOnMoto) -> None:
    contact_id = next(c for c in CONTACTS if not held_out("offer", c, "10%"))
    _record(contact_id, "offer.requested", "offer-1")
    journeys.advance("8d")
    _record(contact_id, "order.placed", "order-1")
    assert _entries(contact_id, "journey.converted") == []
