"""The journey tasks on in-memory services: send (gate, render, deliver with failover, hold,
at most once per execution/step/channel), branch, finish and fail, as the state machine calls
them with the one task payload (`baton.runner.models`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from aws_lambda_powertools import Metrics

from baton.clock import FixedClock, from_iso
from baton.consent.repository import InMemoryConsentRepository
from baton.consent.service import ConsentService
from baton.consent.vocabulary import Basis, Channel, Source
from baton.contacts.models import ContactInput, Sales
from baton.contacts.repository import InMemoryContactRepository
from baton.contacts.service import ContactService
from baton.data.once import InMemoryOnceTable
from baton.delivery.adapter import ChannelAdapter
from baton.delivery.exceptions import DeliveryError, ProviderRejected, ProviderThrottled, ProviderUnavailable
from baton.delivery.gate import GatePolicy
from baton.delivery.message import OutboundMessage
from baton.delivery.service import Dispatcher
from baton.journeys.approvals import Approvals
from baton.journeys.catalog import Catalog
from baton.journeys.models import Journey
from baton.journeys.templates import Template
from baton.runner.context import RunnerContext
from baton.runner.exceptions import RETRYABLE_ERRORS, InvalidStep, StepNotFound, SubjectErased
from baton.runner.models import StepRequest
from baton.runner.once import SendLedger, message_id
from baton.runner.send import PROVIDER_RECHECK
from baton.runner.service import JourneyRunner
from baton.settings import Settings
from baton.subscriptions.links import Links
from baton.suppression.models import SuppressionReason
from baton.suppression.repository import InMemorySuppressionRepository
from baton.suppression.service import SuppressionService
from baton.timeline.models import TimelineEvent
from baton.timeline.repository import InMemoryTimelineRepository
from baton.timeline.service import TimelineService
from baton.tokens.binding import reached
from baton.tokens.claims import Scope
from baton.tokens.signer import verify
from baton.triggers.models import Run, RunStatus
from baton.triggers.runs import InMemoryRunRepository
from baton.triggers.subjects import InMemorySubjectRepository, Subject
from tests.approvals import APPROVED_AT, APPROVER, approved

NOW = datetime(2026, 5, 4, 15, tzinfo=UTC)  # Monday 11:00 in New York
PHONE = "+12125550100"
EMAIL = "ana@example.com"
EXECUTION = "arn:aws:states:us-east-1:111122223333:execution:Baton-welcome:welcome-0123abcd"
METRICS_NAMESPACE = "BatonRunnerTest"
SIGNING_KEY = b"k" * 32
LINK_KEY = b"l" * 32

WELCOME = {
    "journey": "welcome",
    "owner": "growth@example.com",
    "purpose": "marketing",
    "topic": "news",
    "review_by": "2027-03-01",
    "trigger": {"event": "subscription.confirmed"},
    "steps": [
        {"id": "hello", "send": {"template": "hello", "channels": ["sms", "email"]}},
        {"id": "pause", "wait": {"duration": "3d"}},
        {
            "id": "tip",
            "send": {
                "template": "hello",
                "channels": ["email"],
                "window": {"start": "09:00", "end": "18:00"},
            },
        },
        {
            "id": "route",
            "branch": {
                "cases": [
                    {"when": {"channel_used": {"step": "hello", "is": "sms"}}, "next": "end"},
                    {"when": {"attribute": "plan", "equals": "gold"}, "next": "tip"},
                ],
                "default": "hello",
            },
        },
    ],
}
RECEIPT = {
    "journey": "receipt",
    "owner": "ops@example.com",
    "purpose": "transactional",
    "review_by": "2027-03-01",
    "trigger": {"event": "order.shipped"},
    "steps": [{"id": "shipped", "send": {"template": "shipped", "channels": ["sms"]}}],
}
HELLO = {
    "template": "hello",
    "owner": "growth@example.com",
    "purpose": "marketing",
    "approved_by": "legal@example.com",
    "locales": {
        "en": {
            "sms": {
                "text": "{{ brand }}: hi {{ contact.first_name }}! {{ preferences_url }}"
                " Reply STOP to opt out."
            },
            "email": {
                "subject": "Welcome, {{ contact.first_name }}",
                "text": "Hi. Unsubscribe: {{ unsubscribe_url }} {{ postal_address }}",
            },
        },
        "pt-BR": {"sms": {"text": "{{ brand }}: oi {{ contact.first_name }}! Responda SAIR para sair."}},
    },
}
SHIPPED = {
    "template": "shipped",
    "owner": "ops@example.com",
    "purpose": "transactional",
    "locales": {"en": {"sms": {"text": "Order {{ event.order_id }} has shipped."}}},
}


class Recorder(ChannelAdapter):
    """A provider that keeps what it was given; `errors` are raised first, one per send."""

    provider: ClassVar[str] = "fake"

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []
        self.errors: list[DeliveryError] = []

    def send(self, message: OutboundMessage) -> str:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(message)
        return f"{message.channel}-{len(self.sent)}"


class SmsRecorder(Recorder):
    channel: ClassVar[Channel] = Channel.SMS


class EmailRecorder(Recorder):
    channel: ClassVar[Channel] = Channel.EMAIL


@dataclass
class World:
    clock: FixedClock
    timeline: TimelineService
    consent: ConsentService
    suppression: SuppressionService
    contacts: ContactService
    sms: SmsRecorder
    email: EmailRecorder
    runs: InMemoryRunRepository
    metrics: Metrics
    runner: JourneyRunner
    templates: dict[str, Template]
    subjects: InMemorySubjectRepository
    approvals: list[Approvals]  # the catalog's, as legal last recorded them

    def approve(self, template_id: str) -> None:
        """Legal approves the template's content as it is now (`baton approve`)."""
        self.approvals[0] = self.approvals[0].approve(self.templates[template_id], APPROVER, APPROVED_AT)

    def events(self, kind: str, contact_id: str = "c-1") -> list[TimelineEvent]:
        return [event for event in reversed(self.timeline.all(contact_id)) if event.kind == kind]

    def counted(self, name: str) -> int:
        return len(self.metrics.metric_set.get(name, {}).get("Value", []))

    def grant(self, channel: Channel, address: str) -> None:
        self.consent.grant("c-1", channel, "news", source=Source.IMPORT, basis=Basis.EXPRESS, address=address)

    def run(self, action: str = "send", step: str | None = "hello", **extra: Any) -> dict[str, Any]:
        execution = extra.pop("execution", EXECUTION)
        if execution != EXECUTION:  # another execution of the contact (EXECUTION's is in `_world`)
            self.subjects.add(_subject(execution))
        payload: dict[str, Any] = {
            "action": action,
            "journey": extra.pop("journey", "welcome"),
            "step": step,
            "execution": execution,
            "steps": {},
            **extra,
        }
        return self.runner.handle(StepRequest.model_validate(payload))


