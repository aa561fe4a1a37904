"""Exactly once on the send path (R-REL-6), on the embedded AWS: the journey-step handler, the real
SES adapter and client, the send ledger on the idempotency table, faults injected on the real
clients' botocore hooks, and the provider's events through the real feedback handler."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

import baton.aws
from baton import bootstrap
from baton.clock import FixedClock, use_clock
from baton.consent.vocabulary import Channel
from baton.contacts.models import ContactInput
from baton.data.once import DynamoOnceTable
from baton.handlers import feedback, journey_step
from baton.journeys.catalog import load_catalog
from baton.privacy import erase_contact
from baton.runner import send as send_task
from baton.runner.exceptions import RETRYABLE_ERRORS
from baton.runner.once import SendLedger
from baton.suppression.models import SuppressionReason
from baton.triggers import wiring
from infra.bench.once import (
    FUNCTION_ARN,
    JOURNEY,
    LAMBDA_TIMEOUT,
    REGION,
    START,
    TEMPLATE,
    Context,
    Driver,
    Killed,
    Rates,
    begin,
    embedded_aws,
    error_response,
    run,
)

EXECUTION = f"arn:aws:states:{REGION}:123456789012:execution:Baton-receipt:c-1"
AT_LEAST_ONCE = JOURNEY.replace("channels: [email]}", "channels: [email], at_least_once: true}")
EMAIL_THEN_SMS = JOURNEY.replace("channels: [email]}", "channels: [email, sms]}")
SMS_THEN_EMAIL = JOURNEY.replace("channels: [email]}", "channels: [sms, email]}")
BOTH_CHANNELS = TEMPLATE + '    sms: {text: "Thank you for your order."}\n'
# A later deploy: the template now needs event data this execution's trigger never had.
NEEDS_ORDER_ID = BOTH_CHANNELS.replace('"Your receipt"', '"Your receipt for {{ event.order_id }}"')


@pytest.fixture
def clock() -> Iterator[FixedClock]:
    virtual = FixedClock(START)
    use_clock(virtual)
    yield virtual
    use_clock(None)


@pytest.fixture
def world(clock: FixedClock) -> Iterator[bootstrap.Services]:
    with embedded_aws():
        services = bootstrap.services()
        services.contacts.upsert("c-1", ContactInput(email="ana@example.com", attributes={"renewed": False}))
        begin(EXECUTION, "c-1")
        yield services


def _send(pass_number: int = 1) -> dict[str, Any]:
    payload = {
        "action": "send",
        "journey": "receipt",
        "step": "receipt",
        "execution": EXECUTION,
        "steps": {},
        "pass": pass_number,
    }
    result: dict[str, Any] = journey_step.handler(payload, Context())  # type: ignore[arg-type]
    return result


def _send_as_step_functions_would() -> dict[str, Any]:
    """The task, and its retries while it fails (the compiled Retry retries every error here)."""
    for _ in range(5):
        try:
            return _send()
        except Exception:  # noqa: S112 (Baton.RecordingUnfinished, Baton.ProviderUnavailable)
            continue
    return _send()


def _emails() -> list[Any]:
    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def _texts() -> list[Any]:
    return list(sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages.values())


def _kinds(services: bootstrap.Services, kind: str) -> list[dict[str, Any]]:
    return [dict(event.detail) for event in services.timeline.all("c-1") if event.kind == kind]


def _after_ses_took_it(fault: Callable[[], None]) -> list[dict[str, Any]]:
    """Run `fault` once, right after SES accepted the next email; returns the events SES would
    publish for what it accepted (with the message tags, as a configuration set does)."""
    published: list[dict[str, Any]] = []
    tags: dict[str, str] = {}
    armed = [True]

    def remember(params: dict[str, Any], **_: Any) -> None:
        tags.update({tag["Name"]: tag["Value"] for tag in params.get("EmailTags", [])})

    def after(http_response: AWSResponse, parsed: dict[str, Any], **_: Any) -> None:
        published.append(_delivery(str(parsed["MessageId"]), tags["baton_message_id"]))
        if armed.pop() if armed else False:
            fault()

    events = baton.aws.delivery_client("sesv2").meta.events
    events.register("provide-client-params.sesv2.SendEmail", remember)
    events.register("after-call.sesv2.SendEmail", after)
    return published


def _delivery(ses_message_id: str, baton_message_id: str) -> dict[str, Any]:
    return {
        "source": "aws.ses",
        "detail-type": "Email Delivered",
        "detail": {
            "eventType": "Delivery",
            "mail": {
                "messageId": ses_message_id,
                "destination": ["ana@example.com"],
                "tags": {"baton_message_id": [baton_message_id]},
            },
            "delivery": {"timestamp": "2026-05-04T15:00:01.000Z", "recipients": ["ana@example.com"]},
        },
    }


def _fail_put_item(nth: int) -> None:
    """The `nth` DynamoDB PutItem from now answers HTTP 500 (a failing table write)."""
    left = [nth]

    def put(**_: Any) -> tuple[AWSResponse, Any] | None:
        left[0] -= 1
        if left[0] != 0:
            return None
        return error_response("https://dynamodb", 500, "InternalServerError")

    baton.aws.client("dynamodb").meta.events.register("before-call.dynamodb.PutItem", put)


def _killed() -> None:
    raise Killed()


def _killed_at_the_timeline_write() -> None:
    """The invocation dies at the `message.sent` write, right after the ledger took SES's answer."""
    writes = [0]

    def put(**_: Any) -> None:
        writes[0] += 1
        if writes[0] == 2:  # the ledger's accepted, then the timeline
            raise Killed()

    baton.aws.client("dynamodb").meta.events.register("before-call.dynamodb.PutItem", put)


