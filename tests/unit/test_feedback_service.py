"""Delivery feedback: what bounces, complaints and receipts change, the journeys
waiting for receipts (`send_channel`, `await_receipt`), and a receipt that arrives twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from aws_lambda_powertools import Metrics

from baton.clock import FixedClock
from baton.consent.repository import InMemoryConsentRepository
from baton.consent.service import ConsentService
from baton.consent.vocabulary import Basis, Channel, ConsentStatus, Source
from baton.contacts.models import ContactInput
from baton.contacts.repository import InMemoryContactRepository
from baton.contacts.service import ContactService
from baton.data.once import InMemoryOnceTable
from baton.delivery.adapter import ChannelAdapter
from baton.delivery.gate import GatePolicy
from baton.delivery.message import OutboundMessage
from baton.delivery.service import Dispatcher
from baton.feedback.events import parse_eventbridge
from baton.feedback.models import Receipt, ReceiptStatus
from baton.feedback.repository import InMemoryReceiptRepository
from baton.feedback.service import DELIVERY_EVENT, DELIVERY_TIMED_OUT, FeedbackService
from baton.figures.recorder import FiguresRecorder
from baton.journeys.catalog import Catalog
from baton.journeys.models import Journey
from baton.journeys.templates import Template
from baton.runner.context import RunnerContext
from baton.runner.models import StepRequest
from baton.runner.once import SendLedger
from baton.runner.service import JourneyRunner
from baton.settings import Settings
from baton.subscriptions.links import Links
from baton.suppression.models import SuppressionReason
from baton.suppression.repository import InMemorySuppressionRepository
from baton.suppression.service import SuppressionService
from baton.timeline.repository import InMemoryTimelineRepository
from baton.timeline.service import TimelineService
from baton.triggers.subjects import InMemorySubjectRepository
from baton.waits.tokens import InMemoryTaskTokens
from tests.figures_fakes import InMemoryFiguresRepository
from tests.subjects import subject_of

EVENTS = Path(__file__).resolve().parent.parent / "events"
T0 = datetime(2026, 11, 23, 12, tzinfo=UTC)
EMAIL = "ana@example.com"
PHONE = "+5511912345678"
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:Baton-notice:notice-0123abcd"

NOTICE = {
    "journey": "notice",
    "owner": "ops@example.com",
    "purpose": "transactional",
    "review_by": "2027-01-01",
    "trigger": {"event": "order.shipped"},
    "steps": [
        {"id": "tell", "send": {"template": "tell", "channels": ["sms", "email"], "confirm_delivery": "10m"}}
    ],
}
TELL = {
    "template": "tell",
    "owner": "ops@example.com",
    "purpose": "transactional",
    "locales": {"en": {"sms": {"text": "Shipped."}, "email": {"subject": "Shipped", "text": "Shipped."}}},
}


def _receipt(name: str) -> Receipt:
    receipt = parse_eventbridge(json.loads((EVENTS / name).read_text()))
    assert receipt is not None
    return receipt


class Recorder(ChannelAdapter):
    provider: ClassVar[str] = "fake"

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []

    def send(self, message: OutboundMessage) -> str:
        self.sent.append(message)
        return f"{message.channel}-{len(self.sent)}"


class SmsRecorder(Recorder):
    channel: ClassVar[Channel] = Channel.SMS


class EmailRecorder(Recorder):
    channel: ClassVar[Channel] = Channel.EMAIL


class World:
    def __init__(self) -> None:
        self.clock = FixedClock(T0)
        self.timeline = TimelineService(InMemoryTimelineRepository(), self.clock)
        self.consent = ConsentService(InMemoryConsentRepository(), self.timeline, self.clock)
        self.suppression = SuppressionService(
            InMemorySuppressionRepository(), lambda: b"salt" * 16, self.clock
        )
        self.contacts = ContactService(
            InMemoryContactRepository(), self.consent, self.timeline, self.suppression, self.clock
        )
        self.receipts = InMemoryReceiptRepository()
        self.tokens = InMemoryTaskTokens()
        self.feedback = FeedbackService(
            self.receipts,
            self.tokens,
            contacts=self.contacts,
            suppression=self.suppression,
            consent=self.consent,
            timeline=self.timeline,
            clock=self.clock,
        )
        self.sms, self.email = SmsRecorder(), EmailRecorder()
        metrics = Metrics(namespace="BatonFeedbackTest")
        dispatcher = Dispatcher(
            {Channel.SMS: self.sms, Channel.EMAIL: self.email},
            self.suppression,
            self.consent,
            self.timeline,
            metrics=metrics,
            policy=GatePolicy(),
            clock=self.clock,
        )
        catalog = Catalog(
            root=Path("journeys"),
            journeys={"notice": Journey.model_validate(NOTICE)},
            templates={"tell": Template.model_validate(TELL)},
        )
        settings = Settings()
        context = RunnerContext(
            catalog=lambda: catalog,
            contacts=self.contacts,
            timeline=self.timeline,
            links=lambda: Links(settings, b"k" * 32, self.clock.now()),
            once=SendLedger(InMemoryOnceTable()),
            clock=self.clock,
            metrics=metrics,
            brand="Baton",
            postal_address="1 Main St",
            subjects=InMemorySubjectRepository(),
        )
        context.subjects.add(subject_of(EXECUTION, "ana", "notice", "order.shipped"))
        self.runner = JourneyRunner(context, dispatcher, feedback=self.feedback)
        self.contacts.upsert("ana", ContactInput(email=EMAIL, phone=PHONE, locale="en"))
        self.consent.grant(
            "ana", Channel.EMAIL, "news", source=Source.IMPORT, basis=Basis.EXPRESS, address=EMAIL
        )
        self.steps: dict[str, Any] = {}

    def kinds(self, kind: str) -> list[dict[str, Any]]:
        return [dict(e.detail) for e in reversed(self.timeline.all("ana")) if e.kind == kind]

    def task(self, action: str, channel: str | None = None, token: str | None = None) -> dict[str, Any]:
        payload = {
            "action": action,
            "journey": "notice",
            "step": "tell",
            "execution": EXECUTION,
            "steps": self.steps,
            "channel": channel,
            "token": token,
        }
        result = self.runner.handle(StepRequest.model_validate(payload))
        if action == "send_channel":
            self.steps = {"tell": result}  # as the state machine's ResultPath does
        return result


@pytest.fixture
def world() -> World:
    return World()


# Bounces and complaints (R-SES-3) ------------------------------------------------------------


def test_r_ses_3_a_hard_bounce_suppresses_the_address_and_is_on_the_timeline(world: World) -> None:
    assert world.feedback.handle(_receipt("ses_bounce.json")) is True

    entry = world.suppression.check(Channel.EMAIL, EMAIL)
    assert entry is not None
    assert entry.reason == SuppressionReason.HARD_BOUNCE
    (event,) = world.kinds(DELIVERY_EVENT)
    assert event["status"] == "bounced"
    assert event["provider_message_id"] == "0100018f-ses-message-bounce-000000"


def test_a_transient_bounce_suppresses_nothing(world: World) -> None:
    world.feedback.handle(_receipt("ses_bounce_transient.json"))

    assert world.suppression.check(Channel.EMAIL, EMAIL) is None
    assert [e["status"] for e in world.kinds(DELIVERY_EVENT)] == ["failed"]


def test_r_ses_3_a_complaint_suppresses_and_revokes_marketing_email_consent_with_the_complaint_as_proof(
    world: World,
) -> None:
    world.feedback.handle(_receipt("ses_complaint.json"))

    entry = world.suppression.check(Channel.EMAIL, EMAIL)
    assert entry is not None
    assert entry.reason == SuppressionReason.COMPLAINT
    state = world.consent.state("ana", Channel.EMAIL, "news")
    assert state is not None
    assert state.status == ConsentStatus.REVOKED
    revocation = world.consent.entries("ana")[-1]
    assert revocation.source == Source.COMPLAINT
    assert revocation.proof is not None
    assert revocation.proof.message_id == "0100018f-complaint-feedback-000000"


def test_a_delivery_is_on_the_timeline_with_the_provider_message_id(world: World) -> None:
    world.feedback.handle(_receipt("ses_delivery.json"))

    (event,) = world.kinds(DELIVERY_EVENT)
    assert event["status"] == "delivered"
    assert event["provider_message_id"] == "0100018f-ses-message-delivery-000000"


def test_a_receipt_of_a_split_runs_send_is_on_the_timeline_with_its_variant(world: World) -> None:
    receipt = _receipt("ses_bounce.json").model_copy(update={"variant": "short"})

    world.feedback.handle(receipt)

    (event,) = world.kinds(DELIVERY_EVENT)
    assert (event["journey"], event["step"], event["variant"]) == ("welcome", "hello", "short")


def test_the_same_receipt_twice_changes_nothing_the_second_time(world: World) -> None:
    receipt = _receipt("ses_complaint.json")
    world.feedback.handle(receipt)
    entries = len(world.consent.entries("ana"))

    assert world.feedback.handle(receipt) is False

    assert len(world.kinds(DELIVERY_EVENT)) == 1
    assert len(world.consent.entries("ana")) == entries


# Opens and clicks (only with tracking on) ----------------------------------------------------


def _figures(world: World) -> tuple[FiguresRecorder, InMemoryFiguresRepository]:
    """The figures kept as the world's timeline is written (flushed as a handler ends)."""
    repository = InMemoryFiguresRepository()
    recorder = FiguresRecorder(repository, Metrics(namespace="BatonFeedbackTest"))
    world.timeline.observe(recorder)
    return recorder, repository


