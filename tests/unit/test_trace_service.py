"""Building a trace: a sent message by either id back to its journey, step, template, content
version, trigger, owners and approval; a text back to the sample templates that could print it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from baton.clock import FixedClock
from baton.consent.vocabulary import Channel
from baton.inventory.models import BuiltInOwnership, InventoryConfig
from baton.journeys.approvals import content_hash
from baton.journeys.catalog import load_catalog
from baton.journeys.render import TemplateVariables, render_message
from baton.messages import builtins, texts
from baton.messages.builtins import BuiltIn
from baton.timeline.repository import InMemoryTimelineRepository
from baton.timeline.service import TimelineService
from baton.tracing.exceptions import MessageNotFound
from baton.tracing.service import TraceService
from baton.triggers.models import Run, RunStatus
from baton.triggers.runs import InMemoryRunRepository
from baton.triggers.service import JOURNEY_STARTED

JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"
CATALOG = load_catalog(JOURNEYS, locales=("en", "pt-BR"))
START = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
OWNERS = InventoryConfig(built_in={BuiltIn.SMS_HELP: BuiltInOwnership(owner="sms@example.com")})


class World:
    def __init__(self) -> None:
        self.clock = FixedClock(START)
        self.timeline = TimelineService(InMemoryTimelineRepository(), self.clock)
        self.runs = InMemoryRunRepository()
        self.tracer = TraceService(
            CATALOG,
            self.timeline,
            self.runs,
            builtin_owner=lambda message: OWNERS.owner_of(message, "ops@example.com"),
        )

    def started(self, contact_id: str, journey: str, execution: str, event: str, key: str) -> None:
        self.timeline.record(
            contact_id,
            JOURNEY_STARTED,
            {"journey": journey, "execution": execution, "event": event, "idempotency_key": key},
        )
        self.clock.set(self.clock.now() + timedelta(seconds=1))

    def sent(self, contact_id: str, **labels: str) -> None:
        detail = {
            "journey": "welcome",
            "step": "hello",
            "execution": "welcome-exec1",
            "template": "welcome-hello",
            "content": content_hash(CATALOG.templates["welcome-hello"], "en", "sms"),
            "channel": "sms",
            "purpose": "marketing",
            "topic": "news",
            "message_id": "msg-1",
            "provider": "sns",
            "provider_message_id": "prov-1",
            **labels,
        }
        self.timeline.record(contact_id, "message.sent", detail)
        self.clock.set(self.clock.now() + timedelta(seconds=1))


def test_a_message_found_by_baton_id_names_journey_step_template_owners_approval_and_trigger() -> None:
    world = World()
    world.started("c-1", "welcome", "welcome-exec1", "subscription.confirmed", "confirm-77")
    world.timeline.record("c-1", "journey.step", {"journey": "welcome", "step": "hello"})
    world.sent("c-1")

    trace = world.tracer.message("msg-1")

    assert (trace.contact_id, trace.journey, trace.step, trace.template) == (
        "c-1",
        "welcome",
        "hello",
        "welcome-hello",
    )
    assert (trace.provider, trace.provider_message_id, trace.channel) == ("sns", "prov-1", "sms")
    assert trace.content_current is True
    assert trace.owners.journey == "growth@example.com"
    assert trace.owners.template == "growth@example.com"
    # the approval on record of the very words sent: who and when
    recorded = CATALOG.approvals.get("welcome-hello", "en", "sms")
    assert recorded is not None
    assert (trace.approval.status, trace.approval.approved_by) == ("approved", recorded.by)
    assert trace.approval.approved_at == recorded.at
    assert trace.content_version == recorded.content
    assert trace.trigger is not None
    assert (trace.trigger.event_type, trace.trigger.event_id) == ("subscription.confirmed", "confirm-77")
    assert trace.trigger.started_at == START


def test_the_provider_message_id_finds_the_same_message() -> None:
    world = World()
    world.started("c-1", "welcome", "welcome-exec1", "subscription.confirmed", "confirm-77")
    world.sent("c-1")
    assert world.tracer.message("prov-1") == world.tracer.message("msg-1")


def test_a_continued_run_is_traced_to_the_event_that_started_its_first_execution() -> None:
    world = World()
    for name, continues in (("welcome-exec0", None), ("welcome-exec1", "welcome-exec0")):
        world.runs.add(
            Run(
                contact_id="c-1",
                journey="welcome",
                execution_name=name,
                execution_arn=f"arn:aws:states:us-east-1:1:execution:m:{name}",
                status=RunStatus.RUNNING,
                started_at=START,
                event_type="subscription.confirmed",
                idempotency_key="confirm-1" if continues is None else "continued",
                continues=continues,
            )
        )
    world.sent("c-1", execution="arn:aws:states:us-east-1:1:execution:Baton-welcome:welcome-exec1")
    trace = world.tracer.message("msg-1")
    assert trace.trigger is not None
    assert (trace.trigger.execution, trace.trigger.event_id) == ("welcome-exec0", "confirm-1")


def test_words_changed_since_the_send_are_not_current_and_name_no_approval() -> None:
    world = World()
    world.sent("c-1", content="sha256:" + "0" * 64)
    trace = world.tracer.message("msg-1")
    assert trace.content_version == "sha256:" + "0" * 64
    assert trace.content_current is False
    assert (trace.approval.status, trace.approval.approved_by) == ("unapproved", None)
    assert trace.trigger is None  # no start recorded for this contact


def test_an_unknown_id_is_not_found() -> None:
    with pytest.raises(MessageNotFound):
        World().tracer.message("never-sent")


def test_a_message_sent_twice_under_one_id_lists_both_deliveries_newest_first() -> None:
    world = World()
    world.sent("c-1", provider_message_id="prov-a")
    world.sent("c-1", provider_message_id="prov-b")
    trace = world.tracer.message("msg-1")
    assert [d.provider_message_id for d in trace.deliveries] == ["prov-b", "prov-a"]
    assert trace.provider_message_id == "prov-b"


def _rendered(template: str, channel: Channel, locale: str) -> str:
    variables = TemplateVariables(
        contact={"first_name": "Zélia", "attributes": {}},
        event={"order_id": "B-99812", "tracking_url": "https://t.example/q?id=42"},
        brand="Acme",
        postal_address="1 Main St",
        unsubscribe_url="https://u.example/x",
        preferences_url="https://p.example/y",
    )
    message = render_message(CATALOG.templates[template], channel, locale, variables)
    return message.text or ""


@pytest.mark.parametrize(
    ("template", "channel", "locale"),
    [
        ("order-shipped", Channel.SMS, "en"),
        ("order-shipped", Channel.SMS, "pt-BR"),
        ("welcome-hello", Channel.SMS, "en"),
        ("order-shipped", Channel.EMAIL, "en"),
    ],
)
def test_a_pasted_sample_message_ranks_its_own_template_and_locale_first(
    template: str, channel: Channel, locale: str
) -> None:
    text = _rendered(template, channel, locale)
    best = World().tracer.text(text).matches[0]
    assert (best.template, best.locale, best.channel) == (template, locale, str(channel))


def test_a_text_match_says_who_owns_and_approved_the_template_and_where_it_is_used() -> None:
    fragment = _rendered("welcome-hello", Channel.SMS, "en")[25:90]
    best = World().tracer.text(fragment).matches[0]
    assert best.template == "welcome-hello"
    assert best.owner == "growth@example.com"
    assert (best.approval.status, best.approval.approved_by) == ("approved", "legal@example.com")
    assert [(use.journey, use.step) for use in best.used_by] == [("welcome", "hello")]
    assert best.content_version == content_hash(CATALOG.templates["welcome-hello"], "en", "sms")


def test_a_text_no_template_prints_matches_nothing() -> None:
    assert World().tracer.text("Your appointment with Dr Smith is at 10:30 tomorrow").matches == []


def test_a_journey_send_names_its_inventory_entry_and_the_journeys_owner() -> None:
    world = World()
    world.sent("c-1")
    trace = world.tracer.message("msg-1")
    assert (trace.inventory_id, trace.owner) == ("journey/welcome/hello", "growth@example.com")


def test_a_built_in_reply_on_a_timeline_is_traced_to_its_built_in_entry_and_its_owner() -> None:
    world = World()
    world.timeline.record(
        "c-1",
        "message.sent",
        {
            "channel": "sms",
            "purpose": "help_reply",
            "message_id": "msg-help",
            "provider_message_id": "prov-help",
            **builtins.labels(BuiltIn.SMS_HELP),
        },
    )
    trace = world.tracer.message("prov-help")
    assert (trace.inventory_id, trace.owner, trace.journey) == ("builtin/sms-help", "sms@example.com", None)


@pytest.mark.parametrize("locale", ["en", "pt-BR"])
def test_the_text_of_a_help_reply_is_traced_to_the_built_in_message_and_its_owner(locale: str) -> None:
    reply = texts.sms_help(
        locale=locale, brand="Acme", support_url="https://acme.example/help", frequency="Up to 4 msgs/week"
    ).text
    best = World().tracer.text(reply).matches[0]
    assert best.inventory_ids == ["builtin/sms-help"]
    assert (best.template, best.locale, best.owner) == ("sms_help.txt", locale, "sms@example.com")
    assert best.approval.status == "not_required"


def test_a_handoff_notice_subject_is_traced_to_the_built_in_owned_by_the_fallback_owner() -> None:
    subject, _ = texts.handoff_notice(
        queue="support",
        journey="support-follow-up",
        step="agent-reply",
        text="Reply",
        task_id="t-1",
        due_at="-",
    )
    best = World().tracer.text(subject).matches[0]
    assert best.inventory_ids == ["builtin/handoff-notice"]
    assert best.owner == "ops@example.com"


def test_a_review_digest_subject_is_traced_to_the_built_in_digest() -> None:
    subject = texts.review_digest_subject(week="2027-W10", count=3)
    best = World().tracer.text(subject).matches[0]
    assert best.inventory_ids == ["builtin/review-digest"]
    assert best.part == "subject"
