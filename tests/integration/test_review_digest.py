"""The review digest's firing on moto: ScheduleFunction mails each owner with something due one
digest through SES v2, of exactly their entries; a second firing of the same ISO week sends
nothing, the next week's sends again; orphaned entries reach the fallback owner; a bad input
is a validation error naming the field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_string
from email.message import EmailMessage
from email.policy import default
from typing import Any, cast

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from baton import bootstrap
from baton.clock import FixedClock, use_clock
from baton.handlers import schedule
from baton.schedules.firings import InvalidFiring
from baton.settings import Settings
from baton.triggers import wiring
from infra.local.runtime import LambdaContext
from tests.integration.handler_calls import ACCOUNT, REGION, ROOT

# The sample catalog on Monday 2027-03-08 (ISO week 2027-W10): `welcome` (growth@, review by
# 2027-03-01) is overdue; every other journey is current; the built-ins have no review date on
# record, so their owner, the sender (no `fallbackOwner`), has them all.
MONDAY = datetime(2027, 3, 8, 8, tzinfo=UTC)
GROWTH = "growth@example.com"
SENDER = "hello@example.com"


@pytest.fixture
def clock(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[FixedClock]:
    monkeypatch.setenv("BATON_JOURNEYS_DIR", str(ROOT / "journeys"))
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="example.com")
    fixed = FixedClock(MONDAY)
    use_clock(fixed)
    bootstrap.reset()
    wiring.catalog.cache_clear()
    yield fixed
    use_clock(None)
    bootstrap.reset()
    wiring.catalog.cache_clear()


def _context() -> LambdaContext:
    return LambdaContext(
        function_name="Baton-ScheduleFunction",
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:Baton-ScheduleFunction",
        memory_limit_in_mb=512,
        aws_request_id="req-1",
        timeout_s=15,
    )


def _fire(clock: FixedClock, at: datetime) -> dict[str, Any]:
    clock.set(at)
    event = {"digest": "review", "scheduled_time": at.strftime("%Y-%m-%dT%H:%M:%SZ")}
    return schedule.handler(event, _context())


def _mail() -> list[tuple[str, EmailMessage]]:
    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    return [
        (sent.destinations[0], cast(EmailMessage, message_from_string(sent.raw_data, policy=default)))
        for sent in backend.sent_messages
    ]


def _listed(message: EmailMessage) -> list[str]:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    return [line.split(". ", 1)[1] for line in text.splitlines() if line[:1].isdigit() and ". " in line]


def test_each_owner_with_something_due_gets_one_digest_of_exactly_their_entries(clock: FixedClock) -> None:
    report = _fire(clock, MONDAY)

    mail = dict(_mail())
    assert sorted(mail) == [GROWTH, SENDER]  # ops@ and cx-team@ have nothing due: no mail
    assert _listed(mail[GROWTH]) == ["journey/welcome/hello", "journey/welcome/tip"]
    assert all(entry.startswith("builtin/") for entry in _listed(mail[SENDER]))
    assert "builtin/review-digest" in _listed(mail[SENDER])
    assert mail[GROWTH]["Subject"] == "Baton review digest, week 2027-W10: 2 automations need you"
    assert mail[GROWTH]["From"].addresses[0].addr_spec == SENDER
    assert (report["week"], report["owners"], report["sent"]) == ("2027-W10", 2, 2)
    # and the inventory counts both as the digest's sends
    entries = {e.id: e for e in wiring.inventory_service(bootstrap.services()).entries().items}
    assert entries["builtin/review-digest"].last_7_days.sent == 2


def test_a_second_firing_in_the_same_week_sends_nothing_and_the_next_week_sends_again(
    clock: FixedClock,
) -> None:
    _fire(clock, MONDAY)
    retried = _fire(clock, MONDAY)  # Scheduler retries the same firing
    wednesday = _fire(clock, datetime(2027, 3, 10, 8, tzinfo=UTC))  # fired twice in one week

    assert len(_mail()) == 2
    assert (
        (retried["sent"], retried["already_sent"]) == (0, 2) == (wednesday["sent"], wednesday["already_sent"])
    )

    next_week = _fire(clock, datetime(2027, 3, 15, 8, tzinfo=UTC))

    assert next_week["week"] == "2027-W11"
    assert sorted(to for to, _ in _mail()[2:]) == [GROWTH, SENDER]


def test_orphaned_entries_go_to_the_fallback_owner_and_not_to_their_own(
    clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given only growth@ and the fallback owner are known owners: ops@ and cx-team@ are orphaned
    inventory = {"fallbackOwner": "owners@example.com", "knownOwners": [GROWTH, "owners@example.com"]}
    monkeypatch.setenv("BATON_INVENTORY", json.dumps(inventory))
    bootstrap.reset()

    _fire(clock, MONDAY)

    mail = dict(_mail())
    assert sorted(mail) == [GROWTH, "owners@example.com"]
    listed = _listed(mail["owners@example.com"])
    assert "journey/order-shipped/notify" in listed  # ops@'s, orphaned
    assert any(entry.startswith("journey/support-follow-up/") for entry in listed)  # cx-team@'s
    assert not any(entry.startswith("journey/welcome/") for entry in listed)  # growth@'s own


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"digest": "weekly", "scheduled_time": "2027-03-08T08:00:00Z"}, "digest"),
        ({"digest": "review", "scheduled_time": "Monday"}, "scheduled_time"),
        ({"digest": "review"}, "scheduled_time"),
        ({"scheduled_time": "2027-03-08T08:00:00Z"}, "journey"),
        ({"digest": "review", "journey": "welcome", "scheduled_time": "2027-03-08T08:00:00Z"}, "digest"),
        ({"digest": "review", "scheduled_time": "2027-03-08T08:00:00Z", "email": "ana@example.com"}, "email"),
    ],
)
def test_a_bad_input_is_an_error_naming_the_field_that_quotes_nothing_and_sends_nothing(
    clock: FixedClock, event: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidFiring) as raised:
        schedule.handler(event, _context())

    assert raised.value.field == field
    assert "ana@" not in str(raised.value)
    assert "Monday" not in str(raised.value)
    assert _mail() == []