def _counters(repository: InMemoryFiguresRepository) -> dict[tuple[str, str, str], int]:
    return {
        (key.pk, key.sk, name): amount
        for key, item in repository.items_by_key.items()
        for name, amount in item.counters.items()
    }


@pytest.mark.parametrize(("name", "measure"), [("ses_open.json", "opened"), ("ses_click.json", "clicked")])
def test_an_open_or_click_adds_a_timeline_entry_and_its_count_and_changes_nothing_else(
    world: World, name: str, measure: str
) -> None:
    # given a contact with marketing email consent, and the figures kept as the timeline is written
    recorder, figures = _figures(world)
    consent_before = world.consent.entries("ana")

    # when SES reports an open (or a click) of a journey's email to them
    assert world.feedback.handle(_receipt(name)) is True
    recorder.flush()

    # then the timeline has it and the figures count it at the journey's step, once
    (event,) = world.kinds(DELIVERY_EVENT)
    assert (event["status"], event["journey"], event["step"]) == (measure, "welcome", "hello")
    assert _counters(figures) == {("journey#welcome", "2026-11-23#hello", f"{measure}|email|-"): 1}
    # and nothing else changed: no suppression, no consent change, nothing kept to answer a waiter
    assert world.suppression.check(Channel.EMAIL, EMAIL) is None
    assert world.consent.entries("ana") == consent_before
    state = world.consent.state("ana", Channel.EMAIL, "news")
    assert state is not None
    assert state.status == ConsentStatus.GRANTED
    assert world.receipts.early_receipts == {}
    assert world.tokens.sent == []
    assert [e.kind for e in world.timeline.all("ana")].count(DELIVERY_EVENT) == 1


