"""Hand-offs on the embedded AWS: moto's executing Step Functions runs a compiled handoff
journey whose tasks call the real JourneyStepFunction handler; the task is completed through
the private API, and SendTaskSuccess (the real Step Functions client) resumes the execution.
The executions run under the local stack's scheduler: each call below returns once they have
moved on, and an SLA runs out only when the test moves the virtual clock past it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_string
from email.policy import default
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from baton import bootstrap
from baton.contacts.models import ContactInput
from baton.handlers import journey_step, private_api
from baton.handoffs.models import TaskStatus
from baton.handoffs.repository import DynamoTaskRepository
from baton.settings import Settings
from baton.triggers import wiring
from tests.integration.journeys import ACCOUNT, REGION, JourneysOnMoto, lambda_context

HEADER = """\
owner: cx@example.com
purpose: transactional
review_by: 2027-03-01
"""
SUPPORT = f"""\
journey: support
description: A support request the agents answer
{HEADER}trigger: {{event: support.request_created}}
steps:
  - id: agent-reply
    handoff: {{queue: support-agents, sla: 1h, on_timeout: escalate, escalate_to: support-leads}}
  - id: route
    branch:
      cases:
        - when: {{handoff_outcome: {{step: agent-reply, is: resolved}}}}
          next: end
      default: end
"""
QUICK = f"""\
journey: quick
{HEADER}trigger: {{event: callback.requested}}
steps:
  - id: call-back
    handoff: {{queue: account-managers, sla: 4h, on_timeout: end}}
