"""A campaign batch over a journey with a split, a holdout and a goal: the batch walks the split as
a branch, holds the control group out, and records the runs a conversion is looked up in."""

from __future__ import annotations

from pathlib import Path

import pytest

from baton import bootstrap
from baton.campaigns.batch import BatchRequest
from baton.journeys.models import Variant
from baton.journeys.paths import Path as RunPath
from baton.journeys.paths import journey_path
from baton.journeys.split import held_out, variant_of
from baton.triggers.runs import DynamoRunRepository
from baton.triggers.wiring import services_catalog
from tests.approvals import approve_catalog
from tests.integration.test_campaign_batch import SALE_NOTE, SEGMENT, _batch, _contact, _emails, _run, world

__all__ = ["world"]

SPLIT_SALE = """\
journey: spring-sale
owner: growth@example.com
purpose: marketing
topic: news
review_by: 2027-03-01
trigger:
  event: campaign.spring
goal: {event: order.placed, within: 7d}
holdout: 20%
steps:
  - id: subject
    split:
      variants:
        - {name: plain, weight: 1, next: note}
        - {name: loud, weight: 1, next: loud-note}
  - id: loud-note
    send: {template: sale-note, channels: [email]}
    next: end
  - id: note
    send: {template: sale-note, channels: [email]}
"""
VARIANTS = [Variant(name="plain", weight=1, next="note"), Variant(name="loud", weight=1, next="loud-note")]
CONTACTS = [f"c-{n:04d}" for n in range(1, 31)]


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


def test_a_batch_walks_the_split_holds_the_control_out_and_keeps_the_runs(world: bootstrap.Services) -> None:
    for contact_id in CONTACTS:
        _contact(world, contact_id)
    _run(world)

    result = _batch(world).run(BatchRequest("run-1", 0, CONTACTS))

    held = [c for c in CONTACTS if held_out("spring-sale", c, "20%")]
    assert held  # some of the thirty
    assert sorted(_emails()) == sorted(f"{c}@example.com" for c in CONTACTS if c not in held)
    assert result.outcomes.get("skipped:holdout", 0) == len(held)
    runs = DynamoRunRepository(world.settings.runs_table)
    for contact_id in CONTACTS:
        (run,) = runs.of_journey(contact_id, "spring-sale")
        timeline = {event.kind: dict(event.detail) for event in world.timeline.all(contact_id)}
        if contact_id in held:
            assert run.variant == "holdout"
            assert "journey.held_out" in timeline
            assert "message.sent" not in timeline
        else:
            expected = variant_of("spring-sale", contact_id, VARIANTS)
            assert run.variant == expected.name
            assert timeline["journey.split"]["variant"] == expected.name
            assert timeline["message.sent"]["variant"] == expected.name
            assert timeline["message.sent"]["step"] == expected.next


def test_a_split_and_a_goal_keep_a_journey_on_the_batch_path(world: bootstrap.Services) -> None:
    assert journey_path(services_catalog(world).journey("spring-sale")).path is RunPath.BATCH
