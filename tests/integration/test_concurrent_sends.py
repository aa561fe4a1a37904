"""Counted send rules under concurrency: many journey executions send to ONE contact at the
same moment, or one number's STOP texts are handled at the same moment, each in its own thread
with its own boto3 clients (as separate Lambda invocations would), against DynamoDB on moto;
the frequency cap still holds exactly, and an opt-out is still confirmed once (R-TCPA-5).

DynamoDB applies each conditional write to an item atomically; moto evaluates the condition
and then writes without a lock, so two threads could interleave where DynamoDB cannot. The
`atomic_writes` fixture gives moto that one guarantee (and a test below shows it does), so a
test can only fail here for a reason that would fail on AWS too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from email import message_from_string
from email.policy import default
from functools import partial
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import DynamoDBBackend
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

import baton.aws
from baton import bootstrap
from baton.clock import FixedClock
from baton.consent.vocabulary import Basis, Channel, Source
from baton.contacts.models import ContactInput
from baton.inbound.models import InboundSms
from baton.inbound.service import InboundResult, InboundSmsService
from baton.runner import wiring
from baton.runner.models import StepRequest
from baton.settings import Settings, get_settings
from baton.suppression.models import SuppressionEntry
from baton.suppression.repository import DynamoSuppressionRepository
from baton.timeline.models import TimelineEvent
from baton.triggers.subjects import DynamoSubjectRepository
from tests.integration.conftest import REGION, START
from tests.subjects import subject_of

EMAIL = "ana@example.com"
PHONE = "+12125550100"
THREADS = 20

JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"  # the shipped catalog


@pytest.fixture
def atomic_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's DynamoDB writes, one at a time: a condition and its write happen together."""
    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        def serialized(*args: Any, _original: Callable[..., Any] = original, **kwargs: Any) -> Any:
            with lock:
                return _original(*args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, serialized)


class _ThreadClients:
    """A client factory like `baton.aws.client`, but each thread makes its own clients."""

    def __init__(self) -> None:
        self._local = threading.local()

    def __call__(self, service: str) -> Any:
        clients: dict[str, Any] = self._local.__dict__.setdefault("clients", {})
        if service not in clients:
            clients[service] = boto3.client(service, region_name=REGION)  # type: ignore[call-overload]
        return clients[service]

    def cache_clear(self) -> None:
        self._local = threading.local()


@pytest.fixture
def own_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every thread makes its own boto3 clients, as separate Lambda invocations would."""
    monkeypatch.setattr(baton.aws, "client", _ThreadClients())
    monkeypatch.setattr(baton.aws, "delivery_client", _ThreadClients())


@pytest.fixture
def lambda_env(
    aws: Settings,
    atomic_writes: None,
    own_clients: None,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[bootstrap.Services]:
    monkeypatch.setenv("BATON_JOURNEYS_DIR", str(JOURNEYS))
    monkeypatch.setenv("BATON_PUBLIC_BASE_URL", "https://baton.example.com")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    bootstrap.reset()
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="example.com")
    services = bootstrap.build(get_settings(), clock)
    services.contacts.upsert("c-1", ContactInput(email=EMAIL, first_name="Ana", locale="en"))
    services.consent.grant(
        "c-1", Channel.EMAIL, "offers", source=Source.IMPORT, basis=Basis.EXPRESS, address=EMAIL
    )
    yield services
    bootstrap.reset()


def _request(services: bootstrap.Services, number: int) -> StepRequest:
    """One execution's send task to the contact; whom it is about is recorded as a trigger does."""
    name = f"lead-nurture-{number:04d}"
    execution = f"arn:aws:states:{REGION}:123456789012:execution:Baton-lead-nurture:{name}"
    DynamoSubjectRepository(services.settings.subjects_table).add(
        subject_of(execution, "c-1", "lead-nurture", "lead.created")
    )
    return StepRequest.model_validate(
        {"action": "send", "journey": "lead-nurture", "step": "intro", "execution": execution, "steps": {}}
    )


Job = Callable[[bootstrap.Services], Callable[[], Any]]  # given a thread's services, its work


