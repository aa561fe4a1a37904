"""Proof or no consent (R-TCPA-1, R-GDPR-2, R-LGPD-1): a marketing grant from the back office
names the words the person agreed to and, from an agent or an import, who recorded it and when
the person agreed; anything less is a 422 naming the field and writes nothing. Implied consent
and soft opt-in expire from the day the person agreed or bought (R-CASL-1, R-EPR-1)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from baton import bootstrap
from baton.consent.vocabulary import Channel
from baton.delivery.gate import Reason
from baton.settings import Settings
from tests.integration import handler_calls
from tests.integration.conftest import marketing_email
from tests.integration.handler_calls import Baton

CONSENTS = "/v1/contacts/ana/consents"
WORDS = {"consent_text": "Send me offers by email and text."}
AGENT = {"actor": "agent:maria", "obtained_at": "2026-01-05T10:00:00Z"}


@pytest.fixture
def baton(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Baton]:
    yield handler_calls.start_with_ana(aws, monkeypatch)
    handler_calls.stop()


def _grant(channel: str = "sms", **fields: Any) -> dict[str, Any]:
    return {"channel": channel, "topic": "news", "status": "granted", **fields}


def _refused_naming(baton: Baton, body: dict[str, Any], field: str) -> None:
    """The grant is a 422 naming `field`, and nothing was written."""
    before = baton.snapshot()

    answer = baton.call("POST", CONSENTS, body)

    assert answer.status == 422, answer
    assert answer.fields == {field}
    assert baton.snapshot() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_grant(), "proof.consent_text"),  # an agent grant with an empty proof
        (_grant(proof={"note": "said yes on the phone", **AGENT}), "proof.consent_text"),
        (_grant(source="import", proof={**WORDS, "obtained_at": "2026-01-05T10:00:00Z"}), "proof.actor"),
        (_grant(proof={**WORDS, "actor": "agent:maria"}), "proof.obtained_at"),
        (_grant(proof={**WORDS, **AGENT, "obtained_at": "2099-01-01T00:00:00Z"}), "proof.obtained_at"),
        (_grant(basis="soft_opt_in", source="import", proof={**WORDS, **AGENT}), "basis"),
        (_grant("email", basis="soft_opt_in", source="form", proof={**WORDS}), "source"),
    ],
)
def test_r_tcpa_1_a_grant_without_its_proof_is_422_naming_the_field_and_writes_nothing(
    baton: Baton, body: dict[str, Any], field: str
) -> None:
    _refused_naming(baton, body, field)


def test_r_gdpr_2_a_grant_with_its_proof_is_recorded_with_it(baton: Baton) -> None:
    answer = baton.call("POST", CONSENTS, _grant(proof={**WORDS, **AGENT}))

    assert answer.status == 201, answer
    proof = answer.body["entry"]["proof"]
    assert (proof["consent_text"], proof["actor"], proof["obtained_at"]) == (
        WORDS["consent_text"],
        "agent:maria",
        "2026-01-05T10:00:00.000000Z",  # stored as every timestamp is: fixed-width UTC
    )


@pytest.mark.parametrize(
    ("source", "proof", "field"),
    [
        ("agent", {**WORDS, "obtained_at": "2026-01-05T10:00:00Z"}, "proof.actor"),
        ("import", {**WORDS, "actor": "crm-import"}, "proof.obtained_at"),
    ],
)
def test_r_gdpr_2_a_grant_recorded_elsewhere_names_who_recorded_it_and_when(
    baton: Baton, source: str, proof: dict[str, Any], field: str
) -> None:
    # The person agreed somewhere Baton did not see: who vouches for it, and from when.
    _refused_naming(baton, _grant("email", source=source, proof=proof), field)


def test_a_text_version_names_the_words_instead_of_the_text(baton: Baton) -> None:
    body = _grant(source="import", proof={"text_version": "checkout-v2", **AGENT})

    assert baton.call("POST", CONSENTS, body).status == 201


def test_a_revocation_needs_no_proof(baton: Baton) -> None:
    revoked = {"channel": "sms", "topic": "news", "status": "revoked"}

    assert baton.call("POST", CONSENTS, revoked).status == 201


def test_r_casl_1_implied_consent_expires_two_years_from_the_purchase_not_from_the_import(
    baton: Baton,
) -> None:
    bought = datetime.now(UTC) - timedelta(days=800)  # the import is today, the sale long ago
    proof = {**WORDS, "actor": "crm-import", "obtained_at": bought.isoformat()}
    body = _grant("email", basis="implied_purchase", source="import", proof=proof)
    assert baton.call("POST", CONSENTS, body).status == 201

    services = bootstrap.services()
    state = services.consent.state("ana", Channel.EMAIL, "news")
    assert state is not None
    assert state.granted_at is not None
    assert abs(state.granted_at - bought) < timedelta(seconds=1)  # the sale's day, not the import's
    message = marketing_email("ana@example.com")
    result = services.dispatcher.send("ana", message)

    assert not result.sent
    assert (result.reason, result.rule) == (Reason.CONSENT_EXPIRED, "R-CASL-1")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel": "email", "status": "granted", "proof": {**WORDS, **AGENT}}, "topic"),
        (_grant("email", proof={"note": "agreed to everything", **AGENT}), "proof.consent_text"),
    ],
)
def test_r_lgpd_1_consent_names_its_purpose_and_its_words_or_is_void(
    baton: Baton, body: dict[str, Any], field: str
) -> None:
    # Generic consent is void: a grant without its topic, or without what the person was told.
    _refused_naming(baton, body, field)


def test_r_epr_1_a_soft_opt_in_is_email_from_a_sale_and_ends_two_years_after_it(baton: Baton) -> None:
    services = bootstrap.services()

    def soft_opt_in(channel: str, source: str, days_ago: int) -> int:
        sold = datetime.now(UTC) - timedelta(days=days_ago)
        proof = {**WORDS, "actor": "crm-import", "obtained_at": sold.isoformat()}
        body = _grant(channel, basis="soft_opt_in", source=source, proof=proof)
        return baton.call("POST", CONSENTS, body).status

    assert soft_opt_in("sms", "import", 10) == 422  # email only
    assert soft_opt_in("email", "form", 10) == 422  # from a sale the back office records
    assert soft_opt_in("email", "import", 800) == 201  # a sale long ago
    result = services.dispatcher.send("ana", marketing_email("ana@example.com"))
    assert not result.sent
    assert (result.reason, result.rule) == (Reason.CONSENT_EXPIRED, "R-CASL-1")

    assert soft_opt_in("email", "import", 10) == 201  # a new sale renews it
    assert services.dispatcher.send("ana", marketing_email("ana@example.com")).sent