def _subject(execution: str) -> Subject:
    """Whom the execution is about: the contact c-1, started by an event with an order id."""
    return Subject(
        execution_name=execution.rsplit(":", 1)[1],
        contact_id="c-1",
        journey="welcome",
        event_type="subscription.confirmed",
        data={"order_id": "A-1"},
    )


def _world(*, unconfigured: tuple[Channel, ...] = (), **contact: Any) -> World:
    clock = FixedClock(NOW)
    timeline = TimelineService(InMemoryTimelineRepository(), clock)
    consent = ConsentService(InMemoryConsentRepository(), timeline, clock)
    suppression = SuppressionService(InMemorySuppressionRepository(), lambda: b"salt" * 8, clock)
    contacts = ContactService(InMemoryContactRepository(), consent, timeline, suppression, clock)
    fields = {
        "email": EMAIL,
        "phone": PHONE,
        "first_name": "Ana",
        "timezone": "America/New_York",
        "country": "US",
        "locale": "en",
        **contact,
    }
    contacts.upsert("c-1", ContactInput.model_validate(fields))
    sms, email = SmsRecorder(), EmailRecorder()
    metrics = Metrics(namespace=METRICS_NAMESPACE)
    dispatcher = Dispatcher(
        {
            channel: adapter
            for channel, adapter in ((Channel.SMS, sms), (Channel.EMAIL, email))
            if channel not in unconfigured
        },
        suppression,
        consent,
        timeline,
        metrics=metrics,
        policy=GatePolicy(),
        clock=clock,
    )
    templates = {"hello": Template.model_validate(HELLO), "shipped": Template.model_validate(SHIPPED)}
    approvals = [approved(templates.values())]
    catalog = Catalog(
        root=Path("journeys"),
        journeys={"welcome": Journey.model_validate(WELCOME), "receipt": Journey.model_validate(RECEIPT)},
        templates=templates,
    )
    subjects = InMemorySubjectRepository()
    subjects.add(_subject(EXECUTION))
    runs = InMemoryRunRepository()
    runs.add(
        Run(
            contact_id="c-1",
            journey="welcome",
            execution_name="welcome-0123abcd",
            execution_arn=EXECUTION,
            started_at=NOW,
            event_type="subscription.confirmed",
            idempotency_key="k-1",
        )
    )
    settings = Settings(public_base_url="https://baton.example.com", postal_address="1 Main St, Springfield")
    context = RunnerContext(
        catalog=lambda: replace(catalog, approvals=approvals[0]),
        contacts=contacts,
        timeline=timeline,
        links=lambda: Links(settings, SIGNING_KEY, clock.now(), address_key=LINK_KEY),
        once=SendLedger(InMemoryOnceTable()),
        clock=clock,
        metrics=metrics,
        brand="Acme",
        postal_address=settings.postal_address,
        subjects=subjects,
        runs=runs,
    )
    runner = JourneyRunner(context, dispatcher)
    return World(
        clock,
        timeline,
        consent,
        suppression,
        contacts,
        sms,
        email,
        runs,
        metrics,
        runner,
        templates,
        subjects,
        approvals,
    )


