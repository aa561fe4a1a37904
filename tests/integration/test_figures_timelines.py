"""Figures on the embedded AWS: a few hundred contacts through a real journey (a campaign's
batches), with skips, a provider's refusals, deliveries, bounces and unsubscribes; the figures
equal what the contacts' timelines show, count for count; and a figures table that cannot be
written leaves every send as it was (sent once) with the failure counted."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

import baton.aws
from baton import bootstrap
from baton.campaigns.batch import BatchRequest
from baton.campaigns.wiring import campaign_batch
from baton.clock import FixedClock, use_clock
from baton.consent.vocabulary import Channel, Source
from baton.feedback.events import parse_eventbridge
from baton.feedback.wiring import feedback_service
from baton.figures.recorder import METRIC_NOT_RECORDED
from baton.figures.repository import DynamoFiguresRepository
from baton.figures.service import FiguresService
from baton.privacy import erase_contact
from baton.settings import Settings
from baton.suppression.models import SuppressionReason
from baton.triggers import wiring
from infra.bench.once import error_response
from tests.integration.test_campaign_batch import (
    ACCOUNT,
    NOW,
    PASS,
    PREFIX,
    REGION,
    _contact,
    _run,
    journeys,  # noqa: F401 (a fixture)
)

CONTACTS = 300
# By the contact's number modulo 10: what happens to it.
NO_CONSENT, SUPPRESSED, REJECTED, UNSUBSCRIBES, BOUNCES = 6, 7, 8, 9, 5


class TickingClock(FixedClock):
    """Moves a quarter second at every reading: sends spread over seconds, so the SES rate the
    pacer keeps (R-SES-1) is never reached, the same way at every run."""

    def now(self) -> datetime:
        moment = super().now()
        self.set(moment + timedelta(milliseconds=250))
        return moment


@pytest.fixture
def world(
    aws: Settings,
    journeys: Path,  # noqa: F811 (the fixture: the spring sale's catalog)
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[bootstrap.Services]:
    monkeypatch.setenv("BATON_JOURNEYS_DIR", str(journeys))
    monkeypatch.setenv("BATON_STATE_MACHINE_ARN_PREFIX", PREFIX)
    monkeypatch.setenv("BATON_PUBLIC_BASE_URL", "https://baton.example.com")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    use_clock(TickingClock(NOW))
    bootstrap.reset()
    wiring.catalog.cache_clear()
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="example.com")
    boto3.client("stepfunctions", region_name=REGION).create_state_machine(
        name="Baton-spring-sale", definition=PASS, roleArn=f"arn:aws:iam::{ACCOUNT}:role/Baton-spring-sale"
    )
    bootstrap.metrics.clear_metrics()
    yield bootstrap.services()
    bootstrap.metrics.clear_metrics()
    use_clock(None)
    bootstrap.reset()
    wiring.catalog.cache_clear()


def _tags_and_rejections() -> dict[str, dict[str, str]]:
    """SES's EmailTags by SES message id (what SES echoes in its events), and MessageRejected
    for the addresses of the REJECTED contacts."""
    sent: dict[str, dict[str, str]] = {}
    last: dict[str, Any] = {}

    def remember(params: dict[str, Any], **_: Any) -> None:
        last["tags"] = {tag["Name"]: tag["Value"] for tag in params.get("EmailTags", [])}
        last["to"] = params["Destination"]["ToAddresses"][0]

    def reject(**_: Any) -> tuple[AWSResponse, Any] | None:
        number = int(str(last["to"]).split("@")[0].rsplit("-", 1)[1])
        return error_response("https://email", 400, "MessageRejected") if number % 10 == REJECTED else None

    def after(parsed: dict[str, Any], **_: Any) -> None:
        if "MessageId" in parsed:
            sent[str(parsed["MessageId"])] = dict(last["tags"]) | {"to": last["to"]}

    events = baton.aws.delivery_client("sesv2").meta.events
    events.register("provide-client-params.sesv2.SendEmail", remember)
    events.register("before-call.sesv2.SendEmail", reject)
    events.register("after-call.sesv2.SendEmail", after)
    return sent


def _ses_event(message_id: str, tags: dict[str, str], bounce: bool) -> dict[str, Any]:
    mail = {
        "messageId": message_id,
        "destination": [tags["to"]],
        "tags": {name: [value] for name, value in tags.items() if name != "to"},
    }
    at = (NOW + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    if bounce:
        detail = {
            "eventType": "Bounce",
            "mail": mail,
            "bounce": {
                "bounceType": "Permanent",
                "bounceSubType": "General",
                "bouncedRecipients": [{"emailAddress": tags["to"]}],
                "timestamp": at,
            },
        }
    else:
        detail = {
            "eventType": "Delivery",
            "mail": mail,
            "delivery": {"timestamp": at, "recipients": [tags["to"]]},
        }
    return {"source": "aws.ses", "detail-type": "Email", "detail": detail}


def _timeline_counts(s: bootstrap.Services, contact_ids: list[str]) -> Counter[str]:
    """What the contacts' timelines show, in the figures' own words."""
    seen: Counter[str] = Counter()
    for contact_id in contact_ids:
        for event in s.timeline.all(contact_id):
            detail = event.detail
            match event.kind:
                case "journey.started":
                    seen["entered"] += 1
                case "journey.completed":
                    seen["completed"] += 1
                case "journey.ended":
                    seen[f"ended.{detail['outcome']}"] += 1
                case "message.sent":
                    seen["sent"] += 1
                case "message.refused":
                    seen[f"skipped.{detail['reason']}"] += 1
                case "message.failed":
                    seen["failed"] += 1
                case "delivery.event":
                    seen[{"failed": "undelivered"}.get(str(detail["status"]), str(detail["status"]))] += 1
                case "consent.changed" if detail["status"] == "revoked" and detail["source"] == "link":
                    seen["unsubscribed"] += 1
    return seen


def test_the_figures_equal_what_the_timelines_show_count_for_count(world: bootstrap.Services) -> None:
    contact_ids = [f"c-{n:04d}" for n in range(CONTACTS)]
    for n, contact_id in enumerate(contact_ids):
        _contact(world, contact_id, email=n % 10 != NO_CONSENT)
        if n % 10 == SUPPRESSED:
            world.suppression.add(
                Channel.EMAIL, f"{contact_id}@example.com", SuppressionReason.MANUAL, "test"
            )
    sent = _tags_and_rejections()
    _run(world)

    batch = campaign_batch(world, lambda: float("inf"))
    for index in range(0, CONTACTS, 100):
        batch.run(BatchRequest("run-1", index // 100, contact_ids[index : index + 100]))

    feedback = feedback_service(world)
    for message_id, tags in sent.items():
        number = int(tags["to"].split("@")[0].rsplit("-", 1)[1])
        receipt = parse_eventbridge(_ses_event(message_id, tags, bounce=number % 10 == BOUNCES))
        assert receipt is not None
        feedback.handle(receipt)
        if number % 10 == UNSUBSCRIBES:
            world.consent.revoke(contact_ids[number], Channel.EMAIL, "news", source=Source.LINK)
    world.figures.flush()

    figures = FiguresService(DynamoFiguresRepository(world.settings.figures_table)).journey(
        "spring-sale", NOW.date(), NOW.date(), ["route", "vip-note", "note"]
    )
    shown = _timeline_counts(world, contact_ids)
    assert figures.totals == dict(shown)
    # What that is, for the reader: 300 entered; 30 without consent and 30 suppressed were
    # skipped; 30 refused by SES failed; 210 sent, 180 delivered and 30 bounced; 30 unsubscribed
    # from the link.
    assert figures.totals["entered"] == 300
    assert figures.totals["skipped.no_consent"] == 30
    assert figures.totals["skipped.suppressed"] == 30
    assert figures.totals["failed"] == figures.totals["ended.failed"] == 30
    assert figures.totals["sent"] == figures.totals["completed"] == 210
    assert figures.totals["unsubscribed"] == 30
    # a batch's send has no execution of its own: its receipts still reach its contact
    assert figures.totals["delivered"] == 180
    assert figures.totals["bounced"] == 30
    note = next(step for step in figures.steps if step.step == "note")
    assert note.template == "sale-note"
    assert note.channels["email"]["unsubscribed"] == 30  # counted against the send they answered


def test_a_figures_table_that_cannot_be_written_changes_no_send_and_is_counted(
    world: bootstrap.Services,
) -> None:
    contact_ids = [f"c-{n:04d}" for n in range(5)]
    for contact_id in contact_ids:
        _contact(world, contact_id)
    _run(world)
    boto3.client("dynamodb", region_name=REGION).delete_table(TableName=world.settings.figures_table)

    result = campaign_batch(world, lambda: float("inf")).run(BatchRequest("run-1", 0, contact_ids))

    assert result.outcomes == {"sent": 5}
    destinations = [m.destinations[0] for m in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages]
    assert sorted(destinations) == [f"{c}@example.com" for c in contact_ids]  # each exactly once
    assert all("message.sent" in [e.kind for e in world.timeline.all(c)] for c in contact_ids)
    # Two items (the journey's and the step's), each tried twice.
    assert bootstrap.metrics.metric_set[METRIC_NOT_RECORDED]["Value"] == [1.0] * 4
    assert world.figures.pending == 0


def test_a_receipt_about_a_batch_send_to_a_contact_erased_since_records_nothing_about_them(
    world: bootstrap.Services,
) -> None:
    # given two campaign sends, and one of the two contacts erased after its send (R-GDPR-5)
    contact_ids = ["c-0001", "c-0002"]
    for contact_id in contact_ids:
        _contact(world, contact_id, email=True)
    sent = _tags_and_rejections()
    _run(world)
    campaign_batch(world, lambda: float("inf")).run(BatchRequest("run-1", 0, contact_ids))
    assert len(sent) == 2
    erase_contact(world, "c-0002")

    # when SES reports both delivered
    feedback = feedback_service(world)
    for message_id, tags in sent.items():
        receipt = parse_eventbridge(_ses_event(message_id, tags, bounce=False))
        assert receipt is not None
        feedback.handle(receipt)

    # then the contact who is still there has the receipt; of the erased one, nothing is written
    kept = [e.detail["status"] for e in world.timeline.all("c-0001") if e.kind == "delivery.event"]
    assert kept == ["delivered"]
    assert world.timeline.all("c-0002") == []
