"""What reaches a log: no address, phone number, name, message text or link token, from any logger."""

from __future__ import annotations

import importlib
import io
import json
import logging

import pytest
from aws_lambda_powertools import Logger
from pydantic import BaseModel, ValidationError, field_validator

from baton import logs
from baton.handlers.bus_events import BusEnvelope
from baton.inbound.models import InboundSms
from infra.local.runtime import LambdaContext

EMAIL = "Ana.Souza@Example.com"
PHONE_TYPED = "(11) 91234-5678"
PHONE_E164 = "+5511912345678"
TOKEN = (
    "eyJhZHIiOiJhbmEuc291emFAZXhhbXBsZS5jb20iLCJzdWIiOiJjLTEifQ.q0Xq2t9a1B7Ykz4m3n5p6r8s0u2w4y6A8C0E2G4I6K8"
)


@pytest.fixture(autouse=True)
def _installed() -> None:
    logs.install()


def _lines(caplog: pytest.LogCaptureFixture) -> str:
    return caplog.text + "".join(record.getMessage() for record in caplog.records)


def test_a_library_log_line_and_its_traceback_show_no_address_phone_or_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    library = logging.getLogger("some.library")

    with caplog.at_level(logging.DEBUG):
        library.debug("GET /v1/unsubscribe/%s for %s", TOKEN, EMAIL)
        try:
            raise RuntimeError(f"cannot reach {PHONE_E164} or {PHONE_TYPED} ({EMAIL.lower()})")
        except RuntimeError:
            library.exception("send failed for %s", PHONE_TYPED)

    text = _lines(caplog)
    for personal in (EMAIL, EMAIL.lower(), PHONE_E164, PHONE_TYPED, TOKEN):
        assert personal not in text
    assert "GET /v1/unsubscribe/[token] for [email]" in text
    assert "RuntimeError: cannot reach [phone] or [phone] ([email])" in text  # the traceback stays useful


class _Form(BaseModel):
    phone: str

    @field_validator("phone")
    @classmethod
    def _digits(cls, value: str) -> str:
        raise ValueError("not a phone number")


def test_a_logged_validation_error_names_the_field_but_not_the_input(
    caplog: pytest.LogCaptureFixture,
) -> None:
    typed = {"phone": "call me: Ana at home"}

    with caplog.at_level(logging.DEBUG):
        try:
            _Form.model_validate(typed)
        except ValidationError:
            logging.getLogger("some.library").exception("bad form")

    text = _lines(caplog)
    assert "call me: Ana at home" not in text
    assert "phone\n  Value error, not a phone number" in text
    assert "input_value=[redacted]" in text


def test_a_structured_line_masks_personal_fields_at_any_depth_and_keeps_ids_and_counts() -> None:
    out = io.StringIO()
    logger = Logger(service="redaction-structured", logger_formatter=logs.RedactingFormatter(), stream=out)
    logger.append_keys(journey="welcome")

    logger.info(
        "Message sent",
        extra={
            "contact_id": "c-1",
            "recipient": EMAIL,
            "detail": {"address": PHONE_E164, "preview": "Hi Ana", "parts": 2, "channel": "sms"},
            "cause": f"SES refused {EMAIL}",
        },
    )

    line = json.loads(out.getvalue())
    assert line["message"] == "Message sent"
    assert (line["journey"], line["contact_id"], line["recipient"]) == ("welcome", "c-1", logs.MASK)
    assert line["detail"] == {"address": logs.MASK, "preview": logs.MASK, "parts": 2, "channel": "sms"}
    assert line["cause"] == "SES refused [email]"


def test_a_service_logger_made_first_without_redaction_is_made_to_redact(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "redaction-guard")
    out = io.StringIO()
    plain = Logger(stream=out)  # the service's handler, made by someone who did not ask to redact
    logs.service_logger()

    plain.info("Signed up", extra={"email": EMAIL, "contact_id": "c-2"})

    line = json.loads(out.getvalue())
    assert (line["email"], line["contact_id"], line["service"]) == (logs.MASK, "c-2", "redaction-guard")


def test_the_loggers_that_print_whole_requests_stay_quiet_under_a_debug_root(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("botocore.endpoint").debug("Making request with params: %s", {"first_name": "Ana"})
        logging.getLogger("aws_lambda_powertools.event_handler.api_gateway").debug("Calling: name='Ana'")

    assert "Ana" not in _lines(caplog)
    assert not logging.getLogger("botocore").isEnabledFor(logging.DEBUG)


def test_scrubbing_keeps_ids_arns_dates_and_durations() -> None:
    kept = (
        "execution welcome-3f2a9c1e-20261202 of c-550e8400-e29b-41d4-a716-446655440000",
        "arn:aws:states:us-east-1:123456789012:execution:welcome:run-1",
        "{'_account': '123456789012'}",
        "held until 2026-12-02 09:00:00+00:00 (2026-12-02T09:00:00Z)",
        "took 12.5 s, 3 journeys, version 1.2.3",
    )

    assert [logs.scrub(text) for text in kept] == list(kept)


_CONTEXT = LambdaContext(
    function_name="FeedbackFunction",
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:FeedbackFunction",
    memory_limit_in_mb=256,
    aws_request_id="req-1",
    timeout_s=30,
)


def test_the_raw_event_is_never_logged_even_when_powertools_is_told_to(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    feedback = importlib.reload(importlib.import_module("baton.handlers.feedback"))
    event = {"source": "acme.crm", "detail-type": "Note", "detail": {"summary": "Ana asked for a call-back"}}

    with caplog.at_level(logging.DEBUG):
        answer = feedback.handler(event, _CONTEXT)

    assert answer == {"handled": 0, "receipts": 0}
    assert "call-back" not in _lines(caplog)


@pytest.mark.parametrize(
    ("model", "event", "missing"),
    [
        (
            InboundSms,
            {"originationNumber": PHONE_E164, "messageBody": "Ana aqui, me liga amanha"},
            "inboundMessageId",
        ),
        (
            BusEnvelope,
            {
                "source": "crm",
                "detail-type": "lead.created",
                "detail": {"contact_id": "c-1", "data": {"ph": PHONE_E164}},
            },
            "idempotency_key",
        ),
    ],
)
def test_an_event_that_does_not_parse_fails_without_quoting_what_it_held(
    model: type[BaseModel], event: dict[str, object], missing: str
) -> None:
    # Lambda writes an unhandled error's text to the function's log itself, past any logger.
    with pytest.raises(ValidationError) as raised:
        model.model_validate(event)

    assert missing in str(raised.value)
    assert PHONE_E164 not in str(raised.value)
    assert "me liga" not in str(raised.value)