"""


@dataclass
class World:
    settings: Settings
    journeys: JourneysOnMoto
    topic_arn: str

    @property
    def sfn(self) -> Any:
        return self.journeys.sfn

    def start(self, journey: str, name: str) -> str:
        """Start the journey for Ana; it has handed off (or ended) when this returns."""
        return self.journeys.start(journey, name, contact_id="ana", event_type="x")

    def open_tasks(self, queue: str) -> list[dict[str, Any]]:
        response = _api("GET", "/v1/tasks", query={"queue": queue})
        assert response["statusCode"] == 200
        items: list[dict[str, Any]] = json.loads(response["body"])["items"]
        return items

    def described(self, arn: str) -> dict[str, Any]:
        described: dict[str, Any] = self.sfn.describe_execution(executionArn=arn)
        return described


def _api(method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> dict[str, Any]:
    template = json.loads((Path(__file__).parents[1] / "events" / "apigw_rest_proxy.json").read_text())
    event = template | {
        "httpMethod": method,
        "path": path,
        "resource": path,
        "body": json.dumps(body) if body is not None else None,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
    }
    event["requestContext"] = dict(event.get("requestContext") or {}) | {"httpMethod": method, "path": path}
    result: dict[str, Any] = private_api.handler(event, lambda_context("Baton-PrivateApiFunction"))
    return result


@pytest.fixture
def world(
    journeys_on_moto: JourneysOnMoto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    for name, text in {"support.yaml": SUPPORT, "quick.yaml": QUICK}.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    sns = boto3.client("sns", region_name=REGION)
    topic_arn = sns.create_topic(Name="baton-support-agents")["TopicArn"]
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="example.com")
    monkeypatch.setenv("BATON_JOURNEYS_DIR", str(tmp_path))
    monkeypatch.setenv("BATON_QUEUE_TOPICS", json.dumps({"support-agents": topic_arn}))
    monkeypatch.setenv("BATON_QUEUE_EMAILS", json.dumps({"support-agents": "agents@example.com"}))
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    bootstrap.reset()
    wiring.catalog.cache_clear()
    journeys_on_moto.deploy(tmp_path, journey_step.handler)
    services = bootstrap.services()
    services.contacts.upsert("ana", ContactInput(email="ana@example.com", first_name="Ana"))
    yield World(services.settings, journeys_on_moto, topic_arn)
    bootstrap.reset()
    wiring.catalog.cache_clear()


def _kinds(contact_id: str = "ana") -> list[str]:
    return [event.kind for event in reversed(bootstrap.services().timeline.all(contact_id))]


def test_a_completed_task_passes_the_baton_and_the_branch_reads_its_outcome(world: World) -> None:
    # given a support journey waiting on its agents
    arn = world.start("support", "support-1")
    (task,) = world.open_tasks("support-agents")
    assert task["text"].startswith("A support request the agents answer")
    assert world.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"

    # when an agent completes it through the API
    response = _api("POST", f"/v1/tasks/{task['task_id']}/complete", {"outcome": "resolved", "note": "done"})

    # then the execution resumes with the step result, the branch matches, the journey completes
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["status"] == "completed"
    described = world.described(arn)
    assert described["status"] == "SUCCEEDED"
    history = world.sfn.get_execution_history(executionArn=arn)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]
    assert entered[:2] == ["Hand off agent-reply", "Branch route"]
    kinds = _kinds()
    assert [k for k in kinds if k.startswith("handoff.")] == [
        "handoff.created",
        "handoff.notified",
        "handoff.completed",
    ]
    route = [e for e in bootstrap.services().timeline.all("ana") if e.kind == "journey.step"]
    assert route[0].detail["case"] == 0  # handoff_outcome resolved
    assert world.open_tasks("support-agents") == []


def test_the_queue_hears_of_the_task_on_its_topic_and_by_email(world: World) -> None:
    world.start("support", "support-2")
    (task,) = world.open_tasks("support-agents")

    published = [
        json.loads(sent[1])
        for sent in sns_backends[ACCOUNT][REGION].topics[world.topic_arn].sent_notifications
    ]
    emails = [
        sent
        for sent in ses_backends[ACCOUNT][REGION].sent_messages
        if "agents@example.com" in sent.destinations
    ]

    assert [message["task_id"] for message in published] == [task["task_id"]]
    assert "token" not in published[0]
    assert len(emails) == 1
    mail = message_from_string(emails[0].raw_data, policy=default)
    assert task["task_id"] in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_completing_twice_is_409_and_the_journey_heard_once(world: World) -> None:
    arn = world.start("support", "support-3")
    (task,) = world.open_tasks("support-agents")
    _api("POST", f"/v1/tasks/{task['task_id']}/complete", {"outcome": "resolved"})
    assert world.described(arn)["status"] == "SUCCEEDED"

    again = _api("POST", f"/v1/tasks/{task['task_id']}/complete", {"outcome": "resolved"})

    assert again["statusCode"] == 409
    assert json.loads(again["body"])["error"]["code"] == "task_already_completed"
    assert _kinds().count("handoff.completed") == 1


def test_nobody_in_time_ends_the_journey_handoff_timed_out_and_completing_then_says_expired(
    world: World,
) -> None:
    # given a task with a 4 h SLA
    arn = world.start("quick", "quick-1")
    (task,) = world.open_tasks("account-managers")
    world.journeys.advance("239m")
    assert world.described(arn)["status"] == "RUNNING"

    # when nobody completes it in time
    world.journeys.advance("1m")
    described = world.described(arn)

    # then the journey ends (succeeded, outcome handoff_timed_out) and the task is expired
    assert described["status"] == "SUCCEEDED"
    history = world.sfn.get_execution_history(executionArn=arn)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]
    assert entered == ["Hand off call-back", "Handoff timed out call-back", "call-back timed out"]
    ended = [e.detail for e in bootstrap.services().timeline.all("ana") if e.kind == "journey.ended"]
    assert ended[0]["outcome"] == "handoff_timed_out"
    stored = DynamoTaskRepository(world.settings.tasks_table).get(task["task_id"])
    assert stored is not None
    assert stored.status == TaskStatus.EXPIRED
    late = _api("POST", f"/v1/tasks/{task['task_id']}/complete", {"outcome": "resolved"})
    assert late["statusCode"] == 409
    assert json.loads(late["body"])["error"]["code"] == "task_expired"
    assert "expired" in json.loads(late["body"])["error"]["message"]


def test_list_tasks_needs_a_queue(world: World) -> None:
    assert _api("GET", "/v1/tasks")["statusCode"] == 422


def test_the_queues_notice_email_is_counted_in_the_inventory_and_not_as_the_journeys(world: World) -> None:
    # when a support journey hands off (its queue has an email address)
    world.start("support", "support-notice")
    assert len(world.open_tasks("support-agents")) == 1

    # then the inventory counts one hand-off notice sent today
    inventory = json.loads(_api("GET", "/v1/inventory")["body"])["items"]
    notice = next(entry for entry in inventory if entry["id"] == "builtin/handoff-notice")
    assert notice["last_7_days"]["sent"] == 1
    assert notice["last_sent"] == bootstrap.services().clock.now().date().isoformat()
    # and no step of the journey claims that email as its own send
    support = [entry for entry in inventory if entry["journey"] == "support"]
    assert all(entry["last_7_days"]["sent"] == 0 for entry in support if entry["step"] != "ack")
