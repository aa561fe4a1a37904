"""Step Functions in local mode, piece by piece: state machines deployed with their definition's
intrinsics resolved to the local Lambda ARNs; when a Wait state ends and how long a Retry
backs off, computed on the virtual clock; which function a `lambda:invoke` names."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.stepfunctions.parser.api import StateMachineType
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.evaluation_details import AWSExecutionDetails
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventHistoryContext
from moto.stepfunctions.parser.asl.eval.states import ContextObjectData, ExecutionData, StateMachineData
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from infra.local.deploy import REPO_JOURNEYS_DIR, deploy
from infra.local.exceptions import TemplateError
from infra.local.stack import MOTO_CONFIG
from infra.local.stepfunctions import execution_id, function_name, retry_interval, wait_due

FIXTURE = Path(__file__).parent.parent / "e2e" / "local_stack_fixture" / "journey_template.json"
REGION = "us-east-1"
ACCOUNT = "123456789012"
NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
EXECUTION = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:Fixture-wait-a-day:c-1"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:unit-JourneyStepFunction5D6E7F80"


@pytest.fixture
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(FIXTURE.read_text())
    return loaded


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws(config=MOTO_CONFIG):
        yield


def _deploy(template: dict[str, Any]) -> Any:
    return deploy(template, region=REGION, prefix="unit", base_url="http://127.0.0.1:3999", stack_name="Unit")


# Deployment ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("moto")
def test_state_machines_are_created_with_the_local_lambda_arns_in_their_definition(
    template: dict[str, Any],
) -> None:
    deployment = _deploy(template)

    machine = deployment.state_machine("Fixture-wait-a-day")
    states = json.loads(machine.definition)["States"]
    assert states["First"]["Resource"] == "arn:aws:states:::lambda:invoke"
    assert states["First"]["Parameters"]["FunctionName"] == FUNCTION_ARN
    assert states["Pause"] == {"Type": "Wait", "Seconds": 86400, "Next": "Second"}
    retry = json.loads(deployment.state_machine("Fixture-retry").definition)["States"]["Flaky"]
    assert retry["Resource"] == FUNCTION_ARN
    described = boto3.client("stepfunctions").describe_state_machine(stateMachineArn=machine.arn)
    assert described["name"] == "Fixture-wait-a-day"
    assert json.loads(described["definition"]) == json.loads(machine.definition)


@pytest.mark.usefixtures("moto")
def test_state_machines_are_found_by_name_logical_id_or_construct_id(template: dict[str, Any]) -> None:
    deployment = _deploy(template)

    by_name = deployment.state_machine("Fixture-hold")
    assert deployment.state_machine("HoldMachine2B3C4D5E") is by_name
    assert deployment.state_machine("Hold") is by_name
    assert by_name.arn == f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:Fixture-hold"
    with pytest.raises(TemplateError, match="Nowhere"):
        deployment.state_machine("Nowhere")


@pytest.mark.usefixtures("moto")
def test_every_function_reads_the_repository_catalog_and_arn_prefix_is_resolved(
    template: dict[str, Any],
) -> None:
    deployment = _deploy(template)

    environment = deployment.function("JourneyStepFunction").environment
    assert environment["BATON_JOURNEYS_DIR"] == str(REPO_JOURNEYS_DIR)
    assert REPO_JOURNEYS_DIR.is_absolute()
    assert environment["BATON_STATE_MACHINE_ARN_PREFIX"] == (
        f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:Fixture-"
    )


@pytest.mark.usefixtures("moto")
def test_definition_substitutions_are_resolved(template: dict[str, Any]) -> None:
    changed = copy.deepcopy(template)
    props = changed["Resources"]["WaitADayMachine1A2B3C4D"]["Properties"]
    props["DefinitionString"] = json.dumps(
        {"StartAt": "Go", "States": {"Go": {"Type": "Task", "Resource": "${StepArn}", "End": True}}}
    )
    props["DefinitionSubstitutions"] = {"StepArn": {"Fn::GetAtt": ["JourneyStepFunction5D6E7F80", "Arn"]}}

    deployment = _deploy(changed)

    definition = json.loads(deployment.state_machine("Fixture-wait-a-day").definition)
    assert definition["States"]["Go"]["Resource"] == FUNCTION_ARN


@pytest.mark.usefixtures("moto")
def test_definition_naming_something_not_deployed_fails_naming_the_state_machine(
    template: dict[str, Any],
) -> None:
    broken = copy.deepcopy(template)
    props = broken["Resources"]["RetryMachine3C4D5E6F"]["Properties"]
    props["DefinitionString"]["Fn::Join"][1].append({"Fn::GetAtt": ["JourneysRoleA1B2C3D4", "Arn"]})

    with pytest.raises(TemplateError, match=r"RetryMachine3C4D5E6F definition.*IAM::Role"):
        _deploy(broken)

    assert boto3.client("stepfunctions").list_state_machines()["stateMachines"] == []


@pytest.mark.usefixtures("moto")
def test_a_definition_step_functions_refuses_fails_the_deploy(template: dict[str, Any]) -> None:
    broken = copy.deepcopy(template)
    broken["Resources"]["HoldMachine2B3C4D5E"]["Properties"]["DefinitionString"] = '{"StartAt": "Nowhere"}'

    with pytest.raises(TemplateError, match="HoldMachine2B3C4D5E: Step Functions refused"):
        _deploy(broken)


# Due times and backoff -------------------------------------------------------------------------


def _program(states: dict[str, Any]) -> Any:
    start = next(iter(states))
    program, _ = AmazonStateLanguageParser.parse(json.dumps({"StartAt": start, "States": states}))
    return program


def _environment(state_input: Any) -> Environment:
    env = Environment(
        aws_execution_details=AWSExecutionDetails(
            account=ACCOUNT, region=REGION, role_arn=f"arn:aws:iam::{ACCOUNT}:role/r"
        ),
        execution_type=StateMachineType.STANDARD,
        context=ContextObjectData(
            Execution=ExecutionData(Id=EXECUTION, Input=state_input, Name="c-1", RoleArn="r", StartTime="t"),
            StateMachine=StateMachineData(Id="sm", Name="Fixture-wait-a-day"),
        ),
        event_history_context=EventHistoryContext.of_program_start(),
        cloud_watch_logging_session=None,
        activity_store={},
    )
    env.next_state_name = "Pause"  # the program is running
    env.states.reset(input_value=state_input)
    env.stack.append(state_input)  # what a state sees while it evaluates
    return env


@pytest.mark.parametrize(
    ("wait", "state_input", "due"),
    [
        ({"Seconds": 86400}, {}, NOW + timedelta(days=1)),
        ({"SecondsPath": "$.pause"}, {"pause": 90}, NOW + timedelta(seconds=90)),
        ({"Timestamp": "2026-05-03T09:00:00Z"}, {}, datetime(2026, 5, 3, 9, 0, tzinfo=UTC)),
        (
            {"TimestampPath": "$.steps.tip.until"},
            {"steps": {"tip": {"until": "2026-05-04T12:00:00.250000Z"}}},
            datetime(2026, 5, 4, 12, 0, 0, 250000, tzinfo=UTC),
        ),
    ],
)
def test_wait_ends_at_now_plus_seconds_or_at_the_exact_timestamp(
    wait: dict[str, Any], state_input: dict[str, Any], due: datetime
) -> None:
    program = _program({"Pause": {"Type": "Wait", "End": True, **wait}})

    assert wait_due(program.states.states["Pause"].wait_function, _environment(state_input), NOW) == due


def test_wait_on_a_timestamp_without_z_fails_the_execution_as_in_aws() -> None:
    program = _program({"Pause": {"Type": "Wait", "TimestampPath": "$.until", "End": True}})
    env = _environment({"until": "2026-05-03T09:00:00+00:00"})

    with pytest.raises(FailureEventException):
        wait_due(program.states.states["Pause"].wait_function, env, NOW)


def _retrier(**policy: Any) -> Any:
    program = _program(
        {
            "Flaky": {
                "Type": "Task",
                "Resource": FUNCTION_ARN,
                "Retry": [{"ErrorEquals": ["Unavailable"], **policy}],
                "End": True,
            }
        }
    )
    return program.states.states["Flaky"].retry.retriers[0]


def test_retry_backs_off_by_its_rate_until_attempts_run_out() -> None:
    retrier = _retrier(IntervalSeconds=60, BackoffRate=2, MaxAttempts=3)
    env = _environment({})

    intervals = []
    for _ in range(4):
        env.stack.append(CustomErrorName("Unavailable"))
        intervals.append(retry_interval(retrier, env))
        env.stack.pop()

    assert intervals == [60, 120, 240, None]


def test_retry_with_full_jitter_never_waits_longer_than_the_interval() -> None:
    retrier = _retrier(IntervalSeconds=60, BackoffRate=2, MaxAttempts=4, JitterStrategy="FULL")
    env = _environment({})

    intervals = []
    for _ in range(3):
        env.stack.append(CustomErrorName("Unavailable"))
        intervals.append(retry_interval(retrier, env))
        env.stack.pop()

    ceilings = (60, 120, 240)
    assert all(
        seconds is not None and 0 <= seconds <= ceiling
        for seconds, ceiling in zip(intervals, ceilings, strict=True)
    )


def test_retry_does_not_apply_to_other_errors() -> None:
    retrier = _retrier(IntervalSeconds=60)
    env = _environment({})
    env.stack.append(CustomErrorName("PermanentFailure"))

    assert retry_interval(retrier, env) is None


def test_environment_knows_its_execution() -> None:
    assert execution_id(_environment({})) == EXECUTION


@pytest.mark.parametrize(
    "named",
    [
        "unit-JourneyStepFunction5D6E7F80",
        "unit-JourneyStepFunction5D6E7F80:$LATEST",
        FUNCTION_ARN,
        f"{FUNCTION_ARN}:live",
    ],
)
def test_lambda_invoke_names_the_function_by_name_or_arn(named: str) -> None:
    assert function_name(named) == "unit-JourneyStepFunction5D6E7F80"


def test_an_absent_path_a_choice_asks_about_is_not_logged_as_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import infra.local.stepfunctions  # noqa: F401 (installs the filter on moto's logger)

    moto_log = logging.getLogger("moto.stepfunctions.parser.asl.component.eval_component")
    with caplog.at_level(logging.ERROR):
        moto_log.error("%s at '%s'", "Exception=NoSuchJsonPathError, Details=None-Available", "$.resume")
        moto_log.error("%s at '%s'", "Exception=FailureEventException", "Send hello")

    assert [record.getMessage() for record in caplog.records] == [
        "Exception=FailureEventException at 'Send hello'"
    ]