def _catalog(services: bootstrap.Services, journey: str, template: str) -> None:
    """Deploy a journey and its template (a cold start reads the catalog anew)."""
    folder = Path(services.settings.journeys_dir)
    (folder / "receipt.yaml").write_text(journey, encoding="utf-8")
    (folder / "templates" / "receipt.yaml").write_text(template, encoding="utf-8")
    wiring.catalog.cache_clear()


def _failing_reads(table: str, code: str, status: int) -> Callable[[], None]:
    """Every read of Baton's `table` answers `code` (all the SDK's own attempts too) until the
    returned function is called."""
    events = baton.aws.client("dynamodb").meta.events

    def answer(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, Any] | None:
        if json.loads(params["body"]).get("TableName") == f"bench-{table}":
            return error_response("https://dynamodb", status, code)
        return None

    for operation in ("GetItem", "Query"):
        events.register(f"before-call.dynamodb.{operation}", answer, unique_id=f"failing-{operation}")

    def stop() -> None:
        for operation in ("GetItem", "Query"):
            events.unregister(f"before-call.dynamodb.{operation}", unique_id=f"failing-{operation}")

    return stop


def _read_timeout() -> None:
    raise ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com")


def test_a_read_timeout_after_ses_took_the_email_is_unknown_and_the_retried_task_sends_nothing(
    world: bootstrap.Services,
) -> None:
    _after_ses_took_it(_read_timeout)

    first = _send()
    second = _send()  # Step Functions ran the task again (a redrive, a lost Lambda answer)

    assert first == second
    assert first["attempts"][0]["outcome"] == "unknown"
    assert len(_emails()) == 1
    (unknown,) = _kinds(world, "message.unknown")
    assert unknown["error_code"] == "ReadTimeoutError"
    assert _kinds(world, "message.sent") == []


def test_the_provider_event_that_echoes_the_message_id_puts_an_unknown_send_on_the_timeline(
    world: bootstrap.Services,
) -> None:
    published = _after_ses_took_it(_read_timeout)
    _send()

    for event in published * 2:  # EventBridge delivers at least once
        feedback.handler(event, Context())  # type: ignore[arg-type]

    (sent,) = _kinds(world, "message.sent")
    (unknown,) = _kinds(world, "message.unknown")
    assert sent["message_id"] == unknown["message_id"]
    assert sent["provider_message_id"] == published[0]["detail"]["mail"]["messageId"]
    assert sent["purpose"] == unknown["purpose"]  # counted by the frequency cap like any send
    _send()  # a late retry of the task still sends nothing
    assert len(_emails()) == 1