@pytest.fixture(autouse=True)
def _fresh_metrics() -> Iterator[None]:
    Metrics(namespace=METRICS_NAMESPACE).clear_metrics()
    yield
    Metrics(namespace=METRICS_NAMESPACE).clear_metrics()


def _run_status(world: World) -> RunStatus:
    (run,) = world.runs.of_journey("c-1", "welcome")
    return run.status


# -- send: failover ------------------------------------------------------------------------------


def test_failover_sms_without_consent_sends_the_email_and_the_timeline_shows_both_attempts() -> None:
    world = _world()
    world.grant(Channel.EMAIL, EMAIL)

    result = world.run()

    assert result == {
        "outcome": "sent",
        "channel": "email",
        "until": None,
        "reason": None,
        "attempts": [
            {"channel": "sms", "outcome": "refused", "reason": "no_consent", "provider_message_id": None},
            {"channel": "email", "outcome": "sent", "reason": None, "provider_message_id": "email-1"},
        ],
    }
    (refused,) = world.events("message.refused")
    (sent,) = world.events("message.sent")
    labels = {"journey": "welcome", "step": "hello", "execution": EXECUTION}
    assert {**refused.detail, **labels} == refused.detail
    assert (refused.detail["channel"], refused.detail["reason"], refused.detail["rule"]) == (
        "sms",
        "no_consent",
        "R-TCPA-1",
    )
    assert {**sent.detail, **labels} == sent.detail
    assert sent.detail["provider_message_id"] == "email-1"


def test_failover_provider_rejection_tries_the_next_channel() -> None:
    world = _world()
    world.grant(Channel.SMS, PHONE)
    world.grant(Channel.EMAIL, EMAIL)
    world.sms.errors.append(ProviderRejected("fake", "InvalidDestination"))

    result = world.run()

    assert (result["outcome"], result["channel"]) == ("sent", "email")
    assert result["attempts"][0] == {
        "channel": "sms",
        "outcome": "failed",
        "reason": "InvalidDestination",
        "provider_message_id": None,
    }
    assert [event.detail["error_code"] for event in world.events("message.failed")] == ["InvalidDestination"]


