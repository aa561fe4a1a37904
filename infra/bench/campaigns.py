"""What a campaign message costs, counted from a run, and how long a million take to drain.

1. Cost, counted: 1,000 gold customers with email consent on the embedded AWS go through the
   campaign's own code (the audience snapshot, then every batch task of the batch path, then
   the same contacts as per-contact journey sends for comparison). Every DynamoDB call Baton
   makes is counted as the capacity units DynamoDB would bill for it (from the items' sizes:
   writes per KB and per index the item is in, strongly consistent reads per 4 KB, a
   transaction's writes twice), every S3 request, Lambda invocation and state transition the
   run's state machine enters. Priced at list prices (us-east-1, on-demand): printed per
   delivered message and as a share of SES's price and of a US text's.
2. A million contacts, simulated: the counted calls per message, at stated AWS latencies, in
   batch tasks as many at once as the Distributed Map allows, all paced by the shared
   per-second count to the campaign's share of a 1,000 messages/s SES account. Prints the time
   to drain and the share of the provider's rate achieved; a send the pacer finds no room for
   waits for the next second (it is never handed to SES to be throttled), so none is lost.

Run: `make bench`.
"""

from __future__ import annotations

import functools
import math
import os
import secrets as stdlib_secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import boto3
import yaml
from botocore.handlers import BUILTIN_HANDLERS
from moto import mock_aws

from baton.journeys.approvals import APPROVALS_FILE, Approvals
from baton.journeys.models import Journey
from baton.journeys.templates import Template
from infra.config import CampaignsConfig
from infra.journeys.compiler import render_definition

REGION: Final = "us-east-1"
ACCOUNT: Final = "123456789012"
CONTACTS: Final = 1_000
NOW: Final = datetime(2026, 5, 4, 15, tzinfo=UTC)  # a Monday afternoon in New York

# List prices, us-east-1 (USD).
SES_PER_EMAIL: Final = 0.10 / 1000
US_SMS_PER_PART: Final = 0.00581 + 0.00302  # End User Messaging 10DLC base price + carrier fee
DYNAMODB_PER_WRU: Final = 0.625 / 1_000_000  # on-demand write request unit
DYNAMODB_PER_RRU: Final = 0.125 / 1_000_000  # on-demand read request unit
TRANSITION: Final = 0.025 / 1000  # Step Functions Standard
LAMBDA_PER_REQUEST: Final = 0.20 / 1_000_000
LAMBDA_PER_GB_SECOND: Final = 0.0000166667
S3_PUT: Final = 0.005 / 1000
S3_GET: Final = 0.0004 / 1000
MEMORY_GB: Final = 0.5  # the functions' 512 MB

# Latencies in the region, for the Lambda time and the simulation (p50, ms): a DynamoDB call,
# SES SendEmail, and Baton's own work per message (render, gate).
DYNAMODB_MS: Final = 5.0
SES_MS: Final = 40.0
CPU_MS: Final = 3.0

# Batch tasks at once and the campaign's share of the rate: cdk.json's defaults.
CONCURRENCY: Final = CampaignsConfig().max_concurrency
RATE_SHARE: Final = CampaignsConfig().rate_share
# The campaign state machine's own states per run (Snapshot, Batches, Finish, the end), and per
# batch (its child execution's one task).
RUN_TRANSITIONS: Final = 4
BATCH_TRANSITIONS: Final = 1

JOURNEY: Final = """\
journey: spring-sale
owner: growth@example.com
purpose: marketing
topic: offers
review_by: 2027-04-15
trigger: {event: campaign.spring}
steps:
  - id: note
    send: {template: spring-note, channels: [email]}
"""
TEMPLATE: Final = """\
template: spring-note
owner: growth@example.com
purpose: marketing
approved_by: legal@example.com
locales:
  en:
    email:
      subject: "Spring at {{ brand }}, {{ contact.first_name }}"
      html: >-
        <p>Hi {{ contact.first_name }}, spring is here.</p>
        <p><a href="{{ unsubscribe_url }}">Unsubscribe</a> {{ postal_address }}</p>
      text: >-
        Hi {{ contact.first_name }}, spring is here.
        Unsubscribe: {{ unsubscribe_url }} {{ postal_address }}
"""
SEGMENT: Final = """\
segment: gold-customers
owner: growth@example.com
when: {attribute: tier, equals: gold}
"""


