"""Exactly once under faults: journeys run through the real journey path while the provider,
the tables and the Lambda service misbehave, then every message is accounted for.

Run: `make bench` (5,300 journeys of one to three sends: about 10,200 sends), or
`python -m infra.bench.once --journeys 200 --seed 7`.

What runs for real: the JourneyStepFunction handler (`baton.handlers.journey_step`), the send
task, the SES adapter with its real boto3 client, Baton's DynamoDB tables on moto, and the
FeedbackFunction handler for the provider's events (SES delivery events that echo the message
tags, as a configuration set's event destination publishes them).

What is driven: the compiled state machine (`render_definition`) by `Driver`, an interpreter of
the states the compiler emits (Pass, Task, Choice, Wait, Succeed, Fail) that follows the
definition's own Retry (ErrorEquals, MaxAttempts, BackoffRate, MaxDelaySeconds, full jitter on a
virtual clock), Catch and ResultPath, plus redrive (the failed state again, same input). Not
moto's executing Step Functions: its Retry sleeps in real time and its executions run on
threads, so 10,000 sends with faults would take hours and would not repeat; the driver is
seeded and reads the same JSON Step Functions would run.

Faults, injected on the real clients' botocore event hooks so the adapters' own error handling
runs: per SendEmail call 20% throttling (never reached), 5% HTTP 503 (refused before
processing), 2% answers lost after SES took the message (read timeout, connection closed, HTTP
500), 1% crash after SES took it (the invocation killed: Sandbox.Timedout; or the next ledger
or timeline write failing); per task invocation 1% answers lost by the Lambda service
(Lambda.ServiceException: Step Functions retries) and 1% executions aborted after the task ran
(then redriven).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import boto3
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError
from moto import mock_aws

import baton.aws
from baton import bootstrap
from baton.clock import FixedClock, from_iso, to_iso, use_clock
from baton.contacts.models import ContactInput
from baton.data.items import from_item
from baton.data.tables import ALL_TABLES
from baton.delivery.message import MESSAGE_TAG
from baton.handlers import feedback, journey_step
from baton.journeys.catalog import load_catalog
from baton.runner.once import message_id
from baton.triggers.subjects import DynamoSubjectRepository, Subject
from infra.local.ses_account import answering_get_account

REGION: Final = "us-east-1"
START: Final = datetime(2026, 5, 4, 15, tzinfo=UTC)
FUNCTION_ARN: Final = f"arn:aws:lambda:{REGION}:123456789012:function:Baton-JourneyStepFunction"
LAMBDA_TIMEOUT: Final = timedelta(seconds=30)
BATCH: Final = 50  # journeys per embedded AWS (see `run`)
EVENT: Final = "order.paid"
JOURNEY: Final = """\
journey: receipt
owner: ops@example.com
purpose: transactional
review_by: 2027-03-01
trigger: {event: order.paid}
steps:
  - id: receipt
    send: {template: receipt, channels: [email]}
  - id: pause
    wait: {duration: 1d}
  - id: again
    branch:
      cases:
        - when: {attribute: renewed, equals: false}
          next: receipt
      default: end
"""
TEMPLATE: Final = """\
template: receipt
owner: ops@example.com
purpose: transactional
locales:
  en:
    email: {subject: "Your receipt", text: "Thank you for your order."}
"""


class Killed(BaseException):
    """The invocation's runtime is gone (a Lambda timeout): nothing after it runs."""


class TaskFailed(Exception):
    """A task's error as Step Functions sees it (`Error`, `Cause`)."""

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.cause = cause


@dataclass
class Rates:
    throttle: float = 0.20
    unavailable: float = 0.05
    lost_answer: float = 0.02
    crash: float = 0.01
    lambda_lost: float = 0.01
    redrive: float = 0.01