def test_marketing_message_is_rendered_with_the_contact_brand_links_and_journey_tags() -> None:
    world = _world()
    world.grant(Channel.EMAIL, EMAIL)

    world.run()

    (email,) = world.email.sent
    assert email.subject == "Welcome, Ana"
    assert email.unsubscribe_url is not None
    assert email.unsubscribe_url.startswith("https://baton.example.com/v1/unsubscribe/")  # R-MBX-1
    assert email.unsubscribe_url in email.text
    assert "1 Main St, Springfield" in email.text
    assert dict(email.tags) == {
        "baton_message_id": message_id(
            {"execution": EXECUTION, "step": "hello", "pass": "1", "channel": "email"}
        ),
        "journey": "welcome",
        "step": "hello",
        "execution": EXECUTION,
    }
    assert (email.topic, email.locale) == ("news", "en")


def test_a_marketing_messages_preference_link_is_bound_to_the_channel_and_address_it_went_to() -> None:
    world = _world()
    world.grant(Channel.SMS, PHONE)

    world.run()

    (sms,) = world.sms.sent
    match = re.search(r"/v1/preferences/([A-Za-z0-9_.-]+)", sms.text)
    assert match is not None
    claims = verify(match.group(1), Scope.PREFERENCES, SIGNING_KEY, NOW)
    assert reached(claims, LINK_KEY, Channel.SMS, PHONE)
    assert not reached(claims, LINK_KEY, Channel.EMAIL, EMAIL)  # the page grants no email for it


def test_pt_br_contact_gets_the_pt_br_text_and_falls_back_to_en_for_a_missing_channel() -> None:
    world = _world(locale="pt-BR")
    world.grant(Channel.SMS, PHONE)

    world.run()

    (sms,) = world.sms.sent
    assert sms.text == "Acme: oi Ana! Responda SAIR para sair."
    assert sms.locale == "pt-BR"


# -- send: holds ---------------------------------------------------------------------------------


def test_r_tcpa_2_sms_in_quiet_hours_holds_the_whole_step_until_0800_local() -> None:
    world = _world()
    world.grant(Channel.SMS, PHONE)
    world.grant(Channel.EMAIL, EMAIL)  # email could go now: the step still waits for its SMS
    world.clock.set(datetime(2026, 5, 5, 1, 30, tzinfo=UTC))  # 21:30 in New York

    result = world.run()

    assert result["outcome"] == "held"
    assert result["until"] == "2026-05-05T12:00:00.000000Z"  # 08:00 EDT, the Wait state's format
    assert result["reason"] == "quiet_hours"
    assert [attempt["channel"] for attempt in result["attempts"]] == ["sms"]
    (held,) = world.events("message.held")
    assert (held.detail["until"], held.detail["rule"]) == ("2026-05-05T12:00:00.000000Z", "R-TCPA-2")
    assert not world.sms.sent
    assert not world.email.sent


def test_held_step_is_decided_again_when_the_window_opens_and_then_sends() -> None:
    world = _world()
    world.grant(Channel.SMS, PHONE)
    world.clock.set(datetime(2026, 5, 5, 1, 30, tzinfo=UTC))
    until = world.run()["until"]

    world.clock.set(from_iso(until))
    result = world.run()

    assert (result["outcome"], result["channel"]) == ("sent", "sms")
    assert len(world.sms.sent) == 1


def test_held_then_revoked_before_the_window_opens_is_not_sent() -> None:
    world = _world()
    world.grant(Channel.SMS, PHONE)
    world.clock.set(datetime(2026, 5, 5, 1, 30, tzinfo=UTC))
    until = world.run()["until"]
    world.consent.revoke("c-1", Channel.SMS, "news", source=Source.KEYWORD)

    world.clock.set(from_iso(until))
    result = world.run()

    assert (result["outcome"], result["reason"]) == ("skipped", "no_consent")
    assert not world.sms.sent


def test_step_window_holds_the_tip_email_until_0900_local() -> None:
    world = _world()
    world.grant(Channel.EMAIL, EMAIL)
    world.clock.set(datetime(2026, 5, 4, 23, tzinfo=UTC))  # 19:00 in New York

    result = world.run(step="tip")

    assert (result["outcome"], result["until"], result["reason"]) == (
        "held",
        "2026-05-05T13:00:00.000000Z",
        "outside_window",
    )