def test_an_open_or_click_answers_no_waiting_journey_and_the_delivery_after_it_still_does(
    world: World,
) -> None:
    # given a journey waiting for its email's receipt
    recorder, figures = _figures(world)
    world.task("send_channel", "sms")
    world.task("await_receipt", "sms", token="t-sms")
    world.feedback.handle(
        Receipt(
            provider="eum-sms",
            channel=Channel.SMS,
            provider_message_id=world.steps["tell"]["provider_message_id"],
            status=ReceiptStatus.FAILED,
            reason="TEXT_UNREACHABLE",
        )
    )
    ((_, answer),) = world.tokens.sent
    world.steps = {"tell": answer}
    sent = world.task("send_channel", "email")
    world.task("await_receipt", "email", token="t-email")
    message_id = sent["provider_message_id"]

    # when the person opens it and clicks in it before SES reports the delivery
    for status in (ReceiptStatus.OPENED, ReceiptStatus.CLICKED):
        world.feedback.handle(
            Receipt(
                provider="ses",
                channel=Channel.EMAIL,
                provider_message_id=message_id,
                status=status,
                addresses=(EMAIL,),
            )
        )

    # then the journey still waits: neither answered it, and neither was kept as an early receipt
    assert [token for token, _ in world.tokens.sent] == ["t-sms"]
    assert world.receipts.get(message_id) is not None
    assert world.receipts.early(message_id) is None
    # and the delivery answers it
    world.feedback.handle(
        Receipt(
            provider="ses",
            channel=Channel.EMAIL,
            provider_message_id=message_id,
            status=ReceiptStatus.DELIVERED,
            addresses=(EMAIL,),
        )
    )
    recorder.flush()
    assert [token for token, _ in world.tokens.sent] == ["t-sms", "t-email"]
    assert world.tokens.sent[-1][1]["delivered"] is True
    email_events = [e["status"] for e in world.kinds(DELIVERY_EVENT) if e["channel"] == "email"]
    assert email_events == ["opened", "clicked", "delivered"]
    counted = {name for (_, sk, name) in _counters(figures) if sk.endswith("#tell")}
    assert {"opened|email|-", "clicked|email|-", "delivered|email|-"} <= counted