def _in_parallel(settings: Settings, clock: FixedClock, jobs: list[Job]) -> list[Any]:
    """Each job in its own thread, with its own services and clients, all released together by
    a barrier once every thread is ready."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def task(index: int) -> None:
        try:
            work = jobs[index](bootstrap.build(settings, clock))
            barrier.wait()
            results[index] = work()
        except Exception as exc:  # reported by the assertions below, not lost in the thread
            results[index] = exc

    threads = [threading.Thread(target=task, args=(index,)) for index in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _send_in_parallel(settings: Settings, clock: FixedClock, requests: list[StepRequest]) -> list[Any]:
    """Each journey send task in its own thread, with its own runner."""

    def job(request: StepRequest) -> Job:
        return lambda services: partial(wiring.build(services)[0].handle, request)

    return _in_parallel(settings, clock, [job(request) for request in requests])


def _emails() -> list[Any]:
    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    return [message_from_string(sent.raw_data, policy=default) for sent in backend.sent_messages]


def _timeline(services: bootstrap.Services, kind: str) -> list[TimelineEvent]:
    return [event for event in services.timeline.all("c-1") if event.kind == kind]


def test_twenty_parallel_marketing_sends_to_one_contact_deliver_exactly_the_cap_of_three(
    lambda_env: bootstrap.Services, clock: FixedClock
) -> None:
    # given the default cap (3 marketing messages per 7 days) and a contact who may get email,
    # when 20 executions send to that contact at the same moment
    results = _send_in_parallel(lambda_env.settings, clock, [_request(lambda_env, n) for n in range(THREADS)])

    # then exactly 3 go out and 17 are refused by the cap, and the timeline says the same
    assert [r for r in results if not isinstance(r, dict)] == []
    outcomes = sorted((r["outcome"], r.get("reason")) for r in results)
    assert outcomes == [("sent", None)] * 3 + [("skipped", "frequency_cap")] * (THREADS - 3)
    assert len(_emails()) == 3
    assert len(_timeline(lambda_env, "message.sent")) == 3
    refused = _timeline(lambda_env, "message.refused")
    assert [event.detail["reason"] for event in refused] == ["frequency_cap"] * (THREADS - 3)


def test_the_cap_counts_the_parallel_sends_a_week_later_too(
    lambda_env: bootstrap.Services, clock: FixedClock
) -> None:
    # given 3 sends that went out in parallel
    _send_in_parallel(lambda_env.settings, clock, [_request(lambda_env, n) for n in range(5)])

    # when a day later 5 more try at once, nothing goes out; when the week is over, 3 more do
    clock.set(START + timedelta(days=1))
    next_day = _send_in_parallel(
        lambda_env.settings, clock, [_request(lambda_env, n) for n in range(100, 105)]
    )
    clock.set(START + timedelta(days=7, seconds=1))
    next_week = _send_in_parallel(
        lambda_env.settings, clock, [_request(lambda_env, n) for n in range(200, 205)]
    )

    assert [r["reason"] for r in next_day] == ["frequency_cap"] * 5
    assert sorted(r["outcome"] for r in next_week) == ["sent"] * 3 + ["skipped"] * 2
    assert len(_emails()) == 6


def test_atomic_writes_let_exactly_one_of_many_parallel_conditional_puts_create_an_item(
    aws: Settings, atomic_writes: None, own_clients: None
) -> None:
    # the guarantee the fixture above gives moto: DynamoDB's, for one item
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []

    def put(number: int) -> None:
        client = baton.aws.client("dynamodb")
        barrier.wait()
        try:
            client.put_item(
                TableName=aws.runs_table,
                Item={"contact_id": {"S": "c-1"}, "sk": {"S": "one"}, "n": {"N": str(number)}},
                ConditionExpression="attribute_not_exists(contact_id)",
            )
        except ClientError as exc:
            outcomes.append(exc.response["Error"]["Code"])
        else:
            outcomes.append("created")

    threads = [threading.Thread(target=put, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["ConditionalCheckFailedException"] * (THREADS - 1) + ["created"]


class _FirstReadsTogether:
    """Holds each thread's first suppression read until every thread has read or is done, so
    the handlers all read before any of them writes: the interleaving that lets two of them see
    "not opted out yet", made certain rather than left to the scheduler."""

    def __init__(self, threads: int) -> None:
        self._threads = threads
        self._arrived = 0
        self._condition = threading.Condition()
        self._local = threading.local()

    def read(self) -> None:
        if self._arrive():
            with self._condition:
                self._condition.wait_for(lambda: self._arrived >= self._threads)

    def done(self) -> None:
        self._arrive()

    def _arrive(self) -> bool:
        if getattr(self._local, "arrived", False):
            return False
        self._local.arrived = True
        with self._condition:
            self._arrived += 1
            self._condition.notify_all()
        return True


def test_r_tcpa_5_stop_texts_handled_at_the_same_time_get_one_confirmation(
    lambda_env: bootstrap.Services, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a contact with SMS consent who sends STOP several times, handled all at once
    lambda_env.contacts.upsert("c-1", ContactInput(email=EMAIL, phone=PHONE, first_name="Ana", locale="en"))
    lambda_env.consent.grant(
        "c-1", Channel.SMS, "offers", source=Source.IMPORT, basis=Basis.EXPRESS, address=PHONE
    )
    texts = [
        InboundSms(originationNumber=PHONE, messageBody="STOP", inboundMessageId=f"in-{n}") for n in range(8)
    ]
    together = _FirstReadsTogether(len(texts))
    read = DynamoSuppressionRepository.get

    def held_read(self: DynamoSuppressionRepository, address_hash: str) -> SuppressionEntry | None:
        together.read()
        return read(self, address_hash)

    monkeypatch.setattr(DynamoSuppressionRepository, "get", held_read)

    def job(sms: InboundSms) -> Job:
        def prepare(services: bootstrap.Services) -> Callable[[], InboundResult]:
            def work() -> InboundResult:
                try:
                    return InboundSmsService(services).handle(sms)
                finally:
                    together.done()

            return work

        return prepare

    results = _in_parallel(lambda_env.settings, clock, [job(sms) for sms in texts])

    # then the number is suppressed and exactly one confirmation went out
    assert [r for r in results if not isinstance(r, InboundResult)] == []
    assert sorted(r.replied for r in results) == [False] * 7 + [True]
    assert [to for to, _ in sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages.values()] == [PHONE]
    assert lambda_env.suppression.check(Channel.SMS, PHONE) is not None