def sent_path(definition: dict[str, Any]) -> list[str]:
    """The states a run of `definition` enters when each send goes out at once: what a
    per-contact execution bills as state transitions."""
    states = definition["States"]
    name = definition["StartAt"]
    path: list[str] = []
    while True:
        path.append(name)
        state = states[name]
        if state["Type"] == "Choice":
            # a run that is not continued (`$.resume` absent), a send that went out
            name = next(
                rule["Next"]
                for rule in state["Choices"]
                if rule.get("StringEquals") == "sent" or rule.get("IsPresent") is False
            )
        elif state.get("End") or state["Type"] in ("Succeed", "Fail"):
            return path
        else:
            name = state["Next"]


@functools.cache
def journey_transitions() -> int:
    """The campaign's journey compiled as it is deployed, its sent path counted."""
    journey = Journey.model_validate(yaml.safe_load(JOURNEY))
    return len(
        sent_path(render_definition(journey, function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:step"))
    )


FIGURES_TABLE_SUFFIX = "-figures"


@dataclass
class Units:
    """What the counted calls add up to."""

    wru: float = 0.0
    rru: float = 0.0
    dynamodb_calls: int = 0
    s3_puts: int = 0
    s3_gets: int = 0
    emails: int = 0
    # Of the above, what keeping the figures adds (the figures table's calls).
    figures_wru: float = 0.0
    figures_rru: float = 0.0


def _size(value: Any) -> int:
    """An attribute value's size as DynamoDB counts it (names counted by the caller)."""
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return len(str(inner)) // 2 + 1
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(name.encode()) + _size(item) for name, item in inner.items())
    if kind == "L":
        return 3 + sum(1 + _size(item) for item in inner)
    return sum(len(str(item)) for item in inner)  # sets


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + _size(value) for name, value in item.items())