@dataclass
class Faults:
    """Decides and injects the faults; remembers what SES accepted (with its tags)."""

    rng: random.Random
    rates: Rates
    accepted: Counter[str] = field(default_factory=Counter)  # baton message id -> messages SES took
    events: list[dict[str, Any]] = field(default_factory=list)  # what SES's event destination sends
    injected: Counter[str] = field(default_factory=Counter)
    _tags: dict[str, str] = field(default_factory=dict)
    _to: str = ""
    _after: str | None = None
    _put_failures: int = 0  # fail the Nth DynamoDB PutItem from now (0: none armed)

    def install(self) -> None:
        ses = baton.aws.delivery_client("sesv2").meta.events
        ses.register("provide-client-params.sesv2.SendEmail", self._params)
        ses.register("before-call.sesv2.SendEmail", self._before)
        ses.register("after-call.sesv2.SendEmail", self._after_call)
        baton.aws.client("dynamodb").meta.events.register("before-call.dynamodb.PutItem", self._put)

    def _params(self, params: dict[str, Any], **_: Any) -> None:
        self._tags = {tag["Name"]: tag["Value"] for tag in params.get("EmailTags", [])}
        self._to = str(params["Destination"]["ToAddresses"][0])

    def _before(self, **_: Any) -> tuple[AWSResponse, Any] | None:
        roll = self.rng.random()
        rates = self.rates
        self._after = None
        if roll < rates.throttle:
            return self._refuse(400, "TooManyRequestsException")
        if roll < rates.throttle + rates.unavailable:
            return self._refuse(503, "ServiceUnavailable")
        if roll < rates.throttle + rates.unavailable + rates.lost_answer:
            self._after = self.rng.choice(("read_timeout", "connection_closed", "http_500"))
        elif roll < rates.throttle + rates.unavailable + rates.lost_answer + rates.crash:
            self._after = self.rng.choice(("killed", "ledger_write", "timeline_write"))
        return None  # on to SES (moto)

    def _refuse(self, status: int, code: str) -> tuple[AWSResponse, Any]:
        self.injected[code] += 1
        return error_response("https://email.us-east-1.amazonaws.com", status, code)

    def _after_call(self, http_response: AWSResponse, parsed: dict[str, Any], **_: Any) -> None:
        if http_response.status_code >= 300:
            return
        baton_id = self._tags.get(MESSAGE_TAG, "")
        self.accepted[baton_id] += 1
        self.events.append(_delivery_event(str(parsed["MessageId"]), baton_id, self._to))
        fault, self._after = self._after, None
        if fault is None:
            return
        self.injected[fault] += 1
        endpoint = "https://email.us-east-1.amazonaws.com"
        if fault == "read_timeout":
            raise ReadTimeoutError(endpoint_url=endpoint)
        if fault == "connection_closed":
            raise ConnectionClosedError(endpoint_url=endpoint)
        if fault == "http_500":
            raise ClientError(error_response(endpoint, 500, "InternalFailure")[1], "SendEmail")
        if fault == "killed":
            raise Killed()
        self._put_failures = 1 if fault == "ledger_write" else 2  # the ledger's, then the timeline's

    def _put(self, **_: Any) -> tuple[AWSResponse, Any] | None:
        if not self._put_failures:
            return None
        self._put_failures -= 1
        if self._put_failures:
            return None
        return error_response("https://dynamodb.us-east-1.amazonaws.com", 500, "InternalServerError")