# -- send: retries and idempotency ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "error_type"),
    [
        (ProviderUnavailable("fake", "InternalError"), "Baton.ProviderUnavailable"),
        (ProviderThrottled("fake", "ThrottlingException"), "Baton.Throttled"),
    ],
)
def test_r_rel_4_unavailable_or_throttled_provider_raises_the_error_step_functions_retries(
    error: DeliveryError, error_type: str
) -> None:
    world = _world()
    world.grant(Channel.SMS, PHONE)
    world.grant(Channel.EMAIL, EMAIL)
    world.sms.errors.append(error)

    with pytest.raises(Exception) as raised:  # noqa: PT011 (the class name is what is checked)
        world.run()

    # Lambda reports the class's __name__ as errorType; the state machine retries on these names.
    assert type(raised.value).__name__ == error_type
    assert error_type in RETRYABLE_ERRORS
    assert not world.email.sent  # no failover while a retry may still succeed
    (failed,) = world.events("message.failed")
    assert failed.detail["retryable"] is True


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (ProviderUnavailable("fake", "InternalError"), "provider_unavailable"),
        (ProviderThrottled("fake", "ThrottlingException"), "provider_throttled"),
    ],
)
def test_r_rel_4_on_its_last_retry_a_send_the_provider_still_refuses_holds_and_asks_again_later(
    error: DeliveryError, reason: str
) -> None:
    world = _world()
    world.grant(Channel.SMS, PHONE)
    world.grant(Channel.EMAIL, EMAIL)
    world.sms.errors.append(error)
    now = world.clock.now()

    # the task's Retry is used up: Step Functions would catch the error and fail the journey
    result = world.run(retry_count=4, max_retries=4)

    # held for five minutes, on the timeline and counted; no failover, nothing sent
    assert (result["outcome"], result["reason"]) == ("held", reason)
    assert from_iso(result["until"]) == now + PROVIDER_RECHECK
    (held,) = world.events("message.held")
    assert (held.detail["reason"], held.detail["rule"], held.detail["channel"]) == (reason, "R-REL-4", "sms")
    assert not world.email.sent
    assert not world.sms.sent
    # the next time the step runs it sends, once
    assert world.run(retry_count=0, max_retries=4)["outcome"] == "sent"
    assert len(world.sms.sent) == 1


def test_r_rel_4_before_its_last_retry_a_throttled_send_raises_for_step_functions_to_retry() -> None:
    world = _world()
    world.grant(Channel.SMS, PHONE)
    world.sms.errors.append(ProviderThrottled("fake", "ThrottlingException"))

    with pytest.raises(Exception) as raised:  # noqa: PT011 (the class name is what is checked)
        world.run(retry_count=3, max_retries=4)

    assert type(raised.value).__name__ == "Baton.Throttled"
    assert world.events("message.held") == []


def test_r_rel_6_a_retried_task_after_a_send_never_sends_twice() -> None:
    world = _world()
    world.grant(Channel.SMS, PHONE)

    first = world.run()
    second = world.run()  # Step Functions ran the task again (a lost answer, a redrive)

    assert first == second
    assert len(world.sms.sent) == 1
    assert len(world.events("message.sent")) == 1


def test_r_rel_6_a_retry_after_an_unavailable_provider_sends_exactly_once() -> None:
    world = _world()
    world.grant(Channel.SMS, PHONE)
    world.sms.errors.append(ProviderUnavailable("fake", "ServiceUnavailable"))

    with pytest.raises(Exception):  # noqa: B017, PT011 (Baton.ProviderUnavailable, checked above)
        world.run()
    result = world.run()
    world.run()

    assert (result["outcome"], result["channel"]) == ("sent", "sms")
    assert len(world.sms.sent) == 1


def test_r_rel_6_a_step_that_sent_by_email_is_not_sent_again_by_sms_when_the_task_reruns() -> None:
    world = _world()
    world.grant(Channel.EMAIL, EMAIL)
    first = world.run()  # SMS refused (no consent), email sent
    world.grant(Channel.SMS, PHONE)  # the SMS would be allowed now

    second = world.run()

    assert second == first
    assert not world.sms.sent
    assert len(world.email.sent) == 1


