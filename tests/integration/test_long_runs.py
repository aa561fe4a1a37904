"""Long runs on the embedded AWS (R-REL-1): a journey that loops, or whose send is held again and
again, goes on in a new execution of its own state machine before its history reaches the limit
it was compiled for, and nothing is sent twice or lost on the way.

The state machines are compiled for a small history limit (a few hundred events instead of Step
Functions' 25,000), so a handful of turns makes a run continue; everything else is as deployed:
moto's executing Step Functions under the local stack's scheduler, the real JourneyStepFunction
handler (its continuation starts the next execution through boto3), the real EventService
starting the run and stopping it on exit_on."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from baton import bootstrap
from baton.contacts.models import ContactInput
from baton.handlers import journey_step
from baton.triggers import wiring
from baton.triggers.models import EventIn, RunStatus
from baton.triggers.runs import DynamoRunRepository
from baton.triggers.subjects import DynamoSubjectRepository
from infra.journeys.compiler import CONTINUED_STATE
from tests.integration.journeys import REGION, STATE_MACHINE_PREFIX, JourneysOnMoto, lambda_context

# Small enough that a run continues every few turns (the bound counts every state of the machine
# retried every time: 2 turns here), large enough for a turn of these journeys.
HISTORY_LIMIT = 2_000
HEADER = """\
owner: billing@example.com
purpose: transactional
review_by: 2027-03-01
"""
# Reminds every day until the invoice is paid (exit_on) or the contact has `paid`.
REMINDERS = f"""\
journey: reminders
{HEADER}trigger: {{event: invoice.sent}}
exit_on: [invoice.paid]
steps:
  - id: remind
    send: {{template: reminder, channels: [email]}}
  - id: pause
    wait: {{duration: 1d}}
  - id: again
    branch:
      cases:
        - when: {{attribute: paid, exists: true}}
          next: end
      default: remind
"""
# One send, held until the provider lets it go.
NOTICE = f"""\
journey: notice
{HEADER}trigger: {{event: invoice.due}}
steps:
  - id: tell
    send: {{template: reminder, channels: [email]}}
"""
TEMPLATE = f"""\
template: reminder
{HEADER}locales:
  en:
    email: {{subject: "Your invoice", text: "Your invoice is waiting."}}
"""


@pytest.fixture
def catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "reminder.yaml").write_text(TEMPLATE, encoding="utf-8")
    (tmp_path / "reminders.yaml").write_text(REMINDERS, encoding="utf-8")
    (tmp_path / "notice.yaml").write_text(NOTICE, encoding="utf-8")
    monkeypatch.setenv("BATON_JOURNEYS_DIR", str(tmp_path))
    monkeypatch.setenv("BATON_STATE_MACHINE_ARN_PREFIX", STATE_MACHINE_PREFIX)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    bootstrap.reset()
    wiring.catalog.cache_clear()
    yield tmp_path
    bootstrap.reset()
    wiring.catalog.cache_clear()


@pytest.fixture
def journeys(journeys_on_moto: JourneysOnMoto, catalog: Path) -> JourneysOnMoto:
    """The real JourneyStepFunction behind every task."""
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="example.com")
    journeys_on_moto.deploy(catalog, journey_step.handler, history_limit=HISTORY_LIMIT)
    bootstrap.services().contacts.upsert("ana", ContactInput(email="ana@example.com"))
    return journeys_on_moto


def _record(type_: str, key: str) -> None:
    service = wiring.event_service(bootstrap.services(), lambda_context("Baton-PrivateApiFunction"))
    service.record(EventIn(contact_id="ana", type=type_, idempotency_key=key))


def _emails() -> int:
    return len(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def _chain(journeys: JourneysOnMoto, journey_id: str) -> list[dict[str, Any]]:
    """The journey's executions, oldest first."""
    return sorted(journeys.executions(journey_id), key=lambda e: e["startDate"])


def _kinds(kind: str) -> list[dict[str, Any]]:
    return [dict(e.detail) for e in reversed(bootstrap.services().timeline.all("ana")) if e.kind == kind]