def error_response(url: str, status: int, code: str) -> tuple[AWSResponse, Any]:
    """What a `before-call` hook returns to answer in the service's place: botocore then raises
    the service's own ClientError for it, as for a real answer."""
    parsed = {"Error": {"Code": code, "Message": "injected"}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return AWSResponse(url, status, HTTPHeaders(), None), parsed


def _delivery_event(ses_message_id: str, baton_id: str, to: str) -> dict[str, Any]:
    return {
        "source": "aws.ses",
        "detail-type": "Email Delivered",
        "detail": {
            "eventType": "Delivery",
            "mail": {"messageId": ses_message_id, "destination": [to], "tags": {MESSAGE_TAG: [baton_id]}},
            "delivery": {"timestamp": "2026-05-04T15:00:01.000Z", "recipients": [to]},
        },
    }


class Context:
    """What Lambda passes the handler; every invocation starts with its whole time."""

    function_name = "Baton-JourneyStepFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = FUNCTION_ARN
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return int(LAMBDA_TIMEOUT.total_seconds() * 1000)


def begin(execution: str, contact_id: str) -> dict[str, Any]:
    """What a trigger does before it starts an execution: the subject (whom the execution is
    about) in the subjects table under the execution's name; returns the execution's input,
    which names nobody (only the event type)."""
    subjects = DynamoSubjectRepository(bootstrap.services().settings.subjects_table)
    name = execution.rsplit(":", 1)[-1]
    subjects.add(Subject(execution_name=name, contact_id=contact_id, journey="receipt", event_type=EVENT))
    return {"event": {"type": EVENT}, "steps": {}}


def _advance(clock: FixedClock, by: timedelta) -> None:
    clock.set(clock.now() + by)


def _get(document: Any, path: str) -> Any:
    value = document
    for part in path.removeprefix("$").strip(".").split("."):
        if part:
            value = value[part]
    return value


def _put(document: dict[str, Any], path: str | None, value: Any) -> dict[str, Any]:
    if path is None:
        return document
    if path == "$":
        return dict(value)
    result: dict[str, Any] = json.loads(json.dumps(document))
    parts = path.removeprefix("$.").split(".")
    target = result
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value
    return result


@dataclass
class Driver:
    """Runs one execution of a compiled definition: the states the compiler emits, with Retry,
    Catch and redrive as Step Functions applies them (see the module docstring)."""

    definition: dict[str, Any]
    clock: FixedClock
    rng: random.Random
    rates: Rates
    invoke: Callable[[dict[str, Any]], dict[str, Any]]
    on_wait: Callable[[str], None] = lambda _: None
    sends: list[dict[str, Any]] = field(default_factory=list)  # every send task payload run
    counts: Counter[str] = field(default_factory=Counter)

    def run(self, execution: str, document: dict[str, Any]) -> str:
        """The execution's end: `succeeded` or `failed:<Error>`."""
        name = str(self.definition["StartAt"])
        for _ in range(10_000):
            state = self.definition["States"][name]
            kind = state["Type"]
            if kind == "Succeed":
                return "succeeded"
            if kind == "Fail":
                return (
                    f"failed:{state.get('Error') or _get(document, state.get('ErrorPath', '$.error.Error'))}"
                )
            if kind == "Pass":
                document = _put(document, state.get("ResultPath", "$"), self._pass_result(state, document))
            elif kind == "Wait" and "TimestampPath" in state:
                # A hold: until the time the task answered (a hold is not the journey's wait).
                until = from_iso(str(_get(document, state["TimestampPath"])))
                self.clock.set(max(self.clock.now(), until))
            elif kind == "Wait":
                self.on_wait(execution)
                _advance(self.clock, timedelta(seconds=int(state.get("Seconds", 0))))
            elif kind == "Choice":
                name = self._choose(state, document)
                continue
            elif kind == "Task":
                outcome = self._task(state, execution, document)
                if isinstance(outcome, TaskFailed):
                    catcher = state["Catch"][0]
                    error = {"Error": outcome.error, "Cause": outcome.cause}
                    document = _put(document, catcher.get("ResultPath", "$"), error)
                    name = catcher["Next"]
                    continue
                document = _put(document, state.get("ResultPath", "$"), outcome)
            else:
                raise NotImplementedError(f"state type {kind}")
            name = state["Next"]
        raise RuntimeError("the execution did not end")

    def _pass_result(self, state: dict[str, Any], document: dict[str, Any]) -> Any:
        if "Result" in state:
            return state["Result"]
        result: dict[str, Any] = {}
        for key, expression in state["Parameters"].items():
            if not key.endswith(".$"):
                result[key] = expression  # a literal (the error a Pass names for an unknown answer)
                continue
            # The one intrinsic the compiler writes in a Pass: States.MathAdd(<path>, <n>).
            inner = str(expression).removeprefix("States.MathAdd(").removesuffix(")")
            path, step = (part.strip() for part in inner.split(","))
            result[key.removesuffix(".$")] = int(_get(document, path)) + int(step)
        return result

    def _choose(self, state: dict[str, Any], document: dict[str, Any]) -> str:
        for choice in state["Choices"]:
            if _matches(choice, document):
                return str(choice["Next"])
        return str(state["Default"])

    def _payload(
        self, state: dict[str, Any], execution: str, document: dict[str, Any], retry_count: int = 0
    ) -> dict[str, Any]:
        context = {"$$.Execution.Id": execution, "$$.State.RetryCount": retry_count}
        payload: dict[str, Any] = {}
        for key, value in state["Parameters"].items():
            if key.endswith(".$"):
                payload[key[:-2]] = context[value] if value in context else _get(document, value)
            else:
                payload[key] = value
        return payload

    def _task(self, state: dict[str, Any], execution: str, document: dict[str, Any]) -> Any:
        payload = self._payload(state, execution, document)
        if payload.get("action") in ("send", "send_channel"):
            self.sends.append(payload)
        attempts: Counter[int] = Counter()
        while True:
            try:
                # `$$.State.RetryCount`: the retries of this entry so far (a redrive starts anew).
                result = self.invoke(self._payload(state, execution, document, sum(attempts.values())))
                roll = self.rng.random()
                if roll < self.rates.lambda_lost:
                    raise TaskFailed("Lambda.ServiceException", "the Lambda service lost the answer")
                if roll < self.rates.lambda_lost + self.rates.redrive:
                    # Aborted with the answer unread; an operator redrives: the same state, same
                    # input, its retry counts started afresh.
                    self.counts["redriven"] += 1
                    attempts.clear()
                    continue
                return result
            except Killed:
                self.counts["killed"] += 1
                _advance(self.clock, LAMBDA_TIMEOUT)  # the invocation ran until its timeout
                error = TaskFailed("Sandbox.Timedout", "Task timed out")
            except TaskFailed as exc:
                error = exc
            except Exception as exc:
                error = TaskFailed(type(exc).__name__, str(exc))
            delay = self._retry_delay(state, error.error, attempts)
            if delay is None:
                return error
            self.counts["retried"] += 1
            _advance(self.clock, delay)

    def _retry_delay(self, state: dict[str, Any], error: str, attempts: Counter[int]) -> timedelta | None:
        for index, retrier in enumerate(state.get("Retry", [])):
            if error in retrier["ErrorEquals"] or "States.ALL" in retrier["ErrorEquals"]:
                if attempts[index] >= int(retrier.get("MaxAttempts", 3)):
                    return None
                delay = (
                    float(retrier.get("IntervalSeconds", 1))
                    * float(retrier.get("BackoffRate", 2)) ** attempts[index]
                )
                delay = min(delay, float(retrier.get("MaxDelaySeconds", delay)))
                attempts[index] += 1
                if retrier.get("JitterStrategy") == "FULL":
                    delay = self.rng.uniform(0, delay)
                return timedelta(seconds=delay)
        return None


def _matches(choice: dict[str, Any], document: dict[str, Any]) -> bool:
    if "Or" in choice:
        return any(_matches(c, document) for c in choice["Or"])
    if "And" in choice:
        return all(_matches(c, document) for c in choice["And"])
    if "Not" in choice:
        return not _matches(choice["Not"], document)
    try:
        value = _get(document, choice["Variable"])
    except (KeyError, TypeError):
        # A path that does not exist: only IsPresent false holds.
        return choice.get("IsPresent") is False
    if "IsPresent" in choice:
        return bool(choice["IsPresent"])
    if "StringEquals" in choice:
        return bool(value == choice["StringEquals"])
    if "BooleanEquals" in choice:
        return bool(value is choice["BooleanEquals"])
    if "NumericGreaterThanEquals" in choice:
        return bool(value >= choice["NumericGreaterThanEquals"])
    raise NotImplementedError(f"choice {choice}")


@dataclass(frozen=True)
class Tally:
    journeys: int = 0
    sends: int = 0
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    sent_but_unrecorded: int = 0
    recorded_but_unsent: int = 0
    failed_recorded: int = 0
    faults: dict[str, int] = field(default_factory=dict)

    def __add__(self, other: Tally) -> Tally:
        """Two batches' figures together (every message id belongs to one batch)."""
        numbers = {
            name: getattr(self, name) + getattr(other, name)
            for name in self.__dataclass_fields__
            if name != "faults"
        }
        return Tally(**numbers, faults=dict(Counter(self.faults) + Counter(other.faults)))

    def lines(self) -> list[str]:
        return [
            f"journeys {self.journeys}, sends {self.sends}",
            f"delivered {self.delivered}",
            f"lost {self.lost}",
            f"duplicated {self.duplicated}",
            f"sent-but-unrecorded {self.sent_but_unrecorded}",
            f"recorded-but-unsent {self.recorded_but_unsent}",
            f"failed and recorded as failed {self.failed_recorded}",
            "faults " + ", ".join(f"{name} {n}" for name, n in sorted(self.faults.items())),
        ]


@contextmanager
def embedded_aws() -> Iterator[Path]:
    """moto with Baton's tables, secrets, an SES identity and the harness's journey folder."""
    saved = dict(os.environ)
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "CRITICAL",
        }
    )
    # moto lacks SES v2 GetAccount, which every email reads first (R-SES-1): the local answer.
    with tempfile.TemporaryDirectory() as folder, answering_get_account(), mock_aws():
        journeys = Path(folder)
        (journeys / "templates").mkdir()
        (journeys / "receipt.yaml").write_text(JOURNEY, encoding="utf-8")
        (journeys / "templates" / "receipt.yaml").write_text(TEMPLATE, encoding="utf-8")
        os.environ["BATON_JOURNEYS_DIR"] = str(journeys)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        for spec in ALL_TABLES:
            dynamodb.create_table(**spec.create_request(f"bench-{spec.id}"))
            os.environ[f"BATON_{spec.id.upper()}_TABLE"] = f"bench-{spec.id}"
        secrets = boto3.client("secretsmanager", region_name=REGION)
        for variable, name in {
            "BATON_TOKEN_SECRET_ARN": "bench-token-key",
            "BATON_SUPPRESSION_SALT_SECRET_ARN": "bench-suppression-salt",
        }.items():
            os.environ[variable] = secrets.create_secret(Name=name, SecretString="0" * 64)["ARN"]
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="example.com")
        bootstrap.reset()
        try:
            yield journeys
        finally:
            bootstrap.reset()
            os.environ.clear()
            os.environ.update(saved)


