"""A campaign batch on the embedded AWS: the contacts of one snapshot batch run through the
journey in one task, with the journey send's own gate, failover, timeline and send ledger, and
the run's counts kept once per batch however often it is run again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from baton import bootstrap
from baton.campaigns.batch import THROTTLED_STOPS, BatchRequest, CampaignBatch
from baton.campaigns.exceptions import BatchUnfinished, CampaignPaused
from baton.campaigns.models import PAUSABLE, RESUMABLE, CampaignRun, CampaignStatus
from baton.campaigns.runs import DynamoCampaignRuns
from baton.campaigns.wiring import campaign_batch
from baton.clock import FixedClock, use_clock
from baton.consent.vocabulary import Basis, Channel, Source
from baton.contacts.models import ContactInput
from baton.journeys.paths import Path as RunPath
from baton.runner.exceptions import Throttled
from baton.settings import Settings
from baton.triggers import wiring
from baton.triggers.runs import DynamoRunRepository
from tests.approvals import approve_catalog

REGION = "us-east-1"
ACCOUNT = "123456789012"
PREFIX = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:Baton-"
NOW = datetime(2026, 5, 4, 15, tzinfo=UTC)  # Monday 11:00 in New York, 00:00 in Tokyo
PASS = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})

SALE = """\
journey: spring-sale
owner: growth@example.com
purpose: marketing
topic: news
review_by: 2027-03-01
trigger:
  event: campaign.spring
steps:
  - id: route
    branch:
      cases:
        - when: {attribute: vip, equals: true}
          next: vip-note
      default: note
  - id: vip-note
    send: {template: sale-note, channels: [sms, email]}
    next: end
  - id: note
    send: {template: sale-note, channels: [email]}
"""
SALE_NOTE = """\
template: sale-note
owner: growth@example.com
purpose: marketing
approved_by: legal@example.com
locales:
  en:
    sms:
      text: "{{ brand }}: spring sale, {{ contact.first_name }}! Reply STOP to opt out."
    email:
      subject: "Spring sale, {{ contact.first_name }}"
      html: >-
        <p>Hi {{ contact.first_name }}!</p>
        <p><a href="{{ unsubscribe_url }}">Unsubscribe</a> {{ postal_address }}</p>
      text: "Hi {{ contact.first_name }}! Unsubscribe: {{ unsubscribe_url }} {{ postal_address }}"
