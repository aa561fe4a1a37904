"""The inventory of every automated message: statuses from figures and dates, built-in sends
counted under their own id, the formats the CLI prints, and each sample journey's Mermaid
flowchart."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

import pytest

from baton.clock import FixedClock
from baton.figures.projection import FigureKey, counter_name, project
from baton.figures.repository import Counts
from baton.inventory.diagram import flowchart, node_id
from baton.inventory.exceptions import TemplateNotFound
from baton.inventory.models import BuiltInOwnership, InventoryConfig, Status, Volume
from baton.inventory.service import InventoryService
from baton.inventory.statuses import Facts, statuses
from baton.journeys.approvals import Approvals
from baton.journeys.catalog import Catalog, load_catalog
from baton.journeys.review import ReviewPolicy
from baton.messages import builtins
from baton.messages.builtins import MESSAGES, BuiltIn
from baton.timeline.models import TimelineEvent
from infra import inventory as cli_inventory
from tests.figures_fakes import InMemoryFiguresRepository

ROOT = Path(__file__).resolve().parents[2]
CATALOG = load_catalog(ROOT / "journeys", locales=("en", "pt-BR"))
TODAY = date(2026, 6, 15)


def _facts(**overrides: object) -> Facts:
    values: dict[str, object] = {
        "today": TODAY,
        "review_by": TODAY + timedelta(days=30),
        "last_sent": TODAY - timedelta(days=1),
        "last_7_days": Volume(sent=100, delivered=99, failed=1),
        "owner_unreachable": False,
        "owner_known": True,
        "failing_rate": 0.05,
    }
    return Facts(**(values | overrides))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, [Status.ACTIVE]),
        ({"review_by": TODAY - timedelta(days=1)}, [Status.ACTIVE, Status.OVERDUE]),
        ({"review_by": TODAY}, [Status.ACTIVE]),
        ({"review_by": None}, [Status.ACTIVE, Status.OVERDUE]),
        ({"last_sent": None, "last_7_days": Volume()}, [Status.NEVER_SENT]),
        ({"last_sent": TODAY - timedelta(days=90)}, [Status.ACTIVE]),
        ({"last_sent": TODAY - timedelta(days=91), "last_7_days": Volume()}, [Status.SILENT]),
        ({"last_7_days": Volume(sent=94, failed=6)}, [Status.ACTIVE, Status.FAILING]),
        ({"last_7_days": Volume(sent=95, failed=5)}, [Status.ACTIVE]),
        ({"last_7_days": Volume(failed=3)}, [Status.ACTIVE, Status.FAILING]),
        ({"owner_unreachable": True}, [Status.ACTIVE, Status.ORPHANED]),
        ({"owner_known": False}, [Status.ACTIVE, Status.ORPHANED]),
    ],
)
def test_statuses_follow_the_review_date_the_figures_and_the_owner(
    overrides: dict[str, object], expected: list[Status]
) -> None:
    assert statuses(_facts(**overrides)) == expected


def test_a_built_in_send_counts_under_its_own_id_and_not_a_journeys() -> None:
    # given a HELP reply on a contact's timeline, labelled as the dispatcher labels it
    event = TimelineEvent(
        contact_id="c1",
        event_id="e1",
        kind="message.sent",
        at=datetime(2026, 6, 1, 12, tzinfo=UTC),
        detail={"channel": "sms", "purpose": "help_reply", **builtins.labels(BuiltIn.SMS_HELP)},
    )

    # then it adds one send to the built-in's partition
    [increment] = project(event)
    assert increment.key == FigureKey("builtin#sms-help", "2026-06-01#-")
    assert increment.counter == counter_name("sent", "sms")


def _service(
    repository: InMemoryFiguresRepository,
    *,
    config: InventoryConfig | None = None,
    unreachable: frozenset[str] = frozenset(),
) -> InventoryService:
    return InventoryService(
        CATALOG,
        repository,
        FixedClock(datetime(2026, 6, 15, 9, tzinfo=UTC)),
        config or InventoryConfig(),
        fallback_owner="ops@example.com",
        owner_unreachable=lambda owner: owner in unreachable,
    )


def _count(repository: InMemoryFiguresRepository, key: FigureKey, **counters: int) -> None:
    repository.add(key, Counts({counter_name(m, "sms"): n for m, n in counters.items()}))


def test_every_send_step_and_every_built_in_message_is_an_entry() -> None:
    entries = _service(InMemoryFiguresRepository()).entries().items
    ids = [entry.id for entry in entries]

    sends = [
        f"journey/{journey.journey}/{step.id}"
        for _, journey in sorted(CATALOG.journeys.items())
        for step in journey.steps
        if step.send is not None
    ]
    assert ids == [*sends, *(message.id.value for message in MESSAGES)]
    assert "journey/support-follow-up/feedback" in ids
    assert "builtin/review-digest" in ids


def test_an_entry_reads_its_volume_and_last_sent_day_from_the_figures() -> None:
    # given a week-old HELP reply, one yesterday that failed, and one 40 days ago
    repository = InMemoryFiguresRepository()
    _count(repository, FigureKey.builtin("sms-help", TODAY - timedelta(days=40)), sent=5)
    _count(repository, FigureKey.builtin("sms-help", TODAY - timedelta(days=6)), sent=3, delivered=2)
    _count(repository, FigureKey.builtin("sms-help", TODAY - timedelta(days=1)), failed=1)
    config = InventoryConfig(
        built_in={BuiltIn.SMS_HELP: BuiltInOwnership(owner="sms@example.com", review_by=date(2027, 1, 1))}
    )

    entry = next(e for e in _service(repository, config=config).entries().items if e.id == "builtin/sms-help")

    assert entry.owner == "sms@example.com"
    assert entry.review_by == date(2027, 1, 1)
    assert entry.last_sent == TODAY - timedelta(days=6)  # the newest day with a send, not a failure
    assert entry.last_7_days == Volume(sent=3, delivered=2, failed=1)
    assert entry.last_30_days == Volume(sent=3, delivered=2, failed=1)
    assert entry.statuses == [Status.ACTIVE, Status.FAILING]  # 1 of 4 failed: over 5%
    assert entry.locales == ["en", "pt-BR"]


def test_a_built_in_without_its_own_owner_falls_back_and_is_overdue_without_a_review_date() -> None:
    entry = next(
        e for e in _service(InMemoryFiguresRepository()).entries().items if e.id == "builtin/handoff-notice"
    )
    assert entry.owner == "ops@example.com"
    assert entry.statuses == [Status.NEVER_SENT, Status.OVERDUE]


def test_stale_lists_what_to_review_and_leaves_out_what_is_active() -> None:
    # given order-shipped's sms step sent yesterday and everything else never sent
    repository = InMemoryFiguresRepository()
    _count(repository, FigureKey.journey("order-shipped", TODAY - timedelta(days=1), "notify"), sent=10)
    service = _service(repository, config=InventoryConfig(known_owners=["ops@example.com"]))

    everything = {entry.id: entry for entry in service.entries().items}
    stale = [entry.id for entry in service.entries(stale=True).items]

    # then the step sent yesterday by a known owner, before its review date, is not listed
    shipped = everything["journey/order-shipped/notify"]
    assert shipped.owner == "ops@example.com"
    assert shipped.statuses == [Status.ACTIVE]
    assert stale == [entry_id for entry_id in everything if entry_id != shipped.id]
    # and a step whose owner is not a known owner is orphaned
    welcome = everything["journey/welcome/hello"]
    assert Status.ORPHANED in welcome.statuses


def test_an_owner_whose_mail_bounces_orphans_every_entry_they_own() -> None:
    owner = CATALOG.journeys["welcome"].owner
    entries = _service(InMemoryFiguresRepository(), unreachable=frozenset({owner})).entries().items
    assert all(Status.ORPHANED in e.statuses for e in entries if e.owner == owner)
    assert not any(Status.ORPHANED in e.statuses for e in entries if e.owner != owner)


def test_a_template_says_who_owns_it_who_approved_it_and_which_steps_use_it() -> None:
    service = _service(InMemoryFiguresRepository())
    template = service.template("lead-case-study")

    # a marketing template: legal's approval bound to each locale's and channel's words
    assert template.approval.source == "approvals"
    assert template.approval.status == "approved"
    recorded = CATALOG.approvals.get("lead-case-study", "en", "email")
    assert recorded is not None
    assert template.approval.approved_by == recorded.by
    assert {(c.locale, c.channel, c.content) for c in template.approval.contents} >= {
        ("en", "email", recorded.content)
    }
    assert {(use.journey, use.step) for use in template.used_by} == {
        ("lead-nurture", "story"),
        ("lead-nurture", "case-study"),
    }
    assert template.locales == ["en", "pt-BR"]
    assert "email" in template.channels
    assert [t.id for t in service.templates().items] == sorted(CATALOG.templates)
    with pytest.raises(TemplateNotFound):
        service.template("no-such-template")


# Diagrams ---------------------------------------------------------------------------------

_NODE = re.compile(r"^  (\w+)(\(\(|\[/|\(\[|\{\{|\[|\{)\"[^\"]*\"(\)\)|/\]|\]\)|\}\}|\]|\})$")
_EDGE = re.compile(r"^  (\w+) (-->|-\.->)(\|\"[^\"]*\"\|)? (\w+)$")


@pytest.mark.parametrize("journey_id", sorted(CATALOG.journeys))
def test_every_sample_journey_is_a_well_formed_mermaid_flowchart(journey_id: str) -> None:
    journey = CATALOG.journeys[journey_id]
    lines = flowchart(journey).splitlines()

    assert lines[0] == "flowchart TD"
    nodes = [match.group(1) for line in lines[1:] if (match := _NODE.match(line))]
    edges = [match.groups() for line in lines[1:] if (match := _EDGE.match(line))]
    # every line is a node or an edge; ids are unique; edges join declared nodes only
    assert len(nodes) + len(edges) == len(lines) - 1
    assert len(set(nodes)) == len(nodes)
    assert {node_id(step.id) for step in journey.steps} | {"start", "finish"} == set(nodes)
    assert all(source in nodes and target in nodes for source, _, _, target in edges)
    # every step is left by an edge, and something reaches the end
    assert {source for source, _, _, _ in edges} == set(nodes) - {"finish"}
    assert any(target == "finish" for *_, target in edges)


def test_a_diagram_shows_branch_conditions_split_weights_and_handoff_sla() -> None:
    support = flowchart(CATALOG.journeys["support-follow-up"])
    assert '-->|"plan equals enterprise"| s_call_back' in support
    assert "queue support-agents, SLA 24h" in support
    assert '-.->|"timed out: escalate to support-leads"|' in support
    assert "via sms → email" in support
    lead = flowchart(CATALOG.journeys["lead-nurture"])
    assert re.search(r'\|"\w+: 50/100"\|', lead)


# Formats ----------------------------------------------------------------------------------


def _entries() -> list[dict[str, object]]:
    repository = InMemoryFiguresRepository()
    _count(repository, FigureKey.journey("welcome", TODAY, "hello"), sent=2)
    return [entry.model_dump(mode="json") for entry in _service(repository).entries().items]


def test_csv_has_a_row_per_entry_with_the_same_cells_as_the_table() -> None:
    entries = _entries()
    rows = list(csv.DictReader(io.StringIO(cli_inventory.as_csv(entries))))

    assert [r["id"] for r in rows] == [e["id"] for e in entries]
    hello = next(r for r in rows if r["id"] == "journey/welcome/hello")
    assert hello["sent_7d"] == "2"
    assert hello["last_sent"] == TODAY.isoformat()
    assert cli_inventory.as_table(entries).splitlines()[-1].startswith(f"{len(entries)} automated messages")


def test_markdown_embeds_one_mermaid_diagram_per_journey() -> None:
    text = cli_inventory.as_markdown(_entries(), CATALOG)
    assert text.count("```mermaid") == len(set(CATALOG.journeys))
    assert "| journey/welcome/hello |" in text


def _service_on(catalog: Catalog, today: date) -> InventoryService:
    return InventoryService(
        catalog,
        InMemoryFiguresRepository(),
        FixedClock(datetime.combine(today, datetime.min.time(), tzinfo=UTC)),
        InventoryConfig(),
        fallback_owner="ops@example.com",
        owner_unreachable=lambda owner: False,
        review=ReviewPolicy(grace_days=14),
    )


def test_a_marketing_template_whose_words_lost_their_approval_is_unapproved_and_stale() -> None:
    # given the sample catalog with no approval on record for the welcome tip's words
    entries_before = {e.id: e for e in _service_on(CATALOG, TODAY).entries().items}
    others = {name: by for name, by in CATALOG.approvals.entries.items() if name != "welcome-tip"}
    catalog = replace(CATALOG, approvals=Approvals(MappingProxyType(others)))

    entries = {e.id: e for e in _service_on(catalog, TODAY).entries(stale=True).items}

    # then the step sending it says so, and lists what each locale and channel lacks
    tip = entries["journey/welcome/tip"]
    assert Status.UNAPPROVED in tip.statuses
    assert tip.approval.status == "unapproved"
    assert {c.status for c in tip.approval.contents} == {"unapproved"}
    assert Status.UNAPPROVED not in entries_before["journey/welcome/tip"].statuses
    # a transactional template needs no approval by default
    notify = _service_on(catalog, TODAY).template("order-shipped").approval
    assert notify.status == "not_required"


def test_an_overdue_marketing_journey_is_closed_after_its_grace_and_a_transactional_one_never() -> None:
    welcome = CATALOG.journeys["welcome"]
    order = CATALOG.journeys["order-shipped"]
    last_open = welcome.review_by + timedelta(days=14)

    def statuses_on(day: date, journey: str) -> set[Status]:
        entries = _service_on(CATALOG, day).entries().items
        return {s for e in entries if e.journey == journey for s in e.statuses}

    assert Status.CLOSED not in statuses_on(last_open, "welcome")
    assert Status.OVERDUE in statuses_on(last_open, "welcome")
    assert Status.CLOSED in statuses_on(last_open + timedelta(days=1), "welcome")
    far = max(order.review_by, welcome.review_by) + timedelta(days=400)
    assert Status.OVERDUE in statuses_on(far, "order-shipped")
    assert Status.CLOSED not in statuses_on(far, "order-shipped")