def run(
    journeys: int,
    *,
    seed: int = 2026,
    rates: Rates | None = None,
    batch: int = BATCH,
    progress: Callable[[Tally], None] = lambda _: None,
) -> Tally:
    """Runs `journeys` executions (each sends on one to three passes) and accounts for every send.

    The journeys run in batches of `batch`, each on a fresh embedded AWS, and each batch is
    accounted for at its end: moto's Query reads every item of a table, so one table for all
    journeys would make every send slower than the one before. Contact and execution names run on
    across batches and one seeded schedule of faults runs through them all."""
    rates = rates or Rates()
    # A fault a second is the point here, not news; put back after, for whatever runs next.
    disabled = logging.root.manager.disable
    logging.disable(logging.WARNING)
    rng = random.Random(seed)  # noqa: S311 (a repeatable fault schedule, not a secret)
    clock = FixedClock(START)
    use_clock(clock)
    total = Tally()
    try:
        definition: dict[str, Any] | None = None
        for first in range(0, journeys, batch):
            with embedded_aws() as folder:
                definition = definition or _compile(folder)
                numbers = range(first, min(first + batch, journeys))
                total = total + _run(numbers, definition, rng, rates, clock)
            progress(total)
    finally:
        use_clock(None)
        logging.disable(disabled)
    return total


