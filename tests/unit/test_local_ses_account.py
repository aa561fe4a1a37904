"""Local mode's SES v2 `GetAccount` (moto has none): a production account whose sent count is
what moto has sent, for every client made while it is active, and never over a test's Stubber."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from infra.local.ses_account import PRODUCTION_QUOTA, PRODUCTION_RATE, LocalSesAccount, answering_get_account

REGION = "us-east-1"


@pytest.fixture
def local_ses(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalSesAccount]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with answering_get_account() as account, mock_aws():
        yield account


def _sesv2() -> Any:
    return boto3.client("sesv2", region_name=REGION)


def test_get_account_answers_a_production_account_counting_what_moto_sent(local_ses: LocalSesAccount) -> None:
    client = _sesv2()
    client.create_email_identity(EmailIdentity="acme.example")
    client.send_email(
        FromEmailAddress="news@acme.example",
        Destination={"ToAddresses": ["ana@example.com"]},
        Content={"Simple": {"Subject": {"Data": "Hi"}, "Body": {"Text": {"Data": "Hello"}}}},
    )

    account = _sesv2().get_account()

    assert account["ProductionAccessEnabled"] is True
    assert account["SendingEnabled"] is True
    assert account["SendQuota"] == {
        "Max24HourSend": PRODUCTION_QUOTA,
        "MaxSendRate": PRODUCTION_RATE,
        "SentLast24Hours": 1.0,
    }


def test_a_test_can_turn_the_account_into_a_used_up_sandbox(local_ses: LocalSesAccount) -> None:
    local_ses.production_access = False
    local_ses.sent_before = 200

    account = _sesv2().get_account()

    assert account["ProductionAccessEnabled"] is False
    assert account["SendQuota"]["SentLast24Hours"] == 200.0


def test_a_stubbed_client_gets_its_own_answer(local_ses: LocalSesAccount) -> None:
    client = _sesv2()
    with Stubber(client) as stubber:
        stubber.add_client_error("get_account", "TooManyRequestsException", http_status_code=429)
        with pytest.raises(ClientError, match="TooManyRequestsException"):
            client.get_account()


def test_outside_the_context_get_account_is_moto_s_again(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with answering_get_account():
        pass
    with mock_aws(), pytest.raises(NotImplementedError, match="get_account"):
        _sesv2().get_account()  # moto's own answer: not implemented