# Journeys waiting for receipts ----------------------------------------------------------------


def test_a_delivered_sms_answers_the_waiting_journey_once(world: World) -> None:
    sent = world.task("send_channel", "sms")
    assert (sent["outcome"], sent["channel"], sent["delivered"]) == ("sent", "sms", False)
    world.task("await_receipt", "sms", token="t-1")
    receipt = Receipt(
        provider="eum-sms",
        channel=Channel.SMS,
        provider_message_id=sent["provider_message_id"],
        status=ReceiptStatus.DELIVERED,
        addresses=(PHONE,),
    )

    world.feedback.handle(receipt)
    world.feedback.handle(receipt)

    ((token, output),) = world.tokens.sent
    assert token == "t-1"
    assert (output["outcome"], output["channel"], output["delivered"]) == ("sent", "sms", True)
    assert [e["status"] for e in world.kinds(DELIVERY_EVENT)] == ["delivered"]
    assert world.kinds(DELIVERY_EVENT)[0]["step"] == "tell"


def test_a_failed_receipt_fails_over_to_the_next_channel(world: World) -> None:
    sent = world.task("send_channel", "sms")
    world.task("await_receipt", "sms", token="t-1")
    world.feedback.handle(
        Receipt(
            provider="eum-sms",
            channel=Channel.SMS,
            provider_message_id=sent["provider_message_id"],
            status=ReceiptStatus.FAILED,
            reason="TEXT_UNREACHABLE",
        )
    )
    ((_, answer),) = world.tokens.sent
    world.steps = {"tell": answer}

    email = world.task("send_channel", "email")

    assert answer["delivered"] is False
    assert (email["outcome"], email["channel"]) == ("sent", "email")
    assert [(a["channel"], a["outcome"]) for a in email["attempts"]] == [("sms", "failed"), ("email", "sent")]
    assert len(world.email.sent) == 1


def test_a_receipt_before_its_waiter_answers_the_waiter_when_it_registers(world: World) -> None:
    sent = world.task("send_channel", "sms")
    world.feedback.handle(
        Receipt(
            provider="eum-sms",
            channel=Channel.SMS,
            provider_message_id=sent["provider_message_id"],
            status=ReceiptStatus.DELIVERED,
        )
    )

    world.task("await_receipt", "sms", token="t-1")

    ((token, output),) = world.tokens.sent
    assert (token, output["delivered"]) == ("t-1", True)


def test_no_receipt_in_time_is_on_the_timeline_and_every_channel_failing_ends_the_step_failed(
    world: World,
) -> None:
    sent = world.task("send_channel", "sms")
    world.task("await_receipt", "sms", token="t-1")
    world.steps["tell"] = {**world.steps["tell"], "timed_out": {"Error": "States.Timeout", "Cause": ""}}

    world.suppression.add(Channel.EMAIL, EMAIL, SuppressionReason.HARD_BOUNCE, "ses")
    refused = world.task("send_channel", "email")
    ended = world.task("send_channel", None)

    (timed_out,) = world.kinds(DELIVERY_TIMED_OUT)
    assert timed_out["provider_message_id"] == sent["provider_message_id"]
    assert refused["outcome"] == "refused"
    assert ended["outcome"] == "failed"
    first = ended["attempts"][0]
    assert (first["channel"], first["outcome"], first["reason"]) == ("sms", "failed", "no_receipt")
    assert world.receipts.get(sent["provider_message_id"]) is None
    # A receipt after the journey gave up answers nothing.
    world.feedback.handle(
        Receipt(
            provider="eum-sms",
            channel=Channel.SMS,
            provider_message_id=sent["provider_message_id"],
            status=ReceiptStatus.DELIVERED,
        )
    )
    assert world.tokens.sent == []


def test_a_split_runs_missing_receipt_is_on_the_timeline_with_its_variant(world: World) -> None:
    sent = world.task("send_channel", "sms")
    world.task("await_receipt", "sms", token="t-1")
    # The split's answer beside the step's, as the state machine keeps both under `$.steps`.
    world.steps = {
        "pick": {"variant": "short", "next": "tell"},
        "tell": {**world.steps["tell"], "timed_out": {"Error": "States.Timeout", "Cause": ""}},
    }

    world.task("send_channel", "email")

    (timed_out,) = world.kinds(DELIVERY_TIMED_OUT)
    assert (timed_out["provider_message_id"], timed_out["variant"]) == (sent["provider_message_id"], "short")