def _compile(folder: Path) -> dict[str, Any]:
    from infra.journeys.compiler import render_definition  # CDK loads only when the harness runs

    return render_definition(load_catalog(folder).journeys["receipt"], function_arn=FUNCTION_ARN)


def _run(
    numbers: range, definition: dict[str, Any], rng: random.Random, rates: Rates, clock: FixedClock
) -> Tally:
    services = bootstrap.services()
    faults = Faults(rng, rates)
    faults.install()
    context = Context()
    passes_left: dict[str, int] = {}

    def invoke(payload: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = journey_step.handler(payload, context)
        return answer

    def renew_when_done(execution: str) -> None:
        contact_id = execution.rsplit(":", 1)[-1]
        passes_left[contact_id] -= 1
        if passes_left[contact_id] == 0:
            services.contacts.upsert(contact_id, ContactInput(attributes={"renewed": True}))

    driver = Driver(definition, clock, rng, rates, invoke, on_wait=renew_when_done)
    for n in numbers:
        contact_id = f"c-{n:05d}"
        services.contacts.upsert(
            contact_id,
            ContactInput(email=f"p{n}@example.com", first_name="Ana", attributes={"renewed": False}),
        )
        passes_left[contact_id] = rng.choice((1, 2, 3))
        execution = f"arn:aws:states:{REGION}:123456789012:execution:Baton-receipt:{contact_id}"
        driver.run(execution, begin(execution, contact_id))
        # SES's event destination publishes within seconds to minutes: before the next journey.
        for event in faults.events:
            feedback.handler(event, context)
        faults.events.clear()
    return _tally(services, driver, faults, list(passes_left))


def _timeline(table: str) -> Iterator[dict[str, Any]]:
    """Every event of the batch's timeline, the parts the tally reads: one scan, page after page,
    rather than a query per contact (moto answers each query by reading the whole table)."""
    request: dict[str, Any] = {
        "TableName": table,
        "ConsistentRead": True,
        "ProjectionExpression": "#kind, #detail.#message, #detail.#outcome, #detail.#execution",
        "ExpressionAttributeNames": {
            "#kind": "kind",
            "#detail": "detail",
            "#message": "message_id",
            "#outcome": "outcome",
            "#execution": "execution",
        },
    }
    dynamodb = baton.aws.client("dynamodb")
    while True:
        page = dynamodb.scan(**request)
        yield from (from_item(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _tally(services: bootstrap.Services, driver: Driver, faults: Faults, contacts: list[str]) -> Tally:
    intended = {
        message_id(
            {"execution": p["execution"], "step": p["step"], "pass": str(p["pass"]), "channel": "email"}
        ): p["execution"]
        for p in driver.sends
    }
    recorded: Counter[str] = Counter()
    failed: set[str] = set()
    for event in _timeline(services.settings.timeline_table):
        detail = event.get("detail", {})
        if event["kind"] == "message.sent":
            recorded[str(detail.get("message_id"))] += 1
        # A send step whose channels all failed ends the journey itself; a task that fails for
        # another reason is caught and recorded by the failure task (a throttled one holds).
        ended_failed = event["kind"] == "journey.ended" and detail.get("outcome") == "failed"
        if ended_failed or event["kind"] == "journey.failed":
            failed.add(str(detail.get("execution")))
    accepted = faults.accepted
    # Recorded as failed, not silently lost.
    failed_ids = {i for i, execution in intended.items() if accepted[i] == 0 and execution in failed}
    return Tally(
        journeys=len(contacts),
        sends=len(intended),
        delivered=sum(1 for i in intended if accepted[i] == 1 and recorded[i] == 1),
        lost=sum(1 for i in intended if accepted[i] == 0 and i not in failed_ids),
        duplicated=sum(1 for i in accepted if accepted[i] > 1),
        sent_but_unrecorded=sum(1 for i in accepted if accepted[i] and not recorded[i]),
        recorded_but_unsent=sum(1 for i in recorded if recorded[i] and not accepted[i]),
        failed_recorded=len(failed_ids),
        faults=dict(faults.injected + driver.counts),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--journeys", type=int, default=5300)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--progress", action="store_true", help="the running figures after each batch, on stderr"
    )
    arguments = parser.parse_args()

    def report(total: Tally) -> None:
        if arguments.progress:
            print(" | ".join(total.lines()[:6]), file=sys.stderr, flush=True)

    with open(os.devnull, "w") as sink, redirect_stdout(sink):  # the handlers' metric lines
        tally = run(arguments.journeys, seed=arguments.seed, progress=report)
    print("Exactly once under faults (moto, the journey-step handler, a driver of the compiled definition)")
    for line in tally.lines():
        print(f"  {line}")
    print(f"  at {to_iso(START)} + virtual time")


if __name__ == "__main__":
    main()