def _bounce(delivery: dict[str, Any]) -> dict[str, Any]:
    """The hard bounce SES would publish for the same message instead of its delivery."""
    mail = delivery["detail"]["mail"]
    recipients = [
        {"emailAddress": address, "action": "failed", "status": "5.1.1"} for address in mail["destination"]
    ]
    return {
        "source": "aws.ses",
        "detail-type": "Email Bounced",
        "detail": {
            "eventType": "Bounce",
            "mail": mail,
            "bounce": {
                "bounceType": "Permanent",
                "bounceSubType": "General",
                "bouncedRecipients": recipients,
                "timestamp": "2026-05-04T15:00:02.000Z",
                "feedbackId": "bounce-feedback-1",
            },
        },
    }


@pytest.mark.parametrize("recreated", [False, True], ids=["erased", "erased-then-recreated"])
def test_a_late_provider_event_after_erasure_writes_nothing_about_the_contact_but_still_suppresses(
    world: bootstrap.Services, recreated: bool
) -> None:
    published = _after_ses_took_it(_read_timeout)
    _send()
    message_id = published[0]["detail"]["mail"]["tags"]["baton_message_id"][0]
    erase_contact(world, "c-1")
    if recreated:  # the CRM creates a contact with the same id and address again
        world.contacts.upsert("c-1", ContactInput(email="ana@example.com"))
    timeline_before = [event.kind for event in world.timeline.all("c-1")]

    for event in (published[0], _bounce(published[0])):
        feedback.handler(event, Context())  # type: ignore[arg-type]

    assert [event.kind for event in world.timeline.all("c-1")] == timeline_before
    assert timeline_before == (["contact.created"] if recreated else [])
    suppressed = world.suppression.check(Channel.EMAIL, "ana@example.com")
    assert suppressed is not None
    assert suppressed.reason == SuppressionReason.HARD_BOUNCE
    ledger = SendLedger(DynamoOnceTable(world.settings.idempotency_table))
    assert ledger.find(message_id) is None  # the last record naming the contact is gone
    assert len(_emails()) == 1


@pytest.mark.parametrize("write", [1, 2], ids=["ledger write", "timeline write"])
def test_r_rel_6_a_failing_table_write_after_ses_took_the_email_ends_with_one_email_on_the_timeline(
    world: bootstrap.Services, clock: FixedClock, write: int
) -> None:
    published = _after_ses_took_it(lambda: _fail_put_item(write))

    _send_as_step_functions_would()
    for event in published:
        feedback.handler(event, Context())  # type: ignore[arg-type]

    assert len(_emails()) == 1
    assert len(_kinds(world, "message.sent")) == 1


def test_an_unknown_send_whose_ledger_could_not_be_closed_is_finished_by_the_retry(
    world: bootstrap.Services,
) -> None:
    def lost_answer_then_a_failing_ledger_close() -> None:
        _fail_put_item(3)  # the ledger's unknown, the timeline's message.unknown, the ledger's close
        _read_timeout()

    _after_ses_took_it(lost_answer_then_a_failing_ledger_close)

    result = _send_as_step_functions_would()

    assert result["attempts"][0]["outcome"] == "unknown"
    assert len(_emails()) == 1
    assert len(_kinds(world, "message.unknown")) == 1


def test_r_rel_6_an_invocation_killed_after_ses_took_the_email_is_not_sent_again_by_the_retry(
    world: bootstrap.Services, clock: FixedClock
) -> None:
    def killed() -> None:
        raise Killed()

    published = _after_ses_took_it(killed)
    with pytest.raises(Killed):
        _send()
    clock.set(clock.now() + LAMBDA_TIMEOUT + timedelta(seconds=2))  # timed out, then retried

    result = _send()
    for event in published:
        feedback.handler(event, Context())  # type: ignore[arg-type]

    assert result["outcome"] == "sent"
    assert len(_emails()) == 1
    assert len(_kinds(world, "message.sent")) == 1