def test_r_rel_6_another_execution_of_the_same_journey_sends_again() -> None:
    world = _world()
    world.grant(Channel.SMS, PHONE)

    world.run()
    world.run(execution=EXECUTION.replace("0123abcd", "4567ef01"))

    assert len(world.sms.sent) == 2


# -- send: skipped and failed end the journey ----------------------------------------------------


def test_sales_hold_skips_the_step_records_journey_ended_and_counts_it() -> None:
    world = _world(sales=Sales(owner="rep@example.com", deal_open=True).model_dump())
    world.grant(Channel.SMS, PHONE)
    world.grant(Channel.EMAIL, EMAIL)

    result = world.run()

    assert (result["outcome"], result["reason"]) == ("skipped", "sales_hold")
    (ended,) = world.events("journey.ended")
    assert (ended.detail["outcome"], ended.detail["reason"], ended.detail["step"]) == (
        "skipped",
        "sales_hold",
        "hello",
    )
    assert [attempt["reason"] for attempt in ended.detail["attempts"]] == ["sales_hold", "sales_hold"]  # type: ignore[index, union-attr]
    assert world.counted("JourneySkipped") == 1
    assert _run_status(world) == RunStatus.SUCCEEDED
    assert not world.sms.sent
    assert not world.email.sent


def test_a_sales_hold_is_the_reason_on_record_also_where_the_first_channel_is_not_configured() -> None:
    world = _world(
        unconfigured=(Channel.SMS,), sales=Sales(owner="rep@example.com", deal_open=True).model_dump()
    )
    world.grant(Channel.SMS, PHONE)
    world.grant(Channel.EMAIL, EMAIL)

    result = world.run()

    assert (result["outcome"], result["reason"]) == ("skipped", "sales_hold")
    (ended,) = world.events("journey.ended")
    assert ended.detail["reason"] == "sales_hold"
    assert [attempt["reason"] for attempt in ended.detail["attempts"]] == ["sales_hold", "sales_hold"]  # type: ignore[index, union-attr]


def test_a_channel_that_cannot_be_tried_gives_way_to_the_reason_the_gate_gave_on_the_next() -> None:
    world = _world(phone=None, sales=Sales(owner="rep@example.com", deal_open=True).model_dump())
    world.grant(Channel.EMAIL, EMAIL)

    result = world.run()

    assert [(a["channel"], a["reason"]) for a in result["attempts"]] == [
        ("sms", "no_address"),
        ("email", "sales_hold"),
    ]
    assert (result["outcome"], result["reason"]) == ("skipped", "sales_hold")
    assert world.events("journey.ended")[0].detail["reason"] == "sales_hold"


def test_every_allowed_channel_rejected_fails_the_step_and_the_run() -> None:
    world = _world()
    world.grant(Channel.SMS, PHONE)
    world.grant(Channel.EMAIL, EMAIL)
    world.sms.errors.append(ProviderRejected("fake", "OptedOut"))
    world.email.errors.append(ProviderRejected("fake", "MessageRejected"))

    result = world.run()

    assert (result["outcome"], result["reason"], result["channel"]) == ("failed", "OptedOut", None)
    assert world.events("journey.ended")[0].detail["outcome"] == "failed"
    assert world.counted("JourneyFailed") == 1
    assert _run_status(world) == RunStatus.FAILED


def test_suppressed_sms_and_missing_email_skip_with_the_preferred_channels_reason() -> None:
    world = _world(email=None)
    world.grant(Channel.SMS, PHONE)
    world.suppression.add(Channel.SMS, PHONE, SuppressionReason.OPT_OUT, "keyword")

    result = world.run()

    assert [(a["channel"], a["reason"]) for a in result["attempts"]] == [
        ("sms", "suppressed"),
        ("email", "no_address"),
    ]
    assert (result["outcome"], result["reason"]) == ("skipped", "suppressed")


