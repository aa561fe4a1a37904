"""The back office's consent changes follow the same rules as the person's own: a revocation
covers all marketing on the channel unless the deployment scopes it to one topic (R-TCPA-6),
and an SMS opt-in an agent records gets its one confirmation text (R-CTIA-3)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from baton import bootstrap
from baton.consent.vocabulary import Channel, ConsentStatus
from baton.settings import Settings
from tests.integration import handler_calls
from tests.integration.handler_calls import Baton

CONSENTS = "/v1/contacts/ana/consents"
PHONE = "+14255550182"
PROOF = {
    "consent_text": "News and offers, please.",
    "actor": "agent:maria",
    "obtained_at": "2026-01-05T10:00:00Z",
}


def _stack(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> Baton:
    stack = handler_calls.start_with_ana(aws, monkeypatch)
    for channel in ("email", "sms"):
        for topic in ("news", "offers"):
            body = {"channel": channel, "topic": topic, "status": "granted", "proof": PROOF}
            assert stack.call("POST", CONSENTS, body).status == 201
    return stack


@pytest.fixture
def baton(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Baton]:
    yield _stack(aws, monkeypatch)
    handler_calls.stop()


def _status(channel: Channel, topic: str) -> ConsentStatus | None:
    state = bootstrap.services().consent.state("ana", channel, topic)
    return state.status if state else None


def _revoke(baton: Baton, **fields: Any) -> None:
    body = {"channel": "email", "topic": "news", "status": "revoked", **fields}
    assert baton.call("POST", CONSENTS, body).status == 201


def _texts() -> list[str]:
    messages = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages.values()
    return [text for number, text, *_ in messages if number == PHONE]


def test_r_tcpa_6_an_agents_revocation_stops_all_marketing_on_the_channel(baton: Baton) -> None:
    _revoke(baton, proof={"note": "asked not to be emailed"})

    assert _status(Channel.EMAIL, "news") == ConsentStatus.REVOKED
    assert _status(Channel.EMAIL, "offers") == ConsentStatus.REVOKED
    assert _status(Channel.SMS, "offers") == ConsentStatus.GRANTED  # another channel: its own choice


def test_r_tcpa_6_a_deployment_may_scope_a_revocation_to_its_topic(
    aws: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATON_OPT_OUT_SCOPE", "topic")
    baton = _stack(aws, monkeypatch)
    try:
        _revoke(baton)

        assert _status(Channel.EMAIL, "news") == ConsentStatus.REVOKED
        assert _status(Channel.EMAIL, "offers") == ConsentStatus.GRANTED
    finally:
        handler_calls.stop()


def test_r_ctia_3_an_sms_opt_in_an_agent_records_gets_one_confirmation(baton: Baton) -> None:
    confirmations = _texts()
    again = {"channel": "sms", "topic": "news", "status": "granted", "proof": PROOF}

    assert len(confirmations) == 1  # two SMS topics granted: one opt-in, one confirmation
    assert "You are subscribed to text messages. Up to 3 msgs/week." in confirmations[0]
    assert "STOP" in confirmations[0]
    assert baton.call("POST", CONSENTS, again).status in (200, 201)
    assert _texts() == confirmations  # the same grant again: nothing new to confirm