@pytest.mark.parametrize(
    ("fault", "recorded"),
    [(_killed, "message.unknown"), (_killed_at_the_timeline_write, "message.sent")],
    ids=["before the ledger had the answer", "after the ledger had the answer"],
)
def test_a_retry_after_ses_took_the_email_settles_it_without_rendering_and_sends_no_sms(
    world: bootstrap.Services, clock: FixedClock, fault: Callable[[], None], recorded: str
) -> None:
    _catalog(world, EMAIL_THEN_SMS, BOTH_CHANNELS)
    world.contacts.upsert("c-1", ContactInput(phone="+5511987654321"))
    _after_ses_took_it(fault)
    with pytest.raises(Killed):
        _send()
    clock.set(clock.now() + LAMBDA_TIMEOUT + timedelta(seconds=2))  # timed out, then retried
    _catalog(world, EMAIL_THEN_SMS, NEEDS_ORDER_ID)  # the retry can no longer render the email

    result = _send()

    assert (result["outcome"], result["channel"]) == ("sent", "email")
    assert len(_emails()) == 1
    assert _texts() == []  # no failover: the person has the email, or may have it
    assert _kinds(world, "message.failed") == []
    (settled,) = _kinds(world, recorded)
    assert (settled["channel"], settled["purpose"], settled["step"]) == ("email", "transactional", "receipt")
    assert "address" not in settled  # from the ledger, which holds nothing personal


def test_a_channel_refused_before_another_went_out_is_not_tried_again_by_the_retry(
    world: bootstrap.Services, clock: FixedClock
) -> None:
    _catalog(world, SMS_THEN_EMAIL, BOTH_CHANNELS)  # no phone yet: SMS refused, email sent
    _after_ses_took_it(_killed_at_the_timeline_write)
    with pytest.raises(Killed):
        _send()
    world.contacts.upsert("c-1", ContactInput(phone="+5511987654321"))  # SMS would now be allowed
    clock.set(clock.now() + LAMBDA_TIMEOUT + timedelta(seconds=2))

    result = _send()

    assert (result["outcome"], result["channel"]) == ("sent", "email")
    assert len(_emails()) == 1
    assert _texts() == []
    assert len(_kinds(world, "message.sent")) == 1


def test_an_at_least_once_resend_that_ses_rejects_leaves_the_first_attempt_standing_and_sends_no_sms(
    world: bootstrap.Services,
) -> None:
    _catalog(world, AT_LEAST_ONCE.replace("[email]", "[email, sms]"), BOTH_CHANNELS)
    world.contacts.upsert("c-1", ContactInput(phone="+5511987654321"))
    calls = [0]

    def answer_lost_the_first_time(**_: Any) -> None:
        calls[0] += 1
        if calls[0] == 1:
            _read_timeout()  # SES took it; the answer never came

    def rejected_the_second_time(**_: Any) -> tuple[AWSResponse, Any] | None:
        return error_response("https://email", 400, "MessageRejected") if calls[0] else None

    events = baton.aws.delivery_client("sesv2").meta.events
    events.register("before-call.sesv2.SendEmail", rejected_the_second_time)
    events.register("after-call.sesv2.SendEmail", answer_lost_the_first_time)
    with pytest.raises(Exception):  # noqa: B017, PT011 (Baton.ProviderUnavailable: sent again)
        _send()

    result = _send()

    assert (result["outcome"], result["channel"]) == ("sent", "email")
    assert result["attempts"][0]["outcome"] == "unknown"
    assert _texts() == []
    assert len(_kinds(world, "message.unknown")) == 1


