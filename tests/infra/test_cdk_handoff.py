"""Hand-offs in the template: the callback task and its timeout path, the escalation, the tasks
routes behind IAM, a topic per queue, and who may publish and answer the journeys."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import assertions

from infra import names
from infra.synth import synthesize

SUPPORT = """\
journey: support
owner: cx@example.com
purpose: transactional
review_by: 2027-03-01
trigger: {event: support.request_created}
steps:
  - id: agent-reply
    handoff: {queue: support-agents, sla: 24h, on_timeout: escalate, escalate_to: support-leads}
  - id: call-back
    handoff: {queue: account-managers, sla: 2d, on_timeout: end}
"""


@pytest.fixture(scope="module")
def handoff_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    journeys = tmp_path_factory.mktemp("journeys")
    (journeys / "support.yaml").write_text(SUPPORT, encoding="utf-8")
    context = {
        "baton": {"journeysDir": str(journeys), "queues": {"support-agents": {"email": "agents@example.com"}}}
    }
    return synthesize(tmp_path_factory.mktemp("cdk.out"), bundling=False, context=context)


def _definition(template: dict[str, Any]) -> dict[str, Any]:
    (machine,) = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::StepFunctions::StateMachine"
        and r["Properties"]["StateMachineName"] != names.campaign_state_machine_name("Baton")
    ]
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "ARN" for p in parts)
    definition: dict[str, Any] = json.loads(text)
    return definition


def _of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def test_r_rel_3_the_handoff_waits_on_its_token_for_the_sla_and_catches_the_timeout(
    handoff_template: dict[str, Any],
) -> None:
    states = _definition(handoff_template)["States"]
    hand_off = states["Hand off agent-reply"]

    assert hand_off["Resource"].endswith(":states:::lambda:invoke.waitForTaskToken")
    assert hand_off["TimeoutSeconds"] == 24 * 3600
    assert hand_off["Parameters"]["Payload"]["token.$"] == "$$.Task.Token"
    assert hand_off["Parameters"]["Payload"]["action"] == "handoff"
    assert hand_off["ResultPath"] == "$.steps.agent-reply"
    assert [c["ErrorEquals"] for c in hand_off["Catch"]] == [["States.Timeout"], ["States.ALL"]]
    assert hand_off["Catch"][0]["Next"] == "Handoff timed out agent-reply"
    assert hand_off["Next"] == "Hand off call-back"


def test_escalate_hands_the_task_to_escalate_to_under_the_same_sla_then_ends(
    handoff_template: dict[str, Any],
) -> None:
    states = _definition(handoff_template)["States"]

    assert states["Handoff timed out agent-reply"]["Next"] == "Escalate agent-reply"
    escalate = states["Escalate agent-reply"]
    assert escalate["Resource"].endswith("waitForTaskToken")
    assert escalate["TimeoutSeconds"] == 24 * 3600
    assert escalate["Parameters"]["Payload"]["escalated"] is True
    assert escalate["Next"] == "Hand off call-back"
    assert escalate["Catch"][0] == {
        "ErrorEquals": ["States.Timeout"],
        "ResultPath": "$.steps.agent-reply",
        "Next": "Escalation timed out agent-reply",
    }
    assert states["Escalation timed out agent-reply"]["Next"] == "agent-reply timed out"
    assert states["agent-reply timed out"]["Type"] == "Succeed"
    # on_timeout end: the timeout task, then the journey ends
    assert states["Hand off call-back"]["TimeoutSeconds"] == 2 * 86400
    assert states["Handoff timed out call-back"]["Next"] == "call-back timed out"


def test_every_callback_task_in_the_template_sets_timeout_seconds(handoff_template: dict[str, Any]) -> None:
    states = _definition(handoff_template)["States"]
    callbacks = [s for s in states.values() if str(s.get("Resource", "")).endswith("waitForTaskToken")]

    assert len(callbacks) == 3
    assert all(isinstance(s.get("TimeoutSeconds"), int) and s["TimeoutSeconds"] > 0 for s in callbacks)


def test_the_tasks_routes_take_iam_credentials(handoff_template: dict[str, Any]) -> None:
    template = assertions.Template.from_json(handoff_template)
    resources = _of_type(handoff_template, "AWS::ApiGateway::Resource")
    paths = {k: r["Properties"]["PathPart"] for k, r in resources.items()}
    tasks_id = next(k for k, p in paths.items() if p == "tasks")
    complete_id = next(k for k, p in paths.items() if p == "complete")

    template.has_resource_properties(
        "AWS::ApiGateway::Method",
        {"HttpMethod": "GET", "AuthorizationType": "AWS_IAM", "ResourceId": {"Ref": tasks_id}},
    )
    template.has_resource_properties(
        "AWS::ApiGateway::Method",
        {"HttpMethod": "POST", "AuthorizationType": "AWS_IAM", "ResourceId": {"Ref": complete_id}},
    )


def test_one_encrypted_topic_per_queue_and_their_arns_and_emails_in_the_environment(
    handoff_template: dict[str, Any],
) -> None:
    topics = _of_type(handoff_template, "AWS::SNS::Topic")
    names = {r["Properties"].get("DisplayName") for r in topics.values()}

    assert {
        "Baton tasks: support-agents",
        "Baton tasks: support-leads",
        "Baton tasks: account-managers",
    } <= names
    assert all("KmsMasterKeyId" in r["Properties"] for r in topics.values())
    functions = _of_type(handoff_template, "AWS::Lambda::Function")
    journey_step = next(r for k, r in functions.items() if k.startswith("JourneysJourneyStepFunction"))
    env = journey_step["Properties"]["Environment"]["Variables"]
    assert json.loads(env["BATON_QUEUE_EMAILS"]) == {"support-agents": "agents@example.com"}
    assert "BATON_QUEUE_TOPICS" in env
    assert "BATON_TASKS_TABLE" in env


def test_the_journey_function_publishes_and_the_private_api_answers_the_journeys(
    handoff_template: dict[str, Any],
) -> None:
    policies = _of_type(handoff_template, "AWS::IAM::Policy")
    statements = [
        (key, statement)
        for key, policy in policies.items()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]

    def actions(statement: dict[str, Any]) -> list[str]:
        found = statement["Action"]
        return [found] if isinstance(found, str) else list(found)

    send_task = [(k, s) for k, s in statements if "states:SendTaskSuccess" in actions(s)]
    assert send_task
    # the private API completes tasks (event waits and delivery receipts may resume executions too)
    assert any(k.startswith("PrivateApiFunction") for k, _ in send_task)
    assert all("*" not in json.dumps(s["Resource"]).replace(":*", "") for _, s in send_task)
    publish_topics = [
        (k, s)
        for k, s in statements
        if "sns:Publish" in actions(s) and "QueueTopic" in json.dumps(s["Resource"])
    ]
    assert publish_topics
    assert all(k.startswith("JourneysJourneyStepFunction") for k, _ in publish_topics)