def test_frequency_cap_counts_the_contacts_earlier_marketing_sends_on_the_timeline() -> None:
    world = _world()
    world.grant(Channel.SMS, PHONE)
    for days_ago in (1, 2, 6):
        world.timeline.record(
            "c-1",
            "message.sent",
            {"channel": "email", "purpose": "marketing", "topic": "news"},
            at=NOW - timedelta(days=days_ago),
        )
    world.timeline.record("c-1", "message.sent", {"channel": "sms", "purpose": "transactional"})

    result = world.run()

    assert (result["outcome"], result["reason"]) == ("skipped", "frequency_cap")


def test_transactional_journey_ignores_consent_and_quiet_hours_but_not_opt_out() -> None:
    world = _world()
    world.clock.set(datetime(2026, 5, 5, 3, tzinfo=UTC))  # 23:00 in New York, no consent at all

    result = world.run(journey="receipt", step="shipped")

    assert (result["outcome"], result["channel"]) == ("sent", "sms")
    assert world.sms.sent[0].text == "Order A-1 has shipped."
    assert world.sms.sent[0].unsubscribe_url is None

    world.suppression.add(Channel.SMS, PHONE, SuppressionReason.OPT_OUT, "keyword")
    again = world.run(journey="receipt", step="shipped", execution=EXECUTION + "-2")
    assert (again["outcome"], again["reason"]) == ("skipped", "suppressed")


def test_a_template_that_cannot_render_is_a_failed_attempt_and_the_next_channel_is_tried() -> None:
    world = _world()
    world.grant(Channel.SMS, PHONE)
    world.grant(Channel.EMAIL, EMAIL)
    broken = {**HELLO, "locales": {"en": {**HELLO["locales"]["en"], "sms": {"text": "{{ event.nope }}"}}}}  # type: ignore[dict-item]
    world.templates["hello"] = Template.model_validate(broken)
    world.approve("hello")  # approved as it is: what fails is its rendering

    result = world.run()

    assert result["attempts"][0] == {
        "channel": "sms",
        "outcome": "failed",
        "reason": "render_error",
        "provider_message_id": None,
    }
    assert (result["outcome"], result["channel"]) == ("sent", "email")
    assert world.events("message.failed")[0].detail["error_code"] == "render_error"


def test_a_contact_erased_during_the_journey_is_skipped_and_nothing_is_recorded() -> None:
    world = _world()
    world.contacts.erase("c-1")

    result = world.run()

    assert (result["outcome"], result["reason"]) == ("skipped", "no_contact")
    assert not world.timeline.all("c-1")


def test_a_contact_id_in_the_payload_is_ignored_the_subject_says_whom_the_execution_is_about() -> None:
    world = _world()
    world.contacts.upsert("c-2", ContactInput(phone="+14155550199", first_name="Bo"))
    forged = {"contact_id": "c-2", "event": {"type": "x", "data": {"order_id": "forged"}}}

    world.run(journey="receipt", step="shipped", **forged)

    (message,) = world.sms.sent
    assert message.to == PHONE
    assert "A-1" in message.text
    assert "forged" not in message.text
    assert world.events("message.sent", "c-2") == []


def test_an_execution_whose_subject_erasure_removed_sends_nothing_records_nothing_and_ends() -> None:
    world = _world()
    world.grant(Channel.SMS, PHONE)
    world.subjects.delete_all("c-1")

    send = world.run()
    branch = world.run("branch", step="route")
    finish = world.run("finish", step=None)

    assert (send["outcome"], send["reason"]) == ("skipped", "no_contact")
    assert branch["next"] == "end"
    assert finish["outcome"] == "completed"
    assert world.sms.sent == []
    assert [e.kind for e in world.timeline.all("c-1") if e.kind.startswith(("message.", "journey."))] == []
    with pytest.raises(SubjectErased):
        world.run("await_event", step="hello", token="t")


def test_a_step_the_catalog_does_not_have_is_not_retried() -> None:
    world = _world()

    with pytest.raises(StepNotFound):
        world.run(step="gone")
    with pytest.raises(InvalidStep):
        world.run(step="pause")
    with pytest.raises(StepNotFound):
        world.run(journey="nope")


# -- branch, finish, fail ------------------------------------------------------------------------


