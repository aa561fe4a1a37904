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
from baton.delivery.gate import Reason
from baton.delivery.message import OutboundMessage, Purpose
from baton.settings import Settings
from tests.integration.conftest import marketing_email

_READS = {"GetItem", "Query", "BatchGetItem", "Scan"}


def _capturing_reads() -> list[tuple[str, str, Any]]:
    """Every DynamoDB read of clients made from now on: (operation, table, ConsistentRead)."""
    reads: list[tuple[str, str, Any]] = []

    def capture(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in _READS:
            reads.append((model.name, str(params.get("TableName")), params.get("ConsistentRead")))

    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("provide-client-params.dynamodb", capture)
    return reads


def test_r_tcpa_4_every_consent_and_suppression_read_of_a_send_is_strongly_consistent(
    aws: Settings, clock: FixedClock
) -> None:
    boto3.client("sesv2").create_email_identity(EmailIdentity="example.com")
    reads = _capturing_reads()
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


def test_r_br_1_the_list_is_read_strongly_consistent_and_only_for_marketing_texts_and_calls_to_brazil(
    aws: Settings, clock: FixedClock
) -> None:
    reads = _capturing_reads()
    services = build(Settings(), clock)  # clients made now carry the hook
    services.do_not_contact.load("br_nao_me_perturbe", ["+5511912345678"])
    listed = OutboundMessage.sms(to="+5511912345678", purpose=Purpose.MARKETING, text="Oferta", topic="news")
    elsewhere = [
        OutboundMessage.sms(to="+14255550182", purpose=Purpose.MARKETING, text="Offer", topic="news"),
        OutboundMessage.sms(to="+5511912345678", purpose=Purpose.TRANSACTIONAL, text="Code 1"),
        marketing_email("ana@example.com"),
    ]
    reads.clear()

    decision = services.dispatcher.check(None, listed)
    list_reads = [read for read in reads if read[1] == aws.do_not_contact_table]
    reads.clear()
    for message in elsewhere:
        services.dispatcher.check(None, message)

    assert decision.reason == Reason.DO_NOT_CONTACT_LIST
    assert list_reads
    assert [read for read in list_reads if read[2] is not True] == []
    assert [read for read in reads if read[1] == aws.do_not_contact_table] == []


@pytest.fixture(autouse=True)
def _no_hook_left() -> Any:
    yield
    boto3.DEFAULT_SESSION = None  # the next test's clients start without the capture
