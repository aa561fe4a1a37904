"""The Baton event bus (rule -> EventsFunction, dead-letter queue and alarm,
R-REL-5), the SendTaskSuccess grants of the functions that record events, and a synthesized
`wait: {event, timeout}` step (callback task with TimeoutSeconds, R-REL-3, and its Catch)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from typing import Any

import pytest
from aws_cdk import Stack, assertions

from infra import names
from infra.synth import ROOT, build_app, cdk_json_context

STACK = cdk_json_context()["baton"]["stackName"]
FUNCTION = "AWS::Lambda::Function"
RULE = "AWS::Events::Rule"
QUEUE = "AWS::SQS::Queue"
# The functions that call EventService.record, so resume waiting executions.
EVENT_RECORDERS = (
    names.PRIVATE_API_FUNCTION,
    names.PUBLIC_API_FUNCTION,
    names.SMS_INBOUND_FUNCTION,
    names.EVENTS_FUNCTION,
)
WAIT_JOURNEY = """\
journey: survey-wait
owner: cx@example.com
purpose: transactional
review_by: 2027-06-30
trigger:
  event: ticket.closed
steps:
  - id: answered
    wait: {event: survey.answered, timeout: 3d}
  - id: route
    branch:
      cases:
        - when: {event_received: answered}
          next: end
      default: thanks
  - id: thanks
    send: {template: order-shipped, channels: [email]}