def test_r_rel_1_a_looping_run_goes_on_in_new_executions_each_under_the_history_limit(
    journeys: JourneysOnMoto,
) -> None:
    # given a daily reminder started by an event
    _record("invoice.sent", "invoice-1")

    # when it has reminded for twenty days
    for _ in range(19):
        journeys.advance("1d")

    # then it reminded once a day, twenty times, across several executions of its state machine
    assert _emails() == 20
    chain = _chain(journeys, "reminders")
    assert len(chain) >= 3
    assert [e["status"] for e in chain] == ["SUCCEEDED"] * (len(chain) - 1) + ["RUNNING"]
    for execution in chain:
        events = journeys.history(execution["executionArn"])
        assert len(events) < HISTORY_LIMIT
    for execution in chain[:-1]:
        assert journeys.entered(execution["executionArn"])[-1] == CONTINUED_STATE
    # each new execution carries the run's passes on: the next send is the next pass
    newest = journeys.sfn.describe_execution(executionArn=chain[-1]["executionArn"])
    resumed = json.loads(newest["input"])
    assert resumed["resume"] == "remind"
    assert 1 < resumed["passes"]["remind"]["n"] < 20
    assert "ana" not in newest["input"]  # it names nobody, like every execution's input
    # whom it is about went with it, and the contact's runs link up
    settings = bootstrap.services().settings
    subject = DynamoSubjectRepository(settings.subjects_table).get(chain[-1]["name"])
    assert subject is not None
    assert subject.contact_id == "ana"
    runs = {run.execution_name: run for run in DynamoRunRepository(settings.runs_table).of_contact("ana")}
    assert [runs[e["name"]].status for e in chain] == [RunStatus.SUCCEEDED] * (len(chain) - 1) + [
        RunStatus.RUNNING
    ]
    for older, newer in itertools.pairwise(chain):
        assert runs[older["name"]].continued_as == newer["name"]
        assert runs[newer["name"]].continues == older["name"]
    continued = _kinds("journey.continued")
    assert [c["continued_as"] for c in continued] == [e["name"] for e in chain[1:]]
    assert _kinds("journey.completed") == []


def test_r_rel_1_an_exit_stops_the_execution_the_run_continued_in(journeys: JourneysOnMoto) -> None:
    # given a reminder run that has continued in a new execution
    _record("invoice.sent", "invoice-2")
    for _ in range(12):
        journeys.advance("1d")
    chain = _chain(journeys, "reminders")
    assert len(chain) >= 2
    sent = _emails()

    # when the invoice is paid
    _record("invoice.paid", "paid-2")
    for _ in range(3):
        journeys.advance("1d")

    # then the running execution is stopped and no reminder follows
    assert journeys.status(chain[-1]["executionArn"]) == "ABORTED"
    assert _emails() == sent
    (exited,) = _kinds("journey.exited")
    assert exited["execution"] == chain[-1]["name"]


def test_r_rel_1_a_run_whose_attribute_ends_the_loop_completes_once_in_its_last_execution(
    journeys: JourneysOnMoto,
) -> None:
    _record("invoice.sent", "invoice-3")
    for _ in range(10):
        journeys.advance("1d")
    bootstrap.services().contacts.upsert(
        "ana", ContactInput(email="ana@example.com", attributes={"paid": True})
    )

    journeys.advance("1d")

    chain = _chain(journeys, "reminders")
    assert len(chain) >= 2
    assert [e["status"] for e in chain] == ["SUCCEEDED"] * len(chain)
    assert journeys.entered(chain[-1]["executionArn"])[-1] == "Journey completed"
    assert len(_kinds("journey.completed")) == 1
    assert _emails() == 11


@dataclass
class HeldThenSent:
    """The real JourneyStepFunction, except that the gate holds `tell` `holds` times first (as a
    paused SES account does, rechecked every 15 minutes)."""

    holds: int
    sends: list[str] = field(default_factory=list)

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        if event["action"] == "send" and self.holds > 0:
            self.holds -= 1
            until = bootstrap.services().clock.now().strftime("%Y-%m-%dT%H:%M:%S.000000Z")
            return {
                "outcome": "held",
                "channel": None,
                "until": until,
                "reason": "sending_paused",
                "attempts": [],
            }
        if event["action"] == "send":
            self.sends.append(event["execution"])
        return journey_step.handler(event, context)


def test_r_rel_1_a_send_held_for_a_long_time_goes_out_once_from_the_execution_the_run_continued_in(
    journeys_on_moto: JourneysOnMoto, catalog: Path
) -> None:
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="example.com")
    step = HeldThenSent(holds=60)
    journeys_on_moto.deploy(catalog, step, history_limit=HISTORY_LIMIT)
    bootstrap.services().contacts.upsert("ana", ContactInput(email="ana@example.com"))

    _record("invoice.due", "due-1")

    chain = _chain(journeys_on_moto, "notice")
    assert len(chain) >= 3
    assert [e["status"] for e in chain] == ["SUCCEEDED"] * len(chain)
    for execution in chain:
        assert len(journeys_on_moto.history(execution["executionArn"])) < HISTORY_LIMIT
    assert step.holds == 0
    assert step.sends == [chain[-1]["executionArn"]]
    assert _emails() == 1
    # (the journey begins with the held send: a continued run resumes by asking it again)
    assert journeys_on_moto.entered(chain[-1]["executionArn"])[:2] == ["Send tell", "tell outcome"]
    assert len(_kinds("journey.completed")) == 1
