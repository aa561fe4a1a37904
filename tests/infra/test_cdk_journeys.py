"""Journeys in the template: one state machine per sample journey, compiled as the DSL says,
logged and traced; the function behind their tasks; the private API's triggers and grants."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import assertions

from baton.journeys.catalog import load_catalog
from baton.journeys.durations import parse_duration
from baton.journeys.exceptions import CatalogError
from baton.journeys.models import Journey
from baton.runner.exceptions import RETRYABLE_ERRORS
from infra import names
from infra.journeys.compiler import (
    FAILED_STATE,
    LAMBDA_SERVICE_ERRORS,
    LAMBDA_TIMEOUT_ERRORS,
    RECORD_FAILURE_STATE,
    STEP_BUILDERS,
    render_definition,
    step_form,
)
from infra.names import ROUTES, Access
from infra.synth import ROOT, build_app, cdk_json_context

STATE_MACHINE = "AWS::StepFunctions::StateMachine"
FUNCTION = "AWS::Lambda::Function"
SAMPLES: dict[str, Journey] = load_catalog(ROOT / "journeys").journeys
STACK = cdk_json_context()["baton"]["stackName"]
FAKE_ARN = "arn:aws:lambda:us-east-1:123456789012:function:JourneyStep"
# Callback tasks (handoff, wait for event, confirm_delivery) run on this integration,
# the function in Parameters.FunctionName; CDK writes the partition as a pseudo parameter.
PARTITION = {"Ref": "AWS::Partition"}
CALLBACK_RESOURCE = "arn:aws:states:::lambda:invoke.waitForTaskToken"


def _function_id(template: assertions.Template, function_id: str) -> str:
    (logical_id,) = template.find_resources(
        FUNCTION, {"Properties": {"Handler": names.HANDLERS[function_id]}}
    )
    return logical_id


def _state_machine(template_json: Mapping[str, Any], journey_id: str) -> dict[str, Any]:
    (found,) = [
        r["Properties"]
        for r in template_json["Resources"].values()
        if r["Type"] == STATE_MACHINE and r["Properties"]["StateMachineName"] == f"{STACK}-{journey_id}"
    ]
    return found


def _definition(
    template_json: Mapping[str, Any], journey_id: str, function_arn: str = FAKE_ARN
) -> dict[str, Any]:
    """The DefinitionString with every GetAtt of a function ARN replaced by `function_arn` and the
    partition (callback tasks' resource) by `aws`, as render_definition writes it."""
    parts = _state_machine(template_json, journey_id)["DefinitionString"]["Fn::Join"][1]
    text = "".join(
        part if isinstance(part, str) else "aws" if part == PARTITION else function_arn for part in parts
    )
    definition: dict[str, Any] = json.loads(text)
    return definition


def test_there_is_one_state_machine_per_sample_journey(template: assertions.Template) -> None:
    names_found = {
        r["Properties"]["StateMachineName"] for r in template.find_resources(STATE_MACHINE).values()
    }

    assert SAMPLES, "the sample catalog has journeys"
    # besides the stack's one campaign state machine (test_cdk_campaigns)
    assert names_found == {f"{STACK}-{journey_id}" for journey_id in SAMPLES} | {
        names.campaign_state_machine_name(STACK)
    }


@pytest.mark.parametrize("journey_id", sorted(SAMPLES))
def test_r_rel_1_the_state_machine_is_standard_logs_every_state_without_data_and_traces(
    template_json: dict[str, Any], template: assertions.Template, journey_id: str
) -> None:
    properties = _state_machine(template_json, journey_id)

    assert properties["StateMachineType"] == "STANDARD"  # R-REL-1
    assert properties["TracingConfiguration"] == {"Enabled": True}
    logging = properties["LoggingConfiguration"]
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is False  # contact ids and event data stay out of the logs
    (destination,) = logging["Destinations"]
    log_group_id = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    log_group = template.find_resources("AWS::Logs::LogGroup")[log_group_id]
    assert log_group["Properties"]["RetentionInDays"] == cdk_json_context()["baton"]["logRetentionDays"]


@pytest.mark.parametrize("journey_id", sorted(SAMPLES))
def test_every_task_invokes_the_journey_step_function(
    template_json: dict[str, Any], template: assertions.Template, journey_id: str
) -> None:
    parts = _state_machine(template_json, journey_id)["DefinitionString"]["Fn::Join"][1]
    functions = {json.dumps(part) for part in parts if not isinstance(part, str) and part != PARTITION}

    step_function = _function_id(template, names.JOURNEY_STEP_FUNCTION)
    assert functions == {json.dumps({"Fn::GetAtt": [step_function, "Arn"]})}
    # and every task is that function: invoked directly, or as a callback task
    tasks = [s for s in _definition(template_json, journey_id)["States"].values() if s["Type"] == "Task"]
    assert tasks
    for task in tasks:
        if task["Resource"] == CALLBACK_RESOURCE:
            assert task["Parameters"]["FunctionName"] == FAKE_ARN
        else:
            assert task["Resource"] == FAKE_ARN


@pytest.mark.parametrize("journey_id", sorted(SAMPLES))
def test_the_deployed_definition_is_the_compilers_jsonpath_definition(
    template_json: dict[str, Any], journey_id: str
) -> None:
    deployed = _definition(template_json, journey_id)
    deployed.pop("Comment", None)

    assert deployed == render_definition(SAMPLES[journey_id], function_arn=FAKE_ARN)
    assert deployed["QueryLanguage"] == "JSONPath"


def _steps_of_form(form: str) -> list[tuple[str, str]]:
    """The sample steps compiled by the builder of `form` (compiler.step_form)."""
    return [
        (journey_id, step.id)
        for journey_id, journey in sorted(SAMPLES.items())
        for step in journey.steps
        if step_form(step) == form
    ]


def test_the_samples_have_every_step_form() -> None:
    # the shape tests below are parametrized by form: none of them may be left without a case
    assert {step_form(step) for journey in SAMPLES.values() for step in journey.steps} == set(STEP_BUILDERS)


@pytest.mark.parametrize(("journey_id", "step_id"), _steps_of_form("send"))
def test_a_send_is_a_task_a_choice_on_its_outcome_and_a_wait_until_loop(
    template_json: dict[str, Any], journey_id: str, step_id: str
) -> None:
    states = _definition(template_json, journey_id)["States"]

    task, choice, hold = states[f"Send {step_id}"], states[f"{step_id} outcome"], states[f"Hold {step_id}"]

    assert task["Type"] == "Task"
    assert task["Parameters"]["action"] == "send"
    assert task["ResultPath"] == f"$.steps.{step_id}"
    assert task["Next"] == f"{step_id} outcome"
    assert choice["Type"] == "Choice"
    routes = {c["StringEquals"]: c["Next"] for c in choice["Choices"] if "StringEquals" in c}
    assert set(routes) == {"sent", "held", "skipped", "failed"}
    # held: the turn is counted on the way to the hold (R-REL-1)
    assert routes["held"] == f"Turn +1 Hold {step_id}"
    assert states[routes["held"]]["Next"] == f"Hold {step_id}"
    assert hold == {"Type": "Wait", "TimestampPath": f"$.steps.{step_id}.until", "Next": f"Send {step_id}"}
    assert states[routes["skipped"]]["Type"] == "Succeed"
    assert states[routes["failed"]]["Type"] == "Fail"


@pytest.mark.parametrize(("journey_id", "step_id"), _steps_of_form("send.confirm_delivery"))
def test_a_confirmed_send_is_per_channel_a_send_task_and_a_receipt_callback_of_its_duration(
    template_json: dict[str, Any], journey_id: str, step_id: str
) -> None:
    states = _definition(template_json, journey_id)["States"]
    step = SAMPLES[journey_id].step(step_id)
    assert step.send is not None
    assert step.send.confirm_delivery is not None
    seconds = parse_duration(step.send.confirm_delivery).total_seconds()
    channels = [str(channel) for channel in step.send.channels]
    # failover order: each channel falls over to the next, the last to `Not delivered <id>`
    failovers = [*(f"Send {step_id} by {c}" for c in channels[1:]), f"Not delivered {step_id}"]

    assert f"Send {step_id}" not in states  # no plain send
    for channel, failover in zip(channels, failovers, strict=True):
        label = f"{step_id} by {channel}"
        send, sent = states[f"Send {label}"], states[f"{label} sent?"]
        assert send["Type"] == "Task"
        assert send["Parameters"]["action"] == "send_channel"
        assert send["Parameters"]["channel"] == channel
        assert send["ResultPath"] == f"$.steps.{step_id}"
        assert send["Next"] == f"{label} sent?"
        routes = {c["StringEquals"]: c["Next"] for c in sent["Choices"] if "StringEquals" in c}
        assert states[routes["held"]]["Next"] == f"Hold {label}"  # a turn counted on the way (R-REL-1)
        assert states[f"Hold {label}"] == {
            "Type": "Wait",
            "TimestampPath": f"$.steps.{step_id}.until",
            "Next": f"Send {label}",
        }
        assert routes["sent"] == f"Await receipt {label}"
        receipt = states[f"Await receipt {label}"]
        assert receipt["Resource"] == CALLBACK_RESOURCE
        assert receipt["Parameters"]["Payload"]["action"] == "await_receipt"
        assert receipt["Parameters"]["Payload"]["token.$"] == "$$.Task.Token"
        assert receipt["TimeoutSeconds"] == seconds  # R-REL-3
        assert receipt["Catch"][0]["ErrorEquals"] == ["States.Timeout"]
        assert receipt["Catch"][0]["Next"] == failover
        assert states[receipt["Next"]]["Default"] == failover  # not delivered: the next channel
        refused = [c for c in sent["Choices"] if "Or" in c]
        assert [c["Next"] for c in refused] == [failover]
    not_delivered = states[f"Not delivered {step_id}"]
    assert not_delivered["Parameters"]["action"] == "send_channel"
    assert "channel" not in not_delivered["Parameters"]


@pytest.mark.parametrize(("journey_id", "step_id"), _steps_of_form("wait.duration"))
def test_a_wait_is_a_wait_state_of_its_duration(
    template_json: dict[str, Any], journey_id: str, step_id: str
) -> None:
    wait = _definition(template_json, journey_id)["States"][f"Wait {step_id}"]
    step = SAMPLES[journey_id].step(step_id)
    assert step.wait is not None
    assert step.wait.duration is not None

    assert wait["Type"] == "Wait"
    assert wait["Seconds"] == parse_duration(step.wait.duration).total_seconds()


@pytest.mark.parametrize(("journey_id", "step_id"), _steps_of_form("wait.event"))
def test_a_wait_for_an_event_is_a_callback_task_of_its_timeout(
    template_json: dict[str, Any], journey_id: str, step_id: str
) -> None:
    states = _definition(template_json, journey_id)["States"]
    step = SAMPLES[journey_id].step(step_id)
    assert step.wait is not None
    assert step.wait.event is not None
    assert step.wait.timeout is not None

    waiting = states[f"Await {step_id}"]

    assert f"Wait {step_id}" not in states
    assert waiting["Type"] == "Task"
    assert waiting["Resource"] == CALLBACK_RESOURCE
    assert waiting["Parameters"]["Payload"]["action"] == "await_event"
    assert waiting["Parameters"]["Payload"]["token.$"] == "$$.Task.Token"
    assert waiting["ResultPath"] == f"$.steps.{step_id}"
    assert waiting["TimeoutSeconds"] == parse_duration(step.wait.timeout).total_seconds()  # R-REL-3
    assert waiting["Catch"][0]["ErrorEquals"] == ["States.Timeout"]


@pytest.mark.parametrize(("journey_id", "step_id"), _steps_of_form("branch"))
def test_a_branch_is_a_task_then_a_choice_on_its_answer(
    template_json: dict[str, Any], journey_id: str, step_id: str
) -> None:
    states = _definition(template_json, journey_id)["States"]
    step = SAMPLES[journey_id].step(step_id)
    assert step.branch is not None

    choice = states[f"{step_id} next"]

    assert states[f"Branch {step_id}"]["Next"] == f"{step_id} next"
    chosen = {c["StringEquals"] for c in choice["Choices"]}
    assert all(c["Variable"] == f"$.steps.{step_id}.next" for c in choice["Choices"])
    assert chosen == {case.next for case in step.branch.cases} | {step.branch.default}


@pytest.mark.parametrize("journey_id", sorted(SAMPLES))
def test_r_rel_4_tasks_retry_with_full_jitter_and_catch_into_the_fail_task(
    template_json: dict[str, Any], journey_id: str
) -> None:
    states = _definition(template_json, journey_id)["States"]
    tasks = {name: s for name, s in states.items() if s["Type"] == "Task"}

    for name, task in tasks.items():
        (retry,) = task["Retry"]
        assert retry["JitterStrategy"] == "FULL"
        # A send also retries a Lambda timeout: its ledger makes running it again safe.
        sends = {*LAMBDA_TIMEOUT_ERRORS} if name.startswith(("Send ", "Not delivered ")) else set()
        assert set(retry["ErrorEquals"]) == {*LAMBDA_SERVICE_ERRORS, *RETRYABLE_ERRORS, *sends}
        assert (retry["IntervalSeconds"], retry["MaxAttempts"], retry["BackoffRate"]) == (2, 4, 2)
        # callback tasks first catch their timeout (R-REL-3: they all have one)
        *timeouts, catch = task["Catch"]
        if task["Resource"] == CALLBACK_RESOURCE:
            assert [c["ErrorEquals"] for c in timeouts] == [["States.Timeout"]]
            assert task["TimeoutSeconds"] > 0
        else:
            assert timeouts == []
        assert catch["ErrorEquals"] == ["States.ALL"]
        assert catch["Next"] == (FAILED_STATE if name == RECORD_FAILURE_STATE else RECORD_FAILURE_STATE)
    assert states[RECORD_FAILURE_STATE]["Parameters"]["action"] == "fail"


def test_the_retried_baton_errors_are_those_the_runner_raises() -> None:
    assert set(RETRYABLE_ERRORS) == {
        "Baton.ProviderUnavailable",
        "Baton.Throttled",
        "Baton.RecordingUnfinished",
        "Baton.AwsUnavailable",
    }


@pytest.mark.parametrize("journey_id", sorted(SAMPLES))
def test_r_rel_5_a_failed_execution_raises_an_alarm(template: assertions.Template, journey_id: str) -> None:
    alarms = template.find_resources(
        "AWS::CloudWatch::Alarm",
        {"Properties": {"MetricName": "ExecutionsFailed", "Namespace": "AWS/States"}},
    )

    assert any(journey_id in a["Properties"]["AlarmDescription"] for a in alarms.values())


# The journey step function --------------------------------------------------------------------


def _policy_statements(template: assertions.Template, function_id: str) -> list[dict[str, Any]]:
    role_id = template.find_resources(FUNCTION)[_function_id(template, function_id)]["Properties"]["Role"][
        "Fn::GetAtt"
    ][0]
    statements: list[dict[str, Any]] = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def _actions(statement: Mapping[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def test_the_journey_step_function_may_send_through_end_user_messaging_and_whatsapp(
    template: assertions.Template,
) -> None:
    statements = _policy_statements(template, names.JOURNEY_STEP_FUNCTION)

    (sms_voice,) = [s for s in statements if "sms-voice:SendTextMessage" in _actions(s)]
    (whatsapp,) = [s for s in statements if "social-messaging:SendWhatsAppMessage" in _actions(s)]

    assert _actions(sms_voice) == {"sms-voice:SendTextMessage", "sms-voice:SendVoiceMessage"}
    assert "*" not in sms_voice["Resource"]  # this account and region's identities, not every ARN
    assert whatsapp["Resource"] != "*"


def test_r_eum_2_every_function_that_answers_or_sends_texts_may_use_end_user_messaging(
    template: assertions.Template,
) -> None:
    # Once End User Messaging is configured, HELP and STOP answers (R-EUM-2), the API's
    # confirmation texts and hand-off notices go through it as well as journey sends.
    for function_id in names.HANDLERS:
        actions = {a for s in _policy_statements(template, function_id) for a in _actions(s)}
        assert {"sms-voice:SendTextMessage", "social-messaging:SendWhatsAppMessage"} <= actions, function_id


# The private API: triggers, inventory, executions ----------------------------------------------

JOURNEY_ROUTES = [("POST", "/v1/events"), ("GET", "/v1/journeys"), ("GET", "/v1/journeys/{journey_id}")]


@pytest.mark.parametrize(("method", "path"), JOURNEY_ROUTES)
def test_the_journey_routes_are_private_routes_of_the_private_api_function(method: str, path: str) -> None:
    (route,) = [r for r in ROUTES if (r.method, r.path) == (method, path)]

    assert route.access is Access.PRIVATE  # AWS_IAM in the template (test_cdk_api)
    assert route.function == names.PRIVATE_API_FUNCTION


def _states_statements(
    template: assertions.Template, function_id: str = names.PRIVATE_API_FUNCTION
) -> dict[str, dict[str, Any]]:
    # The campaign state machine's own grants (a run's start and cancel) are tested with it.
    statements = [s for s in _policy_statements(template, function_id) if "-Campaigns" not in json.dumps(s)]
    return {action: s for s in statements for action in _actions(s) if action.startswith("states:")}


def _arn_text(value: Any) -> str:
    """A format_arn Fn::Join as text, pseudo parameters kept as `${...}`."""
    parts = value["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else "${" + p["Ref"] + "}" for p in parts)


# The private API starts runs and stops them (exit_on); the journey function hands a long run on
# to a new execution of its own state machine and stops it if the run was exited meanwhile (R-REL-1).
EXECUTION_RUNNERS = [names.PRIVATE_API_FUNCTION, names.JOURNEY_STEP_FUNCTION]


@pytest.mark.parametrize("function_id", EXECUTION_RUNNERS)
def test_r_rel_1_the_private_api_and_the_journey_function_may_start_only_the_journeys_state_machines(
    template: assertions.Template, function_id: str
) -> None:
    statement = _states_statements(template, function_id)["states:StartExecution"]

    # CDK merges the task-response grants on the same ARNs (SendTask*: resume a waiting
    # execution) into this statement; starting is still the only execution-creating action.
    assert "states:StartExecution" in _actions(statement)
    assert _actions(statement) <= {
        "states:StartExecution",
        "states:SendTaskSuccess",
        "states:SendTaskFailure",
        "states:SendTaskHeartbeat",
    }
    assert sorted(_arn_text(r) for r in statement["Resource"]) == sorted(
        f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:stateMachine:{STACK}-{journey_id}"
        for journey_id in SAMPLES
    )


@pytest.mark.parametrize("function_id", EXECUTION_RUNNERS)
def test_the_private_api_and_the_journey_function_may_stop_and_describe_only_the_journeys_executions(
    template: assertions.Template, function_id: str
) -> None:
    statements = _states_statements(template, function_id)
    statement = statements["states:StopExecution"]

    assert statements["states:DescribeExecution"] is statement
    assert _actions(statement) == {"states:StopExecution", "states:DescribeExecution"}
    assert sorted(_arn_text(r) for r in statement["Resource"]) == sorted(
        f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:execution:{STACK}-{journey_id}:*"
        for journey_id in SAMPLES
    )


# The CRM's events (private API) and confirmations (link, YES) start journeys; nothing else does.
# Functions that answer a parked task (a delivery receipt), but start nothing.
TASK_ANSWERS = {
    names.FEEDBACK_FUNCTION: {"states:SendTaskSuccess"},
}
JOURNEY_STARTERS = {
    names.PRIVATE_API_FUNCTION,
    names.PUBLIC_API_FUNCTION,
    names.SMS_INBOUND_FUNCTION,
    names.EVENTS_FUNCTION,  # the Baton event bus
    names.SCHEDULE_FUNCTION,  # schedule triggers
    names.JOURNEY_STEP_FUNCTION,  # a long run's next execution (R-REL-1)
    names.CAMPAIGN_FUNCTION,  # a contact a campaign batch holds goes on in its journey's execution
}


def test_only_event_and_confirmation_functions_may_start_journeys(template: assertions.Template) -> None:
    for function_id in names.HANDLERS:
        if function_id not in JOURNEY_STARTERS:
            assert not any(
                a.startswith("states:") and a not in TASK_ANSWERS.get(function_id, set())
                for s in _policy_statements(template, function_id)
                for a in _actions(s)
            )


@pytest.mark.parametrize("function_id", names.HANDLERS)
def test_functions_know_the_state_machine_arn_prefix_and_the_catalog_folder(
    template: assertions.Template, function_id: str
) -> None:
    variables = template.find_resources(FUNCTION)[_function_id(template, function_id)]["Properties"][
        "Environment"
    ]["Variables"]

    assert variables[names.ENV_JOURNEYS_DIR] == "journeys"  # next to `baton/` in the asset
    assert (
        _arn_text(variables[names.ENV_STATE_MACHINE_ARN_PREFIX])
        == f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:stateMachine:{STACK}-"
    )


def test_the_private_api_function_does_not_depend_on_the_state_machines(
    template_json: dict[str, Any],
) -> None:
    # ARNs from names, not references: no function waits for a state machine to deploy
    machines = {lid for lid, r in template_json["Resources"].items() if r["Type"] == STATE_MACHINE}
    # A state machine's own policies may name it (a Distributed Map starts its child executions).
    machine_roles = [
        {"Ref": r["Properties"]["RoleArn"]["Fn::GetAtt"][0]}
        for r in template_json["Resources"].values()
        if r["Type"] == STATE_MACHINE
    ]
    for resource in template_json["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy" and any(
            role in machine_roles for role in resource["Properties"]["Roles"]
        ):
            continue
        if resource["Type"] in (FUNCTION, "AWS::IAM::Policy"):
            text = json.dumps(resource)
            assert not any(machine in text for machine in machines)


# Synth and the catalog -------------------------------------------------------------------------

BROKEN_JOURNEY = """\
journey: broken
owner: growth@example.com
purpose: transactional
review_by: 2027-01-01
trigger: {event: x.happened}
steps:
  - id: hello
    send: {template: welcome-hello, channels: [pigeon]}
"""


def _catalog_copy(tmp_path: Path) -> Path:
    catalog = tmp_path / "journeys"
    shutil.copytree(ROOT / "journeys", catalog)
    return catalog


def test_synth_fails_on_an_invalid_journey_with_the_catalogs_own_words(tmp_path: Path) -> None:
    # given the samples plus a journey with an unknown channel
    catalog = _catalog_copy(tmp_path)
    (catalog / "broken.yaml").write_text(BROKEN_JOURNEY)

    # when the app is built, then synth stops with every issue, file and line named
    with pytest.raises(CatalogError) as failure:
        build_app(
            outdir=str(tmp_path / "out"), bundling=False, context={"baton": {"journeysDir": str(catalog)}}
        )

    message = str(failure.value)
    assert "broken.yaml:8" in message  # the channel
    assert "pigeon" in message


def test_synth_compiles_a_handoff_step(tmp_path: Path) -> None:
    # A handoff step synthesizes (details in tests/infra/test_cdk_handoff.py).
    catalog = _catalog_copy(tmp_path)
    text = (catalog / "order-shipped.yaml").read_text()
    (catalog / "order-shipped.yaml").write_text(
        text + "  - id: call\n    handoff: {queue: agents, sla: 1d, on_timeout: end}\n"
    )

    app = build_app(
        outdir=str(tmp_path / "out"), bundling=False, context={"baton": {"journeysDir": str(catalog)}}
    )

    assert "Hand off call" in json.dumps(app.synth().stacks[0].template)


def _sample_queues() -> set[str]:
    return {
        queue
        for journey in SAMPLES.values()
        for step in journey.steps
        if step.handoff is not None
        for queue in (step.handoff.queue, step.handoff.escalate_to)
        if queue
    }


def test_the_sample_hand_off_queues_need_no_cdk_json_config(
    template_json: dict[str, Any], template: assertions.Template
) -> None:
    # given cdk.json configures no queue (no email), the sample's queues still get a topic each
    assert "queues" not in cdk_json_context()["baton"]
    assert _sample_queues() == {"support-agents", "support-leads", "account-managers"}
    display_names = {
        r["Properties"].get("DisplayName") for r in template.find_resources("AWS::SNS::Topic").values()
    }
    assert {f"Baton tasks: {queue}" for queue in _sample_queues()} <= display_names

    # and the journey step function knows each topic, and no email for any of them
    variables = template.find_resources(FUNCTION)[_function_id(template, names.JOURNEY_STEP_FUNCTION)][
        "Properties"
    ]["Environment"]["Variables"]
    assert json.loads(variables[names.settings_env("queue_emails")]) == {}
    topics = variables[names.settings_env("queue_topics")]
    text = json.dumps(topics)
    assert all(f'\\"{queue}\\"' in text for queue in _sample_queues()), text
