"""R-TCPA-4: the gate reads consent and suppression with strongly consistent reads at send
time, so a revocation written a moment ago is seen by the very next send (every read of the
send's path to those tables is checked, and there must be some)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from baton.bootstrap import build
from baton.clock import FixedClock
from baton.consent.models import ConsentProof
from baton.consent.vocabulary import Channel, Source
from baton.contacts.models import ContactInput
from baton.settings import Settings
from tests.integration.conftest import marketing_email

_READS = {"GetItem", "Query", "BatchGetItem", "Scan"}


def test_r_tcpa_4_every_consent_and_suppression_read_of_a_send_is_strongly_consistent(
    aws: Settings, clock: FixedClock
) -> None:
    boto3.client("sesv2").create_email_identity(EmailIdentity="example.com")
    reads: list[tuple[str, str, Any]] = []

    def capture(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in _READS:
            reads.append((model.name, str(params.get("TableName")), params.get("ConsistentRead")))

    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("provide-client-params.dynamodb", capture)
    services = build(Settings(), clock)  # clients made now carry the hook
    services.contacts.upsert("ana", ContactInput(email="ana@example.com", locale="en"))
    services.consent.grant(
        "ana",
        Channel.EMAIL,
        "news",
        source=Source.AGENT,
        address="ana@example.com",
        proof=ConsentProof(consent_text="News, please.", actor="agent:maria"),
    )
    message = marketing_email("ana@example.com")
    reads.clear()

    assert services.dispatcher.send("ana", message).sent

    gate_reads = [read for read in reads if read[1] in (aws.consent_table, aws.suppression_table)]
    assert {table for _, table, _ in gate_reads} == {aws.consent_table, aws.suppression_table}
    assert [read for read in gate_reads if read[2] is not True] == []


@pytest.fixture(autouse=True)
def _no_hook_left() -> Any:
    yield
    boto3.DEFAULT_SESSION = None  # the next test's clients start without the capture