"""
SEGMENT = """\
segment: everyone-opted-in
owner: growth@example.com
when: {attribute: newsletter, equals: true}
"""


@pytest.fixture
def journeys(tmp_path: Path) -> Path:
    (tmp_path / "templates").mkdir()
    (tmp_path / "segments").mkdir()
    for name, text in {
        "spring-sale.yaml": SALE,
        "templates/sale-note.yaml": SALE_NOTE,
        "segments/everyone-opted-in.yaml": SEGMENT,
    }.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    approve_catalog(tmp_path)
    return tmp_path


@pytest.fixture
def world(aws: Settings, journeys: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[bootstrap.Services]:
    monkeypatch.setenv("BATON_JOURNEYS_DIR", str(journeys))
    monkeypatch.setenv("BATON_STATE_MACHINE_ARN_PREFIX", PREFIX)
    monkeypatch.setenv("BATON_PUBLIC_BASE_URL", "https://baton.example.com")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    clock = FixedClock(NOW)
    use_clock(clock)
    bootstrap.reset()
    wiring.catalog.cache_clear()
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="example.com")
    # The journey's own state machine, for contacts handed on to an execution (moto does not
    # run it here: its executions stay RUNNING).
    boto3.client("stepfunctions", region_name=REGION).create_state_machine(
        name="Baton-spring-sale", definition=PASS, roleArn=f"arn:aws:iam::{ACCOUNT}:role/Baton-spring-sale"
    )
    yield bootstrap.services()
    use_clock(None)
    bootstrap.reset()
    wiring.catalog.cache_clear()


def _contact(
    s: bootstrap.Services,
    contact_id: str,
    *,
    vip: bool = False,
    email: bool = True,
    sms: bool = False,
    timezone: str = "America/New_York",
) -> None:
    address = f"{contact_id}@example.com"
    phone = f"+1212555{int(contact_id.rsplit('-', 1)[1]):04d}"
    s.contacts.upsert(
        contact_id,
        ContactInput(
            email=address,
            phone=phone,
            first_name="Ana",
            timezone=timezone,
            country="US",
            locale="en",
            attributes={"vip": vip, "newsletter": True},
        ),
    )
    if email:
        s.consent.grant(
            contact_id, Channel.EMAIL, "news", source=Source.IMPORT, basis=Basis.EXPRESS, address=address
        )
    if sms:
        s.consent.grant(
            contact_id, Channel.SMS, "news", source=Source.IMPORT, basis=Basis.EXPRESS, address=phone
        )


def _run(s: bootstrap.Services, run_id: str = "run-1") -> DynamoCampaignRuns:
    runs = DynamoCampaignRuns(s.settings.campaigns_table, boto3.client("dynamodb", region_name=REGION))
    runs.create(
        CampaignRun(
            run_id=run_id,
            journey="spring-sale",
            segment="everyone-opted-in",
            path=RunPath.BATCH,
            status=CampaignStatus.RUNNING,
            created_at=NOW,
            at=NOW,
        )
    )
    return runs


def _batch(s: bootstrap.Services, time_left: list[float] | None = None) -> CampaignBatch:
    left = time_left if time_left is not None else [float("inf")]
    return campaign_batch(s, lambda: left.pop(0) if len(left) > 1 else left[0])


def _emails() -> list[str]:
    return [sent.destinations[0] for sent in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages]


def _texts() -> list[str]:
    return [number for number, _ in sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages.values()]


def _kinds(s: bootstrap.Services, contact_id: str) -> list[str]:
    return [event.kind for event in reversed(s.timeline.all(contact_id))]


def test_a_batch_runs_the_journey_for_each_contact_with_the_journeys_gate_and_failover(
    world: bootstrap.Services,
) -> None:
    _contact(world, "c-0001")  # email consent: the plain note
    _contact(world, "c-0002", vip=True, sms=True)  # a VIP with SMS consent: the text
    _contact(world, "c-0003", vip=True)  # a VIP without SMS consent: fails over to email
    _contact(world, "c-0004", email=False)  # no consent at all: skipped
    runs = _run(world)

    result = _batch(world).run(BatchRequest("run-1", 0, ["c-0001", "c-0002", "c-0003", "c-0004"]))

    assert result.counted
    assert sorted(_emails()) == ["c-0001@example.com", "c-0003@example.com"]
    assert _texts() == ["+12125550002"]
    # The same timeline as the journey's execution would write, for each contact.
    assert _kinds(world, "c-0001") == [
        "contact.created",
        "consent.changed",
        "journey.started",
        "journey.step",
        "message.sent",
        "journey.completed",
    ]
    assert "message.refused" in _kinds(world, "c-0003")  # the SMS the gate refused first
    assert _kinds(world, "c-0004")[-2:] == ["message.refused", "journey.ended"]
    run = runs.get("run-1")
    assert (run.sent, run.skipped, run.contacts_done, run.batches_done) == (3, {"no_consent": 1}, 4, 1)


def test_a_batch_run_again_sends_nothing_twice_and_counts_nothing_twice(world: bootstrap.Services) -> None:
    for number in range(1, 4):
        _contact(world, f"c-{number:04d}")
    runs = _run(world)
    request = BatchRequest("run-1", 0, ["c-0001", "c-0002", "c-0003"])
    _batch(world).run(request)

    again = _batch(world).run(request)

    assert not again.counted
    assert len(_emails()) == 3
    assert runs.get("run-1").sent == 3


def test_a_paused_run_stops_its_batch_and_the_resumed_one_goes_on_where_it_stopped(
    world: bootstrap.Services,
) -> None:
    for number in range(1, 5):
        _contact(world, f"c-{number:04d}")
    runs = _run(world)
    request = BatchRequest("run-1", 3, ["c-0001", "c-0002", "c-0003", "c-0004"])
    batch = _batch(world)
    sent_before_pause: list[int] = []

    class PauseAfterTwo:
        """The operator pauses the run while the batch is at its third contact."""

        def __init__(self) -> None:
            self.reads = 0

        def __call__(self, run_id: str) -> CampaignStatus:
            self.reads += 1
            if self.reads == 3:
                sent_before_pause.append(len(_emails()))
                runs.move(run_id, CampaignStatus.PAUSED, PAUSABLE, NOW)
            return DynamoCampaignRuns.status(runs, run_id)

    batch._runs.status = PauseAfterTwo()  # type: ignore[method-assign]
    with pytest.raises(CampaignPaused):
        batch.run(request)

    assert sent_before_pause == [2]
    assert len(_emails()) == 2
    assert runs.get("run-1").contacts_done == 0  # counted when the batch is done, once
    runs.move("run-1", CampaignStatus.RUNNING, RESUMABLE, NOW)
    _batch(world).run(request)
    assert sorted(_emails()) == [f"c-{n:04d}@example.com" for n in range(1, 5)]
    assert runs.get("run-1").sent == 4


def test_a_cancelled_run_sends_nothing_more(world: bootstrap.Services) -> None:
    for number in range(1, 4):
        _contact(world, f"c-{number:04d}")
    runs = _run(world)
    runs.move("run-1", CampaignStatus.CANCELLED, frozenset({CampaignStatus.RUNNING}), NOW)

    _batch(world).run(BatchRequest("run-1", 0, ["c-0001", "c-0002", "c-0003"]))

    assert _emails() == []
    run = runs.get("run-1")
    assert (run.cancelled, run.sent, run.status) == (3, 0, CampaignStatus.CANCELLED)


def test_a_batch_out_of_time_goes_on_in_the_next_invocation_without_sending_again(
    world: bootstrap.Services,
) -> None:
    for number in range(1, 4):
        _contact(world, f"c-{number:04d}")
    runs = _run(world)
    request = BatchRequest("run-1", 0, ["c-0001", "c-0002", "c-0003"])

    with pytest.raises(BatchUnfinished):
        _batch(world, time_left=[300.0, 5.0]).run(request)  # time for one contact only

    assert len(_emails()) == 1
    _batch(world).run(request)
    assert len(_emails()) == 3
    assert runs.get("run-1").sent == 3


def test_a_send_held_by_quiet_hours_goes_on_in_the_journeys_own_execution(world: bootstrap.Services) -> None:
    _contact(world, "c-0001", vip=True, sms=True, timezone="Asia/Tokyo")  # midnight there
    runs = _run(world)
    request = BatchRequest("run-1", 0, ["c-0001"])

    _batch(world).run(request)
    _batch(world).run(BatchRequest("run-1", 1, ["c-0001"]))  # the same contact again, elsewhere

    assert _texts() == []
    assert _emails() == []
    assert runs.get("run-1").handed_on == 2
    records = DynamoRunRepository(world.settings.runs_table).of_journey("c-0001", "spring-sale")
    (continued,) = [record for record in records if record.continues]
    executions = boto3.client("stepfunctions", region_name=REGION).list_executions(
        stateMachineArn=f"{PREFIX}spring-sale"
    )["executions"]
    assert [execution["name"] for execution in executions] == [continued.execution_name]
    (started,) = [record for record in records if not record.continues]
    assert started.continued_as == continued.execution_name
    held = json.loads(
        boto3.client("stepfunctions", region_name=REGION).describe_execution(
            executionArn=executions[0]["executionArn"]
        )["input"]
    )
    assert held["resume"] == "Hold vip-note"
    assert held["steps"]["vip-note"]["outcome"] == "held"


def test_a_provider_that_keeps_throttling_hands_its_contacts_on_instead_of_dropping_them(
    world: bootstrap.Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(1, 3):
        _contact(world, f"c-{number:04d}")
    runs = _run(world)
    request = BatchRequest("run-1", 0, ["c-0001", "c-0002"])
    from botocore.exceptions import ClientError

    def throttled(**_: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "TooManyRequestsException", "Message": "slow down"}}, "SendEmail"
        )

    adapter = world.dispatcher._adapters[Channel.EMAIL]
    monkeypatch.setattr(adapter._client, "send_email", throttled)
    for _ in range(THROTTLED_STOPS):
        with pytest.raises(Throttled):
            _batch(world).run(request)

    _batch(world).run(request)

    run = runs.get("run-1")
    assert (run.handed_on, run.sent, run.contacts_done) == (2, 0, 2)
    assert _emails() == []
