"""The journey task Lambda on the embedded AWS: `baton.handlers.journey_step.handler` called with
the state machine's payload, over moto's DynamoDB, SES and SNS, with Powertools idempotency on
the idempotency table and the catalog read from a journeys folder."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_string
from email.policy import default
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

import baton.aws
from baton import bootstrap
from baton.clock import FixedClock, from_iso, use_clock
from baton.consent.vocabulary import Basis, Channel, Source
from baton.contacts.models import ContactInput
from baton.handlers.journey_step import handler
from baton.runner.exceptions import TaskFailed
from baton.settings import Settings
from baton.timeline.models import TimelineEvent
from baton.triggers.models import Run, RunStatus
from baton.triggers.runs import DynamoRunRepository
from baton.triggers.subjects import DynamoSubjectRepository
from tests.approvals import approve_catalog
from tests.subjects import subject_of

REGION = "us-east-1"
NOW = datetime(2026, 5, 4, 15, tzinfo=UTC)  # Monday 11:00 in New York
PHONE = "+12125550100"
EMAIL = "ana@example.com"
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:Baton-nurture:nurture-5f1c0b"

NURTURE = """\
journey: nurture
owner: growth@example.com
purpose: marketing
topic: news
review_by: 2027-03-01
trigger:
  event: lead.created
steps:
  - id: hello
    send: {template: nurture-hello, channels: [sms, email]}
  - id: route
    branch:
      cases:
        - when: {channel_used: {step: hello, is: sms}}
          next: end
      default: tip
  - id: tip
    send:
      template: nurture-hello
      channels: [email]
      window: {start: "09:00", end: "18:00"}
"""
NOTIFY = """\
journey: notify
owner: ops@example.com
purpose: transactional
review_by: 2027-03-01
trigger:
  event: order.shipped
steps:
  - id: push
    send: {template: notify-push, channels: [webhook]}
"""
NURTURE_HELLO = """\
template: nurture-hello
owner: growth@example.com
purpose: marketing
approved_by: legal@example.com
locales:
  en:
    sms:
      text: "{{ brand }}: hi {{ contact.first_name }}, welcome! Reply STOP to opt out."
    email:
      subject: "Welcome, {{ contact.first_name }}"
      html: >-
        <p>Hi {{ contact.first_name }}!</p>
        <p><a href="{{ unsubscribe_url }}">Unsubscribe</a> {{ postal_address }}</p>
      text: "Hi {{ contact.first_name }}! Unsubscribe: {{ unsubscribe_url }} {{ postal_address }}"
"""
NOTIFY_PUSH = """\
template: notify-push
owner: ops@example.com
purpose: transactional
locales:
  en:
    webhook:
      body: {text: "Order {{ event.order_id }} shipped", contact: "{{ contact.contact_id }}"}
