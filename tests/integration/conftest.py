"""An embedded AWS for integration tests: moto with Baton's tables and secrets, BATON_* set.

`aws` creates every table in `baton.data.tables.ALL_TABLES` (names from Settings), every
dead-letter queue the settings name and the two secrets, points the BATON_* env vars at them and
drops every cached client, setting and secret. The service fixtures wire the data plane the way
a Lambda does, on a fixed clock. `journeys_on_moto` runs compiled journeys in moto's Step
Functions on a virtual clock.
"""

from __future__ import annotations

import secrets as stdlib_secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws
from moto.core.config import default_user_config

import baton.aws
import baton.secrets
from baton import bootstrap
from baton.clock import FixedClock, SystemClock, process_clock, use_clock
from baton.consent.repository import DynamoConsentRepository
from baton.consent.service import ConsentService
from baton.contacts.repository import DynamoContactRepository
from baton.contacts.service import ContactService
from baton.data import dead_letters
from baton.data.tables import ALL_TABLES
from baton.delivery.message import OutboundMessage, Purpose
from baton.settings import Settings, dead_letter_queue_fields, get_settings
from baton.suppression.repository import DynamoSuppressionRepository
from baton.suppression.service import SuppressionService
from baton.timeline.repository import DynamoTimelineRepository
from baton.timeline.service import TimelineService
from infra.local.clock import VirtualClock
from infra.local.ses_account import answering_get_account
from tests.integration.journeys import REGION, JourneysOnMoto

START = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """moto with every Baton table and both secrets; yields the Settings that name them."""
    for variable, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
    }.items():
        monkeypatch.setenv(variable, value)
    # moto lacks SES v2 GetAccount, which every email reads first (R-SES-1): the local answer.
    with answering_get_account(), mock_aws():
        baton.aws.reset()
        baton.secrets.reset()
        get_settings.cache_clear()
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        for spec in ALL_TABLES:
            name = f"baton-test-{spec.id}"
            dynamodb.create_table(**spec.create_request(name))
            monkeypatch.setenv(f"BATON_{spec.id.upper()}_TABLE", name)
        sqs = boto3.client("sqs", region_name=REGION)
        for field in dead_letter_queue_fields():
            url = sqs.create_queue(QueueName=f"baton-test-{field.replace('_', '-')}")["QueueUrl"]
            monkeypatch.setenv(f"BATON_{field.upper()}", url)
        # moto answers a short poll from the whole queue; its long poll only waits the wall clock.
        monkeypatch.setattr(dead_letters, "WAIT_SECONDS", 0)
        secretsmanager = boto3.client("secretsmanager", region_name=REGION)
        for variable, name in {
            "BATON_TOKEN_SECRET_ARN": "baton-test-token-key",
            "BATON_SUPPRESSION_SALT_SECRET_ARN": "baton-test-suppression-salt",
        }.items():
            arn = secretsmanager.create_secret(Name=name, SecretString=stdlib_secrets.token_hex(32))["ARN"]
            monkeypatch.setenv(variable, arn)
        get_settings.cache_clear()
        yield get_settings()
        baton.aws.reset()
        baton.secrets.reset()
        get_settings.cache_clear()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def timeline(aws: Settings, clock: FixedClock) -> TimelineService:
    return TimelineService(DynamoTimelineRepository(aws.timeline_table), clock)


@pytest.fixture
def consent(aws: Settings, timeline: TimelineService, clock: FixedClock) -> ConsentService:
    return ConsentService(DynamoConsentRepository(aws.consent_table), timeline, clock)


@pytest.fixture
def suppression(aws: Settings, clock: FixedClock) -> SuppressionService:
    return SuppressionService(
        DynamoSuppressionRepository(aws.suppression_table), lambda: baton.secrets.suppression_salt(aws), clock
    )


@pytest.fixture
def contacts(
    aws: Settings,
    consent: ConsentService,
    timeline: TimelineService,
    suppression: SuppressionService,
    clock: FixedClock,
) -> ContactService:
    return ContactService(DynamoContactRepository(aws.contacts_table), consent, timeline, suppression, clock)


def marketing_email(to: str, topic: str = "news") -> OutboundMessage:
    """A marketing email the gate may let through: a topic and a one-click unsubscribe URL."""
    unsubscribe = "https://api.example/v1/unsubscribe/tok.sig"
    return OutboundMessage.email(
        to=to,
        purpose=Purpose.MARKETING,
        subject="May news",
        text=f"News. Unsubscribe: {unsubscribe}",
        topic=topic,
        unsubscribe_url=unsubscribe,
    )


@pytest.fixture
def journeys_on_moto(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[JourneysOnMoto]:
    """Journeys to `deploy` into moto's executing Step Functions, run by the local stack's
    scheduler (see tests/integration/journeys.py). The virtual clock starts at START and is
    Baton's process clock until the test ends: services built from now on read it."""
    monkeypatch.setitem(default_user_config, "stepfunctions", {"execute_state_machine": True})
    # Lambda without Docker: the backend whose invoke the local stack runs in this process.
    monkeypatch.setitem(default_user_config, "lambda", {"use_docker": False})
    previous = process_clock()
    clock = VirtualClock(START)
    use_clock(clock)
    bootstrap.reset()
    journeys = JourneysOnMoto(clock)
    try:
        yield journeys
    finally:
        journeys.close()
        use_clock(None if isinstance(previous, SystemClock) else previous)
        bootstrap.reset()