@pytest.mark.parametrize(
    ("table", "code", "status"),
    [
        ("contacts", "ThrottlingException", 400),
        ("subjects", "ProvisionedThroughputExceededException", 400),
        ("suppression", "ThrottlingException", 400),
        ("contacts", "InternalServerError", 500),
    ],
)
def test_r_rel_4_a_throttled_or_failing_read_in_the_send_task_is_retried_and_the_retry_sends_once(
    world: bootstrap.Services, table: str, code: str, status: int
) -> None:
    stop = _failing_reads(table, code, status)
    with pytest.raises(Exception) as raised:  # noqa: PT011 (Lambda reports the class name)
        _send()
    stop()  # the table answers again by the time Step Functions retries

    result = _send()

    assert type(raised.value).__name__ == "Baton.AwsUnavailable"
    assert type(raised.value).__name__ in RETRYABLE_ERRORS
    assert result["outcome"] == "sent"
    assert len(_emails()) == 1
    assert len(_kinds(world, "message.sent")) == 1


def test_a_read_the_table_refuses_as_malformed_still_fails_the_task_without_a_retry(
    world: bootstrap.Services,
) -> None:
    stop = _failing_reads("contacts", "ValidationException", 400)
    with pytest.raises(Exception) as raised:  # noqa: PT011 (Lambda reports the class name)
        _send()
    stop()

    assert type(raised.value).__name__ == "Baton.TaskFailed"
    assert _emails() == []


def test_a_step_whose_completion_cannot_be_recorded_still_answers_sent_and_a_redrive_sends_nothing(
    world: bootstrap.Services,
) -> None:
    def step_record_unwritable(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, Any] | None:
        item = json.loads(params["body"])["Item"]
        key, state = item.get("id", {}).get("S", ""), item.get("state", {}).get("S")
        if key.startswith("baton.journey-step#") and state == "completed":
            return error_response("https://dynamodb", 500, "InternalServerError")
        return None

    baton.aws.client("dynamodb").meta.events.register("before-call.dynamodb.PutItem", step_record_unwritable)

    first = _send()  # the email went out: the task answers so, instead of failing for a retry
    again = _send()  # a redrive right away runs the step again, which finds the email sent

    assert first["outcome"] == again["outcome"] == "sent"
    assert len(_emails()) == 1
    assert len(_kinds(world, "message.sent")) == 1


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.parametrize(("field", "value"), [("email", "ana@example.com"), ("first_name", "Ana Quintela")])
def test_a_template_that_fails_on_the_contacts_data_keeps_that_data_out_of_logs_and_timeline(
    world: bootstrap.Services, field: str, value: str
) -> None:
    world.contacts.upsert("c-1", ContactInput.model_validate({field: value}))
    # The undefined key is named by its value: jinja's error text quotes the contact's data (a
    # name, which no pattern in the log redaction can tell from other text).
    _catalog(world, JOURNEY, TEMPLATE.replace('"Your receipt"', f'"Hi {{{{ event[contact.{field}] }}}}"'))
    seen = _Records()
    logger = logging.getLogger(send_task.logger.name)
    level = logger.level
    logger.addHandler(seen)
    logger.setLevel(logging.DEBUG)
    try:
        result = _send()
    finally:
        logger.removeHandler(seen)
        logger.setLevel(level)

    assert (result["outcome"], result["reason"]) == ("failed", "render_error")
    assert _emails() == []
    logged = [" ".join([record.getMessage(), *map(repr, vars(record).values())]) for record in seen.records]
    assert any("could not be rendered" in line for line in logged)
    assert not [line for line in logged if value in line]
    (failed,) = _kinds(world, "message.failed")
    assert value not in json.dumps(failed)
    assert (failed["template"], failed["part"], failed["reason"]) == (
        "receipt",
        "email.subject",
        "undefined_variable",
    )


def test_a_second_pass_through_a_looping_send_step_sends_again_but_a_retry_of_that_pass_does_not(
    world: bootstrap.Services,
) -> None:
    _send(pass_number=1)
    _send(pass_number=2)
    _send(pass_number=2)  # the second pass retried

    assert len(_emails()) == 2
    assert len(_kinds(world, "message.sent")) == 2