"""


@dataclass
class LambdaContext:
    function_name: str = "Baton-JourneyStepFunction"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:Baton-JourneyStepFunction"
    aws_request_id: str = "request-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def journeys(tmp_path: Path) -> Path:
    (tmp_path / "templates").mkdir()
    for name, text in {
        "nurture.yaml": NURTURE,
        "notify.yaml": NOTIFY,
        "templates/nurture-hello.yaml": NURTURE_HELLO,
        "templates/notify-push.yaml": NOTIFY_PUSH,
    }.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    approve_catalog(tmp_path)
    return tmp_path


@pytest.fixture
def clock() -> Iterator[FixedClock]:
    virtual = FixedClock(NOW)
    use_clock(virtual)
    yield virtual
    use_clock(None)


@pytest.fixture
def lambda_env(
    aws: Settings, journeys: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[bootstrap.Services]:
    monkeypatch.setenv("BATON_JOURNEYS_DIR", str(journeys))
    monkeypatch.setenv("BATON_PUBLIC_BASE_URL", "https://baton.example.com")
    monkeypatch.setenv("BATON_WEBHOOK_URL", "http://127.0.0.1:9/hooks")  # nothing listens there
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    bootstrap.reset()
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="example.com")
    services = bootstrap.services()
    services.contacts.upsert(
        "c-1",
        ContactInput(
            email=EMAIL, phone=PHONE, first_name="Ana", timezone="America/New_York", country="US", locale="en"
        ),
    )
    DynamoRunRepository(services.settings.runs_table).add(
        Run(
            contact_id="c-1",
            journey="nurture",
            execution_name="nurture-5f1c0b",
            execution_arn=EXECUTION,
            started_at=NOW,
            event_type="lead.created",
            idempotency_key="k-1",
        )
    )
    DynamoSubjectRepository(services.settings.subjects_table).add(
        subject_of(EXECUTION, "c-1", "nurture", "lead.created", {"order_id": "A-1"})
    )
    yield services
    bootstrap.reset()


def _grant(services: bootstrap.Services, channel: Channel, address: str) -> None:
    services.consent.grant("c-1", channel, "news", source=Source.IMPORT, basis=Basis.EXPRESS, address=address)


def _invoke(action: str = "send", step: str | None = "hello", **extra: Any) -> dict[str, Any]:
    payload = {
        "action": action,
        "journey": extra.pop("journey", "nurture"),
        "step": step,
        "execution": EXECUTION,
        "steps": extra.pop("steps", {}),
        **extra,
    }
    result: dict[str, Any] = handler(payload, LambdaContext())
    return result


def _texts() -> list[tuple[str, str]]:
    return list(sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages.values())


def _emails() -> list[Any]:
    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    return [message_from_string(sent.raw_data, policy=default) for sent in backend.sent_messages]


def _timeline(services: bootstrap.Services, kind: str) -> list[TimelineEvent]:
    return [event for event in reversed(services.timeline.all("c-1")) if event.kind == kind]


def _run_status(services: bootstrap.Services) -> RunStatus:
    (run,) = DynamoRunRepository(services.settings.runs_table).of_journey("c-1", "nurture")
    return run.status


def test_send_fails_over_from_sms_without_consent_to_an_email_with_one_click_unsubscribe(
    lambda_env: bootstrap.Services,
) -> None:
    _grant(lambda_env, Channel.EMAIL, EMAIL)

    result = _invoke()

    assert (result["outcome"], result["channel"]) == ("sent", "email")
    assert [(a["channel"], a["outcome"], a["reason"]) for a in result["attempts"]] == [
        ("sms", "refused", "no_consent"),
        ("email", "sent", None),
    ]
    (email,) = _emails()
    assert email["Subject"] == "Welcome, Ana"
    assert email["List-Unsubscribe"].startswith("<https://baton.example.com/v1/unsubscribe/")  # R-MBX-1
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert not _texts()
    assert [event.detail["channel"] for event in _timeline(lambda_env, "message.refused")] == ["sms"]
    (sent,) = _timeline(lambda_env, "message.sent")
    assert (sent.detail["journey"], sent.detail["step"], sent.detail["execution"]) == (
        "nurture",
        "hello",
        EXECUTION,
    )


def test_r_rel_6_the_same_send_task_run_twice_sends_one_text_and_keeps_the_record(
    lambda_env: bootstrap.Services,
) -> None:
    _grant(lambda_env, Channel.SMS, PHONE)

    first = _invoke()
    second = _invoke()  # Step Functions ran the task again

    assert first == second
    assert _texts() == [(PHONE, "Baton: hi Ana, welcome! Reply STOP to opt out.")]
    assert len(_timeline(lambda_env, "message.sent")) == 1
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=lambda_env.settings.idempotency_table)
    # One record for the step's pass, one for its channel's send: both settled.
    states = sorted((item["id"]["S"].split("#")[0], item["state"]["S"]) for item in items["Items"])
    assert states == [("baton.journey-send", "sent"), ("baton.journey-step", "completed")]


def test_r_tcpa_2_a_text_at_night_is_held_then_sent_when_the_quiet_hours_end(
    lambda_env: bootstrap.Services, clock: FixedClock
) -> None:
    _grant(lambda_env, Channel.SMS, PHONE)
    clock.set(datetime(2026, 5, 5, 2, 0, tzinfo=UTC))  # 22:00 in New York

    held = _invoke()
    clock.set(from_iso(held["until"]))
    sent = _invoke()

    assert (held["outcome"], held["until"], held["reason"]) == (
        "held",
        "2026-05-05T12:00:00.000000Z",
        "quiet_hours",
    )
    assert (sent["outcome"], sent["channel"]) == ("sent", "sms")
    assert len(_texts()) == 1
    (on_hold,) = _timeline(lambda_env, "message.held")
    assert on_hold.detail["rule"] == "R-TCPA-2"


def test_sales_hold_skips_ends_the_journey_on_the_timeline_and_closes_the_run(
    lambda_env: bootstrap.Services,
) -> None:
    _grant(lambda_env, Channel.SMS, PHONE)
    _grant(lambda_env, Channel.EMAIL, EMAIL)
    lambda_env.contacts.upsert("c-1", ContactInput.model_validate({"sales": {"deal_open": True}}))

    result = _invoke()

    assert (result["outcome"], result["reason"]) == ("skipped", "sales_hold")
    (ended,) = _timeline(lambda_env, "journey.ended")
    assert (ended.detail["outcome"], ended.detail["reason"]) == ("skipped", "sales_hold")
    assert _run_status(lambda_env) == RunStatus.SUCCEEDED
    assert not _texts()
    assert not _emails()


def test_branch_then_finish_record_the_route_and_complete_the_run(lambda_env: bootstrap.Services) -> None:
    steps = {"hello": {"outcome": "sent", "channel": "sms", "until": None, "reason": None, "attempts": []}}

    branch = _invoke(action="branch", step="route", steps=steps)
    finish = _invoke(action="finish", step=None, steps=steps)

    assert branch == {"next": "end", "case": 0}
    assert finish == {"outcome": "completed"}
    assert [event.detail["next"] for event in _timeline(lambda_env, "journey.step")] == ["end"]
    assert len(_timeline(lambda_env, "journey.completed")) == 1
    assert _run_status(lambda_env) == RunStatus.SUCCEEDED


def test_r_rel_4_an_unreachable_provider_fails_the_task_with_the_error_step_functions_retries(
    lambda_env: bootstrap.Services,
) -> None:
    with pytest.raises(Exception) as raised:  # noqa: PT011 (Lambda reports the class name)
        _invoke(journey="notify", step="push")

    assert type(raised.value).__name__ == "Baton.ProviderUnavailable"
    (failed,) = _timeline(lambda_env, "message.failed")
    assert (failed.detail["channel"], failed.detail["retryable"]) == ("webhook", True)
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=lambda_env.settings.idempotency_table)
    assert items["Items"] == []  # nothing remembered: the retry will try again


def test_r_rel_4_journey_delivery_clients_make_a_single_attempt(lambda_env: bootstrap.Services) -> None:
    for service in ("sesv2", "sns", "pinpoint-sms-voice-v2", "socialmessaging"):
        assert baton.aws.delivery_client(service).meta.config.retries["total_max_attempts"] == 1


def test_an_unexpected_task_error_reaches_the_execution_by_its_type_only_not_its_text(
    lambda_env: bootstrap.Services,
) -> None:
    # A validation error quotes the value it refused; the execution's history would keep it.
    with pytest.raises(TaskFailed, match=r"^ValidationError") as failure:
        _invoke(steps={"hello": f"{EMAIL} +1 212 555 0100"})

    assert type(failure.value).__name__ == "Baton.TaskFailed"  # the errorType Step Functions sees
    assert EMAIL not in str(failure.value)
    assert failure.value.__cause__ is None
    assert failure.value.__suppress_context__ is True
