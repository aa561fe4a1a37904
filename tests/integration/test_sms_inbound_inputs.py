"""A STOP is honoured whatever else the text holds: a half emoji, nothing but spaces, or a
failure later in the handling; and a failed message is raised for SNS and Lambda to retry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from baton import bootstrap
from baton.consent.vocabulary import Channel, ConsentStatus
from baton.settings import Settings
from baton.timeline.models import TimelineKind
from baton.timeline.service import TimelineService
from tests.integration import handler_calls
from tests.integration.handler_calls import Baton

PHONE = "+14255550182"


@pytest.fixture
def baton(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Baton]:
    stack = handler_calls.start(aws, monkeypatch)
    assert stack.call("PUT", "/v1/contacts/ana", {"phone": PHONE, "locale": "en"}).status == 201
    granted = {
        "channel": "sms",
        "topic": "news",
        "status": "granted",
        "proof": {
            "note": "said yes on the phone",
            "actor": "agent:maria",
            "consent_text": "Texts about news, up to 4 a month.",
            "obtained_at": "2026-01-05T10:00:00Z",
        },
    }
    assert stack.call("POST", "/v1/contacts/ana/consents", granted).status == 201
    yield stack
    handler_calls.stop()


def _sms_status() -> ConsentStatus | None:
    state = bootstrap.services().consent.state("ana", Channel.SMS, "news")
    return state.status if state else None


def _suppressed() -> bool:
    return bootstrap.services().suppression.check(Channel.SMS, PHONE) is not None


def _replies() -> list[dict[str, Any]]:
    return [dict(e.detail) for e in bootstrap.services().timeline.all("ana") if e.kind == "inbound.reply"]


@pytest.mark.parametrize("body", ["STOP \ud83d", "\udc00STOP", "stop \ud83d\ude00", " STOP\t\n"])
def test_a_stop_with_a_broken_emoji_or_stray_spaces_revokes_and_suppresses_the_number(
    baton: Baton, body: str
) -> None:
    texts_before = baton.snapshot()["texts"]

    baton.text_in(PHONE, body, "in-1")

    assert _sms_status() == ConsentStatus.REVOKED
    assert _suppressed()
    assert baton.snapshot()["texts"] == texts_before + 1  # the one confirmation (R-TCPA-5)
    (reply,) = _replies()
    assert reply["keyword"] == "opt_out"
    assert "\ud83d" not in reply["text"]


@pytest.mark.parametrize("body", ["   ", "\t\n", "\ud83d", "", None])
def test_a_text_of_only_spaces_or_half_an_emoji_is_recorded_as_other_and_changes_no_consent(
    baton: Baton, body: str | None
) -> None:
    texts_before = baton.snapshot()["texts"]

    answer = baton.text_in(PHONE, body, "in-1")  # type: ignore[arg-type]

    assert answer["handled"][0]["keyword"] == "other"
    assert _sms_status() == ConsentStatus.GRANTED
    assert not _suppressed()
    assert baton.snapshot()["texts"] == texts_before
    assert [reply["keyword"] for reply in _replies()] == ["other"]


def test_a_stop_whose_handling_fails_later_is_raised_and_the_retry_keeps_the_revocation(
    baton: Baton, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given recording the inbound text fails on the first delivery of a STOP
    record = TimelineService.record
    failures = [RuntimeError("timeline unavailable")]

    def flaky(self: TimelineService, contact_id: str, kind: str, *args: Any, **kwargs: Any) -> Any:
        if failures and kind == TimelineKind.INBOUND_REPLY:
            raise failures.pop()
        return record(self, contact_id, kind, *args, **kwargs)

    monkeypatch.setattr(TimelineService, "record", flaky)

    # when SNS delivers it, the handler fails (so Lambda retries, then the DLQ) ...
    with pytest.raises(RuntimeError):
        baton.text_in(PHONE, "STOP", "in-1")
    # ... but the opt-out is already in force
    assert _sms_status() == ConsentStatus.REVOKED
    assert _suppressed()

    # and the retry of the same message completes without undoing it
    answer = baton.text_in(PHONE, "STOP", "in-1")
    assert answer["handled"][0]["keyword"] == "opt_out"
    assert _sms_status() == ConsentStatus.REVOKED
    assert _suppressed()
    assert [reply["keyword"] for reply in _replies()] == ["opt_out"]