def test_the_compiled_loop_sends_once_on_each_pass(world: bootstrap.Services, clock: FixedClock) -> None:
    from infra.journeys.compiler import render_definition

    folder = world.settings.journeys_dir
    definition = render_definition(load_catalog(folder).journeys["receipt"], function_arn=FUNCTION_ARN)
    waits = [0]

    def renew_after_three_passes(_: str) -> None:
        waits[0] += 1
        if waits[0] == 3:
            world.contacts.upsert("c-1", ContactInput(attributes={"renewed": True}))

    no_faults = Rates(0, 0, 0, 0, 0, 0)
    driver = Driver(
        definition,
        clock,
        random.Random(1),
        no_faults,
        lambda payload: journey_step.handler(payload, Context()),  # type: ignore[arg-type]
        on_wait=renew_after_three_passes,
    )

    end = driver.run(EXECUTION, {"event": {"type": "order.paid"}, "steps": {}})

    assert end == "succeeded"
    assert [send["pass"] for send in driver.sends] == [1, 2, 3]
    assert len(_emails()) == 3


def test_a_transactional_step_that_opts_into_at_least_once_sends_again_after_a_lost_answer(
    world: bootstrap.Services,
) -> None:
    (Path(world.settings.journeys_dir) / "receipt.yaml").write_text(AT_LEAST_ONCE, encoding="utf-8")
    _after_ses_took_it(_read_timeout)

    with pytest.raises(Exception) as raised:  # noqa: PT011 (Lambda reports the class name)
        _send()
    result = _send()  # Step Functions retried it

    assert type(raised.value).__name__ == "Baton.ProviderUnavailable"
    assert result["attempts"][0]["outcome"] == "sent"
    assert len(_emails()) == 2  # at least once: the duplicate the step accepted
    assert len(_kinds(world, "message.sent")) == 1


def test_under_injected_faults_no_send_is_lost_duplicated_or_left_off_the_timeline() -> None:
    tally = run(120, seed=7)

    assert tally.sends >= 200
    assert (tally.lost, tally.duplicated, tally.sent_but_unrecorded, tally.recorded_but_unsent) == (
        0,
        0,
        0,
        0,
    )
    assert tally.delivered + tally.failed_recorded == tally.sends
    # The faults happened: throttling, lost answers and crashes after SES took the message.
    assert tally.faults["TooManyRequestsException"] > 0
    assert tally.faults.get("read_timeout", 0) + tally.faults.get("connection_closed", 0) > 0


def test_r_rel_4_a_send_throttled_past_its_retries_is_held_and_goes_out_later_once_never_failed() -> None:
    # SES throttles nine calls in ten: a task's five tries are often all throttled
    mostly_throttled = Rates(throttle=0.9, unavailable=0, lost_answer=0, crash=0, lambda_lost=0, redrive=0)

    tally = run(6, seed=3, rates=mostly_throttled)

    # every pass's message went out once, later, and no journey failed for it
    assert tally.faults["TooManyRequestsException"] > 5 * tally.sends
    assert (tally.delivered, tally.lost, tally.duplicated, tally.failed_recorded) == (tally.sends, 0, 0, 0)


def test_the_driver_fails_an_execution_whose_send_task_answers_an_outcome_the_definition_does_not_know(
    tmp_path: Path, clock: FixedClock
) -> None:
    from infra.journeys.compiler import render_definition

    (tmp_path / "templates").mkdir()
    (tmp_path / "receipt.yaml").write_text(JOURNEY, encoding="utf-8")
    (tmp_path / "templates" / "receipt.yaml").write_text(TEMPLATE, encoding="utf-8")
    definition = render_definition(load_catalog(tmp_path).journeys["receipt"], function_arn=FUNCTION_ARN)
    recorded: list[dict[str, Any]] = []

    def task(payload: dict[str, Any]) -> dict[str, Any]:
        recorded.append(payload)
        return {"outcome": "bounced"} if payload["action"] == "send" else {"outcome": "failed"}

    driver = Driver(definition, clock, random.Random(1), Rates(0, 0, 0, 0, 0, 0), task)

    end = driver.run(EXECUTION, {"event": {"type": "order.paid"}, "steps": {}})

    assert end == "failed:Baton.UnexpectedAnswer"
    assert [payload["action"] for payload in recorded] == ["send", "fail"]
    assert recorded[1]["error"]["Error"] == "Baton.UnexpectedAnswer"