class Meter:
    """Counts every DynamoDB and S3 call made by clients created while it is installed."""

    def __init__(self, indexes: dict[str, list[tuple[str, str | None]]]) -> None:
        self.units = Units()
        self._indexes = indexes  # table name -> its indexes' keys
        self._local = threading.local()
        self._lock = threading.Lock()

    def _writes(self, table: str, item: dict[str, Any] | None) -> float:
        size_units = math.ceil(item_size(item) / 1024) if item else 1
        indexed = sum(
            1
            for keys in self._indexes.get(table, [])
            if item is None or all(key is None or key in item for key in keys)
        )
        return max(size_units, 1) * (1 + indexed)

    def params(self, params: dict[str, Any], **_: Any) -> None:
        self._local.params = params

    def dynamodb(self, event_name: str, parsed: dict[str, Any], **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        params: dict[str, Any] = getattr(self._local, "params", {})
        wru = rru = 0.0
        if operation == "PutItem":
            wru = self._writes(params["TableName"], params["Item"])
        elif operation in ("UpdateItem", "DeleteItem"):
            wru = self._writes(params["TableName"], None) if self._indexes.get(params["TableName"]) else 1
        elif operation == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    wru += self._writes(table, request.get("PutRequest", {}).get("Item"))
        elif operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                (kind, write), *_ = entry.items()
                item = write.get("Item") if kind == "Put" else None
                wru += 2 * (self._writes(write["TableName"], item) if item else 1)
        elif operation == "GetItem":
            item = parsed.get("Item") or {}
            rru = max(1, math.ceil(item_size(item) / 4096)) * (1 if params.get("ConsistentRead") else 0.5)
        elif operation in ("Query", "Scan"):
            size = sum(item_size(item) for item in parsed.get("Items", []))
            rru = max(1, math.ceil(size / 4096)) * (1 if params.get("ConsistentRead") else 0.5)
        elif operation == "BatchGetItem":
            for table, items in parsed.get("Responses", {}).items():
                consistent = params["RequestItems"][table].get("ConsistentRead")
                rru += sum(
                    max(1, math.ceil(item_size(item) / 4096)) * (1 if consistent else 0.5) for item in items
                )
        with self._lock:
            self.units.wru += wru
            self.units.rru += rru
            self.units.dynamodb_calls += 1
            if str(params.get("TableName", "")).endswith(FIGURES_TABLE_SUFFIX):
                self.units.figures_wru += wru
                self.units.figures_rru += rru

    def s3(self, event_name: str, **_: Any) -> None:
        with self._lock:
            if event_name.endswith(("PutObject", "HeadObject")):
                self.units.s3_puts += event_name.endswith("PutObject")
                self.units.s3_gets += event_name.endswith("HeadObject")
            elif event_name.endswith("GetObject"):
                self.units.s3_gets += 1

    def ses(self, **_: Any) -> None:
        self.units.emails += 1

    def reset(self) -> Units:
        taken, self.units = self.units, Units()
        return taken

    @contextmanager
    def installed(self) -> Iterator[Meter]:
        entries = [
            ("provide-client-params.dynamodb", self.params),
            ("after-call.dynamodb", self.dynamodb),
            ("after-call.s3", self.s3),
            ("after-call.sesv2.SendEmail", self.ses),
        ]
        BUILTIN_HANDLERS.extend(entries)
        try:
            yield self
        finally:
            for entry in entries:
                BUILTIN_HANDLERS.remove(entry)


def _environment(root: Path) -> None:
    from baton.data.tables import ALL_TABLES

    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for spec in ALL_TABLES:
        name = f"bench-{spec.id}"
        dynamodb.create_table(**spec.create_request(name))
        os.environ[f"BATON_{spec.id.upper()}_TABLE"] = name
    manager = boto3.client("secretsmanager", region_name=REGION)
    for variable, name in {
        "BATON_TOKEN_SECRET_ARN": "bench-token-key",
        "BATON_SUPPRESSION_SALT_SECRET_ARN": "bench-suppression-salt",
    }.items():
        os.environ[variable] = manager.create_secret(Name=name, SecretString=stdlib_secrets.token_hex(32))[
            "ARN"
        ]
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="bench-campaigns")
    os.environ["BATON_CAMPAIGNS_BUCKET"] = "bench-campaigns"
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="example.com")
    prefix = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:Bench-"
    boto3.client("stepfunctions", region_name=REGION).create_state_machine(
        name="Bench-spring-sale",
        definition='{"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}',
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/bench",
    )
    (root / "templates").mkdir()
    (root / "segments").mkdir()
    (root / "spring-sale.yaml").write_text(JOURNEY, encoding="utf-8")
    (root / "templates" / "spring-note.yaml").write_text(TEMPLATE, encoding="utf-8")
    (root / "segments" / "gold-customers.yaml").write_text(SEGMENT, encoding="utf-8")
    # Legal's approval of the note as written: the send gate refuses unapproved content.
    note = Template.model_validate(yaml.safe_load(TEMPLATE))
    approvals = Approvals().approve(note, "legal@example.com", datetime(2026, 4, 1, tzinfo=UTC))
    (root / APPROVALS_FILE).write_text(approvals.dump(), encoding="utf-8")
    os.environ.update(
        {
            "BATON_JOURNEYS_DIR": str(root),
            "BATON_STATE_MACHINE_ARN_PREFIX": prefix,
            "BATON_TOPICS": '["offers"]',
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )


@dataclass(frozen=True)
class Counted:
    messages: int
    batches: int
    batch: Units  # the batch tasks, all of them
    snapshot: Units
    journey: Units  # the same contacts as per-contact journey sends


def count(contacts: int = CONTACTS) -> Counted:
    """Run the campaign's code over `contacts` on the embedded AWS and count what it calls."""
    from baton import bootstrap, secrets
    from baton.campaigns.batch import BatchRequest
    from baton.campaigns.models import CampaignRun, CampaignStatus
    from baton.campaigns.wiring import campaign_batch, campaign_runs, campaign_service
    from baton.clock import FixedClock, use_clock
    from baton.consent.vocabulary import Basis, Channel, Source
    from baton.contacts.models import ContactInput
    from baton.data.tables import ALL_TABLES
    from baton.journeys.paths import Path as RunPath
    from baton.runner.exceptions import Throttled
    from baton.runner.models import StepRequest
    from baton.runner.wiring import runner
    from baton.triggers import wiring
    from baton.triggers.executions import StepFunctionsExecutions
    from baton.triggers.models import EventIn
    from baton.triggers.runs import DynamoRunRepository
    from baton.triggers.service import JourneyStarter
    from baton.triggers.subjects import DynamoSubjectRepository
    from infra.local.ses_account import LocalSesAccount, answering_get_account

    for variable, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        os.environ[variable] = value
    indexes = {
        f"bench-{spec.id}": [(index.partition_key, index.sort_key) for index in spec.indexes]
        for spec in ALL_TABLES
    }
    meter = Meter(indexes)
    clock = FixedClock(NOW)
    # A 1,000 emails a second account: the cost is the question here, not the pace.
    with (
        tempfile.TemporaryDirectory() as root,
        answering_get_account(LocalSesAccount(max_send_rate=1000, max_24_hour_send=10_000_000)),
        mock_aws(),
        meter.installed(),
    ):
        _environment(Path(root))
        use_clock(clock)
        bootstrap.reset()
        wiring.catalog.cache_clear()
        s = bootstrap.services()
        for number in range(contacts):
            contact_id = f"c-{number:06d}"
            email = f"{contact_id}@example.com"
            s.contacts.upsert(
                contact_id,
                ContactInput(
                    email=email,
                    first_name="Ana",
                    timezone="America/New_York",
                    country="US",
                    attributes={"tier": "gold"},
                ),
            )
            s.consent.grant(
                contact_id, Channel.EMAIL, "offers", source=Source.IMPORT, basis=Basis.EXPRESS, address=email
            )
        runs = campaign_runs(s)
        run = CampaignRun(
            run_id="bench-run",
            journey="spring-sale",
            segment="gold-customers",
            path=RunPath.BATCH,
            status=CampaignStatus.SCHEDULED,
            created_at=NOW,
            at=NOW,
        )
        meter.reset()
        runs.create(run)
        taken = campaign_service(s).take_audience(run.run_id)
        snapshot = meter.reset()
        body = boto3.client("s3", region_name=REGION).get_object(Bucket=taken["bucket"], Key=taken["key"])
        import json

        batches = json.loads(body["Body"].read())
        meter.reset()
        task = campaign_batch(s, lambda: 900.0)
        for item in batches:
            while True:
                try:
                    task.run(BatchRequest(run.run_id, item["batch"], item["contacts"]))
                    break
                except Throttled:
                    clock.set(clock.now() + timedelta(seconds=1))
        batch = meter.reset()
        done = runs.get(run.run_id)
        # The same contacts as journey sends, one execution each (its start, then its send task).
        journey_runner, _ = runner()
        starter = JourneyStarter(
            DynamoRunRepository(s.settings.runs_table),
            DynamoSubjectRepository(s.settings.subjects_table),
            StepFunctionsExecutions(),
            s.timeline,
            s.clock,
            lambda: secrets.execution_name_key(s.settings),
        )
        clock.set(NOW + timedelta(days=8))  # past the frequency caps of the campaign's sends
        for number in range(contacts):
            contact_id = f"c-{number:06d}"
            event = EventIn(contact_id=contact_id, type="campaign.spring", idempotency_key="journey-1")
            started, _ = starter.start(
                f"{s.settings.state_machine_arn_prefix}spring-sale", "spring-sale", event, None
            )
            s.figures.flush()  # the invocation that started it ends here (its handler flushes)
            while True:
                try:
                    journey_runner.handle(
                        StepRequest(
                            action="send",
                            journey="spring-sale",
                            step="note",
                            execution=started.execution_arn,
                            ends=True,
                        )
                    )
                    break
                except Throttled:
                    clock.set(clock.now() + timedelta(seconds=1))
                finally:
                    s.figures.flush()  # as the journey task's handler does when it ends
        journey = meter.reset()
        use_clock(None)
        bootstrap.reset()
        return Counted(done.sent, len(batches), batch, snapshot, journey)


@dataclass(frozen=True)
class Cost:
    dynamodb: float
    lambda_: float
    transitions: float
    s3: float

    @property
    def total(self) -> float:
        return self.dynamodb + self.lambda_ + self.transitions + self.s3


def campaign_cost(counted: Counted) -> Cost:
    """Per delivered message, on the batch path."""
    n = counted.messages
    units = counted.batch
    calls_per_message = (units.dynamodb_calls + counted.snapshot.dynamodb_calls) / n
    seconds = (calls_per_message * DYNAMODB_MS + SES_MS + CPU_MS) / 1000
    invocations = (counted.batches + 2) / n  # the batches, the snapshot, the finish
    return Cost(
        dynamodb=(
            (units.wru + counted.snapshot.wru) * DYNAMODB_PER_WRU
            + (units.rru + counted.snapshot.rru) * DYNAMODB_PER_RRU
        )
        / n,
        lambda_=seconds * MEMORY_GB * LAMBDA_PER_GB_SECOND + invocations * LAMBDA_PER_REQUEST,
        transitions=(RUN_TRANSITIONS + BATCH_TRANSITIONS * counted.batches) / n * TRANSITION,
        s3=(counted.snapshot.s3_puts * S3_PUT + (counted.snapshot.s3_gets + 1) * S3_GET) / n,
    )


def journey_cost(counted: Counted) -> Cost:
    """Per delivered message, as one execution per contact."""
    n = counted.messages
    units = counted.journey
    seconds = (units.dynamodb_calls / n * DYNAMODB_MS + SES_MS + CPU_MS) / 1000
    return Cost(
        dynamodb=(units.wru * DYNAMODB_PER_WRU + units.rru * DYNAMODB_PER_RRU) / n,
        lambda_=seconds * MEMORY_GB * LAMBDA_PER_GB_SECOND + 1 * LAMBDA_PER_REQUEST,
        transitions=journey_transitions() * TRANSITION,
        s3=0.0,
    )


@dataclass(frozen=True)
class Drain:
    seconds: float
    sent: int
    share_of_rate: float
    waits: int  # sends that found the second full and waited for the next (none lost)


def simulate(
    contacts: int,
    *,
    rate: int,
    share: float,
    calls_per_message: float,
    concurrency: int,
    batch_size: int = 100,
) -> Drain:
    """Batch tasks (at most `concurrency` at once) each sending one message after another, every
    send taking a unit of the second's shared count (`share` of `rate`) or waiting for the next
    second; ticks of 10 ms."""
    per_message_s = (calls_per_message * DYNAMODB_MS + SES_MS + CPU_MS) / 1000
    tick = 0.01
    room = math.floor(rate * share)
    batches = math.ceil(contacts / batch_size)
    pending = [min(batch_size, contacts - i * batch_size) for i in range(batches)]
    pending.reverse()
    workers: list[list[float]] = []  # [messages left, time its next message is ready]
    now, sent, waits, taken, second = 0.0, 0, 0, 0, 0
    while sent < contacts:
        while pending and len(workers) < concurrency:
            workers.append([pending.pop(), now + per_message_s])
        if int(now) != second:
            second, taken = int(now), 0
        for worker in workers:
            if worker[1] <= now:
                if taken < room:
                    taken += 1
                    sent += 1
                    worker[0] -= 1
                    worker[1] = now + per_message_s
                else:
                    waits += 1
                    worker[1] = float(second + 1)  # the pacer waits for the next second
        workers = [worker for worker in workers if worker[0] > 0]
        now += tick
    return Drain(now, sent, contacts / now / rate, waits)


def main() -> None:
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    began = time.perf_counter()
    counted = count()
    took = time.perf_counter() - began
    n = counted.messages
    units = counted.batch
    cost = campaign_cost(counted)
    per_journey = journey_cost(counted)
    print(f"Campaign cost, counted from a run of {n:,} delivered emails on the embedded AWS ({took:.0f} s):")
    print(
        f"  batch path: {units.wru / n:.2f} write units, {units.rru / n:.2f} read units,"
        f" {units.dynamodb_calls / n:.1f} DynamoDB calls per message; {counted.batches} batches;"
        f" snapshot {counted.snapshot.s3_puts} S3 put, {counted.snapshot.s3_gets + 1} S3 get"
    )
    for label, value in (
        ("DynamoDB", cost.dynamodb),
        ("Lambda", cost.lambda_),
        ("Step Functions", cost.transitions),
        ("S3", cost.s3),
    ):
        print(f"    {label:<15} ${value:.8f}")
    print(
        f"  per campaign message ${cost.total:.8f}: {cost.total / SES_PER_EMAIL:.1%} of SES's price,"
        f" {cost.total / US_SMS_PER_PART:.2%} of a US text's"
    )
    journey = counted.journey
    print(
        f"  per journey send (one execution per contact): {journey.wru / n:.2f} write units,"
        f" {journey.rru / n:.2f} read units, {journey_transitions()} transitions:"
        f" ${per_journey.total:.8f}, {per_journey.total / SES_PER_EMAIL:.1%} of SES's price"
    )
    print(
        f"  figures added: campaign {units.figures_wru / n:.3f} write units and"
        f" {units.figures_rru / n:.3f} read units per message; journey send"
        f" {(journey.figures_wru) / n:.2f} write units ({journey.figures_wru / n - 1:.2f} on the send"
        f" path, 1 when it starts), {journey.figures_rru / n:.2f} read units per message"
    )
    calls = (units.dynamodb_calls + counted.snapshot.dynamodb_calls) / n
    share = RATE_SHARE
    drain = simulate(1_000_000, rate=1000, share=share, calls_per_message=calls, concurrency=CONCURRENCY)
    print(
        f"1M contacts, simulated: 1,000 emails/s account, campaign share {share:.0%},"
        f" {CONCURRENCY} batch tasks at once,"
        f" {calls:.1f} DynamoDB calls per message at {DYNAMODB_MS:g} ms, SendEmail {SES_MS:g} ms:"
    )
    print(
        f"  drained in {drain.seconds / 60:.1f} min, {drain.share_of_rate:.1%} of the provider's rate;"
        f" {drain.waits:,} sends waited for the next second; none lost to throttling"
        " (the pacer never hands SES more than its rate)"
    )


if __name__ == "__main__":
    main()