"""


def _function_id(template: assertions.Template, function_id: str) -> str:
    (logical_id,) = template.find_resources(
        FUNCTION, {"Properties": {"Handler": names.HANDLERS[function_id]}}
    )
    return logical_id


def _only(template: assertions.Template, resource_type: str) -> tuple[str, Mapping[str, Any]]:
    ((logical_id, resource),) = template.find_resources(resource_type).items()
    return logical_id, resource


def _events_queue_id(template: assertions.Template) -> str:
    (logical_id,) = [lid for lid in template.find_resources(QUEUE) if lid.startswith(names.EVENTS)]
    return logical_id


def _policy_statements(template: assertions.Template, function_id: str) -> list[dict[str, Any]]:
    function = template.find_resources(FUNCTION)[_function_id(template, function_id)]
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: Mapping[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def test_there_is_one_baton_bus(template: assertions.Template) -> None:
    template.resource_count_is("AWS::Events::EventBus", 1)
    template.has_resource_properties("AWS::Events::EventBus", {"Name": STACK.lower()})
    template.has_output("*", {"Value": {"Ref": _only(template, "AWS::Events::EventBus")[0]}})


def _bus_rule(template: assertions.Template) -> tuple[str, Mapping[str, Any]]:
    """The rule on the Baton bus (delivery feedback has its rules on the default bus)."""
    bus_id, _ = _only(template, "AWS::Events::EventBus")
    ((logical_id, rule),) = [
        (lid, rule)
        for lid, rule in template.find_resources(RULE).items()
        if rule["Properties"].get("EventBusName") == {"Ref": bus_id}
    ]
    return logical_id, rule


def test_the_rule_on_the_bus_matches_baton_envelopes_from_any_source(template: assertions.Template) -> None:
    bus_id, _ = _only(template, "AWS::Events::EventBus")
    _, rule = _bus_rule(template)
    properties = rule["Properties"]

    assert properties["EventBusName"] == {"Ref": bus_id}
    assert properties["State"] == "ENABLED"
    assert properties["EventPattern"] == {
        "detail": {"contact_id": [{"exists": True}], "idempotency_key": [{"exists": True}]}
    }  # no `source`: any system may send; detail-type is the event type


def test_the_rule_invokes_the_events_function_with_a_dead_letter_queue(template: assertions.Template) -> None:
    _, rule = _bus_rule(template)
    (target,) = rule["Properties"]["Targets"]
    queue_arn = {"Fn::GetAtt": [_events_queue_id(template), "Arn"]}

    assert target["Arn"] == {"Fn::GetAtt": [_function_id(template, names.EVENTS_FUNCTION), "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": queue_arn}
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] == 24 * 3600
    template.has_resource_properties(
        "AWS::Lambda::Permission",
        {"Principal": "events.amazonaws.com", "Action": "lambda:InvokeFunction"},
    )


def test_the_events_function_sends_failed_invocations_to_the_same_queue(
    template: assertions.Template,
) -> None:
    function = template.find_resources(FUNCTION)[_function_id(template, names.EVENTS_FUNCTION)]
    queue_id = _events_queue_id(template)

    assert function["Properties"]["Handler"] == "baton.handlers.bus_events.handler"
    assert function["Properties"]["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    queue = template.find_resources(QUEUE)[queue_id]
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_a_message_in_the_events_dead_letter_queue_raises_an_alarm(template: assertions.Template) -> None:
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [
                {"Name": "QueueName", "Value": {"Fn::GetAtt": [_events_queue_id(template), "QueueName"]}}
            ],
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "AlarmDescription": assertions.Match.string_like_regexp("R-REL-5"),
        },
    )


@pytest.mark.parametrize("function_id", EVENT_RECORDERS)
def test_functions_that_record_events_may_resume_the_journeys_executions(
    template: assertions.Template, function_id: str
) -> None:
    statements = [
        s for s in _policy_statements(template, function_id) if "states:SendTaskSuccess" in _actions(s)
    ]

    assert statements
    for statement in statements:
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        assert "*" not in resources
        for resource in resources:
            text = "".join(p if isinstance(p, str) else "" for p in resource["Fn::Join"][1])
            assert f":stateMachine:{STACK}-" in text


def test_the_journey_step_function_resumes_nothing_but_delivery_receipts(
    template: assertions.Template,
) -> None:
    # `await_receipt` answers a delivery receipt that came before its waiter, so the
    # function may SendTaskSuccess; what it may resume is checked in tests/infra/test_cdk_feedback.py.
    # CDK merges it with the grant to start a long run's next execution on the same state
    # machines (R-REL-1, tests/infra/test_cdk_journeys.py); no other task answer is granted.
    statements = [
        s
        for s in _policy_statements(template, names.JOURNEY_STEP_FUNCTION)
        if "states:SendTaskSuccess" in _actions(s)
    ]

    assert statements
    assert all(_actions(s) <= {"states:SendTaskSuccess", "states:StartExecution"} for s in statements)


# A synthesized wait for an event -----------------------------------------------------------------


@pytest.fixture(scope="module")
def wait_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp_path = tmp_path_factory.mktemp("wait")
    catalog = tmp_path / "journeys"
    shutil.copytree(ROOT / "journeys", catalog)
    (catalog / "survey-wait.yaml").write_text(WAIT_JOURNEY)
    app = build_app(
        outdir=str(tmp_path / "out"), bundling=False, context={"baton": {"journeysDir": str(catalog)}}
    )
    stack = app.node.find_child("Baton")
    assert isinstance(stack, Stack)
    template: dict[str, Any] = dict(assertions.Template.from_stack(stack).to_json())
    return template


def _wait_definition(template_json: Mapping[str, Any]) -> dict[str, Any]:
    (properties,) = [
        r["Properties"]
        for r in template_json["Resources"].values()
        if r["Type"] == "AWS::StepFunctions::StateMachine"
        and r["Properties"]["StateMachineName"] == f"{STACK}-survey-wait"
    ]
    parts = properties["DefinitionString"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "${" + json.dumps(p).replace('"', "'") + "}" for p in parts)
    definition: dict[str, Any] = json.loads(text)
    return definition


def test_the_synthesized_wait_is_a_callback_task_with_timeout_seconds(wait_template: dict[str, Any]) -> None:
    state = _wait_definition(wait_template)["States"]["Await answered"]

    assert state["Resource"].endswith(":states:::lambda:invoke.waitForTaskToken")
    assert state["TimeoutSeconds"] == 3 * 24 * 3600  # R-REL-3
    assert state["Parameters"]["Payload"]["action"] == "await_event"
    assert state["Parameters"]["Payload"]["token.$"] == "$$.Task.Token"
    assert state["ResultPath"] == "$.steps.answered"
    assert state["Next"] == "Branch route"


def test_the_synthesized_wait_catches_the_timeout_into_the_timed_out_task(
    wait_template: dict[str, Any],
) -> None:
    states = _wait_definition(wait_template)["States"]
    catches = states["Await answered"]["Catch"]

    assert catches[0] == {
        "ErrorEquals": ["States.Timeout"],
        "ResultPath": "$.steps.answered",
        "Next": "Timed out answered",
    }
    assert catches[-1]["ErrorEquals"] == ["States.ALL"]
    assert states["Timed out answered"]["Parameters"]["action"] == "wait_timed_out"
    assert states["Timed out answered"]["Next"] == "Branch route"


def test_r_rel_3_every_callback_task_of_the_stack_sets_timeout_seconds(wait_template: dict[str, Any]) -> None:
    callbacks = [
        state
        for r in wait_template["Resources"].values()
        if r["Type"] == "AWS::StepFunctions::StateMachine"
        for state in json.loads(
            "".join(
                p if isinstance(p, str) else "X" for p in r["Properties"]["DefinitionString"]["Fn::Join"][1]
            )
        )["States"].values()
        if str(state.get("Resource", "")).endswith("waitForTaskToken")
    ]

    assert callbacks
    assert all(isinstance(state.get("TimeoutSeconds"), int) for state in callbacks)