def test_branch_takes_the_first_case_that_matches_and_records_it() -> None:
    world = _world()

    result = world.run(action="branch", step="route", steps={"hello": {"outcome": "sent", "channel": "sms"}})

    assert result == {"next": "end", "case": 0}
    (step,) = world.events("journey.step")
    assert (step.detail["step"], step.detail["next"], step.detail["case"]) == ("route", "end", 0)


def test_branch_reads_the_contacts_attributes_at_the_moment_of_the_branch() -> None:
    world = _world(attributes={"plan": "gold"})
    steps = {"hello": {"outcome": "sent", "channel": "email"}}

    assert world.run(action="branch", step="route", steps=steps) == {"next": "tip", "case": 1}
    world.contacts.upsert("c-1", ContactInput(attributes={"plan": "basic"}))
    assert world.run(action="branch", step="route", steps=steps) == {"next": "hello", "case": None}


def test_finish_records_journey_completed_and_closes_the_run() -> None:
    world = _world()

    assert world.run(action="finish", step=None) == {"outcome": "completed"}

    (completed,) = world.events("journey.completed")
    assert completed.detail == {"journey": "welcome", "execution": EXECUTION}
    assert _run_status(world) == RunStatus.SUCCEEDED
    assert world.counted("JourneyCompleted") == 1


def test_the_last_steps_send_completes_the_journey_when_it_sends() -> None:
    world = _world()
    world.grant(Channel.SMS, PHONE)

    assert world.run(ends=True)["outcome"] == "sent"

    (completed,) = world.events("journey.completed")
    # At the step that completed it: the figures count the send and the completion together.
    assert completed.detail == {"journey": "welcome", "execution": EXECUTION, "step": "hello"}
    assert _run_status(world) == RunStatus.SUCCEEDED
    assert world.counted("JourneyCompleted") == 1


def test_a_send_that_does_not_end_the_journey_or_does_not_send_completes_nothing() -> None:
    world = _world()
    world.grant(Channel.SMS, PHONE)
    world.clock.set(datetime(2026, 5, 5, 3, tzinfo=UTC))  # 23:00 in New York: quiet hours

    held = world.run(ends=True)
    world.clock.set(datetime(2026, 5, 5, 15, tzinfo=UTC))
    sent = world.run()  # not the last step

    assert (held["outcome"], sent["outcome"]) == ("held", "sent")
    assert world.events("journey.completed") == []
    assert _run_status(world) == RunStatus.RUNNING


def test_fail_records_the_error_and_the_cause_without_the_stack_trace() -> None:
    world = _world()
    cause = '{"errorType": "ValidationError", "errorMessage": "bad payload", "stackTrace": ["  File ..."]}'

    result = world.run(action="fail", step="hello", error={"Error": "ValidationError", "Cause": cause})

    assert result == {"outcome": "failed"}
    (failed,) = world.events("journey.failed")
    assert (failed.detail["error"], failed.detail["cause"], failed.detail["step"]) == (
        "ValidationError",
        "ValidationError: bad payload",
        "hello",
    )
    assert _run_status(world) == RunStatus.FAILED


def test_a_run_stopped_by_exit_on_keeps_its_status_when_the_journey_ends() -> None:
    world = _world()
    (run,) = world.runs.of_journey("c-1", "welcome")
    world.runs.replace(run.model_copy(update={"status": RunStatus.ABORTED}))

    world.run(action="finish", step=None)

    assert _run_status(world) == RunStatus.ABORTED


# -- the payload contract ------------------------------------------------------------------------


def test_the_state_machines_payload_parses_and_unknown_keys_are_ignored() -> None:
    payload = {
        "action": "send",
        "journey": "welcome",
        "step": "hello",
        "execution": EXECUTION,
        "steps": {"hello": {"outcome": "held", "until": "2026-05-05T12:00:00.000000Z"}},
        "retry_count": 2,
    }

    request = StepRequest.model_validate(payload)

    assert (request.execution_name, request.steps["hello"]["outcome"]) == ("welcome-0123abcd", "held")
    assert request.about(_subject(EXECUTION)).event.data == {"order_id": "A-1"}
