"""The journey compiler's Amazon States Language for small journeys, read as a dict."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from baton.journeys.models import Journey
from infra.journeys.compiler import (
    BATON_RETRYABLE_ERRORS,
    COMPLETED_STATE,
    FAILED_STATE,
    FINISH_STATE,
    LAMBDA_SERVICE_ERRORS,
    LAMBDA_TIMEOUT_ERRORS,
    RECORD_FAILURE_STATE,
    START_STATE,
    STEP_BUILDERS,
    render_definition,
    step_form,
)

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:Baton-JourneyStep"


def _journey(steps: list[dict[str, Any]], **overrides: Any) -> Journey:
    document: dict[str, Any] = {
        "journey": "welcome",
        "owner": "growth@example.com",
        "purpose": "transactional",
        "review_by": "2027-01-01",
        "trigger": {"event": "contact.confirmed"},
        "steps": steps,
        **overrides,
    }
    return Journey.model_validate(document)


def _definition(steps: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    return render_definition(_journey(steps, **overrides), function_arn=FUNCTION_ARN)


SEND = {"id": "welcome-sms", "send": {"template": "welcome", "channels": ["sms", "email"]}}


def _begins_at(definition: Mapping[str, Any]) -> str:
    """The state a run that is not resumed from another execution begins at."""
    start: str = definition["StartAt"]
    if start != START_STATE:
        return start
    (fresh,) = [
        choice["Next"]
        for choice in definition["States"][start]["Choices"]
        if choice.get("Variable") == "$.resume" and choice.get("IsPresent") is False
    ]
    return str(fresh)


def _holds(rule: Mapping[str, Any], answers: Mapping[str, Any]) -> bool:
    """Whether a Choice rule holds when the paths in `answers` have those values (and no other
    path exists)."""
    if "And" in rule:
        return all(_holds(r, answers) for r in rule["And"])
    if "Not" in rule:
        return not _holds(rule["Not"], answers)
    variable = rule["Variable"]
    if "IsPresent" in rule:
        return (variable in answers) is rule["IsPresent"]
    if "StringEquals" in rule:
        return answers.get(variable) == rule["StringEquals"]
    if "NumericGreaterThanEquals" in rule:
        return variable in answers and answers[variable] >= rule["NumericGreaterThanEquals"]
    if "BooleanEquals" in rule:
        return answers.get(variable) is rule["BooleanEquals"]
    raise AssertionError(f"a rule this walk does not read: {rule}")


def _walk(
    definition: Mapping[str, Any], start: str, answers: Mapping[str, str], stop_at: set[str]
) -> list[str]:
    """The states entered from `start` until one of `stop_at` (not counted): each state entered is
    one state transition. `answers` gives the value a Choice reads, by its Variable."""
    states = definition["States"]
    entered: list[str] = []
    name = start
    while name not in stop_at:
        entered.append(name)
        state = states[name]
        if state["Type"] == "Choice":
            matches = [c["Next"] for c in state["Choices"] if _holds(c, answers)]
            name = matches[0] if matches else state["Default"]
        elif "Next" in state:
            name = state["Next"]
        else:
            break
    return entered


def test_an_immediate_send_costs_two_state_transitions() -> None:
    # given a send followed by a wait, when the message goes out at once
    definition = _definition([SEND, {"id": "pause", "wait": {"duration": "1d"}}])

    path = _walk(
        definition, "Send welcome-sms", {"$.steps.welcome-sms.outcome": "sent"}, stop_at={"Wait pause"}
    )

    # then the task and its outcome choice are all it costs (the issue's ceiling is 3)
    assert path == ["Send welcome-sms", "welcome-sms outcome"]
    assert len(path) <= 3


def test_a_one_send_journey_runs_in_three_state_transitions_and_one_invocation() -> None:
    definition = _definition([SEND])

    path = _walk(definition, definition["StartAt"], {"$.steps.welcome-sms.outcome": "sent"}, stop_at=set())

    # no Start choice: the only turn is the hold of the send it begins with, so a continued run
    # resumes at the send itself (R-REL-1); a step entered once per run counts no passes: its
    # tasks say pass 1; the last step's send completes the journey itself, so no Finish task
    assert path == ["Send welcome-sms", "welcome-sms outcome", COMPLETED_STATE]
    assert START_STATE not in definition["States"]
    assert definition["States"]["Send welcome-sms"]["Parameters"]["ends"] is True
    assert FINISH_STATE not in definition["States"]


def test_a_journey_that_holds_a_later_send_keeps_its_start_choice() -> None:
    definition = _definition([{"id": "pause", "wait": {"duration": "1h"}}, SEND])

    # a continued run must skip the wait it already waited: it resumes at the hold's Wait
    assert definition["StartAt"] == START_STATE
    resumed = {
        c["StringEquals"]: c["Next"]
        for c in definition["States"][START_STATE]["Choices"]
        if "StringEquals" in c
    }
    assert resumed == {"Hold welcome-sms": "Hold welcome-sms"}


def test_a_send_followed_by_another_step_does_not_end_the_journey() -> None:
    definition = _definition([SEND, {"id": "tip", "send": {"template": "tip", "channels": ["email"]}}])

    assert "ends" not in definition["States"]["Send welcome-sms"]["Parameters"]
    assert definition["States"]["Send tip"]["Parameters"]["ends"] is True


LOOP_STEPS: list[dict[str, Any]] = [
    {"id": "intro", "send": {"template": "welcome-hello", "channels": ["sms"]}},
    {"id": "nudge", "send": {"template": "welcome-hello", "channels": ["sms"]}},
    {"id": "pause", "wait": {"duration": "1d"}},
    {
        "id": "again",
        "branch": {
            "cases": [{"when": {"attribute": "plan", "exists": True}, "next": "nudge"}],
            "default": "end",
        },
    },
]


def test_only_a_send_step_on_a_loop_counts_its_passes_and_sends_its_count() -> None:
    states = _definition(LOOP_STEPS)["States"]

    # the loop's send step is entered through its counter and sends the count
    assert states["Count passes"]["Result"] == {"nudge": {"n": 0}}
    assert states["Count pass nudge"]["Next"] == "Send nudge"
    assert states["Send nudge"]["Parameters"]["pass.$"] == "$.passes.nudge.n"
    assert states["again next"]["Choices"][0]["Next"] == "Turn nudge"
    assert states["Turn nudge"]["Default"] == "Turn +1 nudge"
    assert states["Turn +1 nudge"]["Next"] == "Count pass nudge"
    # the step before the loop is entered once per run: no counter, pass 1
    assert "Count pass intro" not in states
    assert states["Send intro"]["Parameters"]["pass"] == 1


def test_send_task_invokes_the_journey_step_function_naming_the_execution_not_the_contact() -> None:
    task = _definition([SEND])["States"]["Send welcome-sms"]

    assert task["Type"] == "Task"
    assert task["Resource"] == FUNCTION_ARN
    assert task["Parameters"] == {
        "action": "send",
        "journey": "welcome",
        "step": "welcome-sms",
        "execution.$": "$$.Execution.Id",
        "steps.$": "$.steps",
        "pass": 1,
        # on the last retry a provider still throttling holds the step instead (R-REL-4)
        "retry_count.$": "$$.State.RetryCount",
        "max_retries": 4,
        "ends": True,  # the last step: a sent message completes the journey in this task
    }
    # the function's own answer (no invoke envelope) lands under the step's id
    assert task["ResultPath"] == "$.steps.welcome-sms"


def test_a_held_send_waits_until_the_returned_time_then_asks_again() -> None:
    definition = _definition([SEND])
    states = definition["States"]

    path = _walk(
        definition,
        "welcome-sms outcome",
        {"$.steps.welcome-sms.outcome": "held"},
        stop_at={"Send welcome-sms"},
    )

    # a hold is a turn of the run, counted on the way (R-REL-1)
    assert path == ["welcome-sms outcome", "Turn 1 Hold welcome-sms", "Hold welcome-sms"]
    counted = {"$.steps.welcome-sms.outcome": "held", "$.turns": {"n": 3}, "$.turns.n": 3}
    assert _walk(definition, "welcome-sms outcome", counted, stop_at={"Send welcome-sms"}) == [
        "welcome-sms outcome",
        "Turn +1 Hold welcome-sms",
        "Hold welcome-sms",
    ]
    assert states["Hold welcome-sms"] == {
        "Type": "Wait",
        "TimestampPath": "$.steps.welcome-sms.until",
        "Next": "Send welcome-sms",
    }


@pytest.mark.parametrize(
    ("outcome", "end_state", "end_type"),
    [("skipped", "welcome-sms skipped", "Succeed"), ("failed", "welcome-sms failed", "Fail")],
)
def test_a_skipped_or_failed_send_ends_the_journey_before_the_next_step(
    outcome: str, end_state: str, end_type: str
) -> None:
    # given a send followed by a second step, when the send is skipped or fails
    definition = _definition([SEND, {"id": "tip", "send": {"template": "tip", "channels": ["email"]}}])

    path = _walk(definition, "Send welcome-sms", {"$.steps.welcome-sms.outcome": outcome}, stop_at=set())

    # then the run ends there with that outcome, and the next step never starts
    assert path == ["Send welcome-sms", "welcome-sms outcome", end_state]
    assert definition["States"][end_state]["Type"] == end_type
    assert "Send tip" not in path


def test_an_answer_the_definition_does_not_know_is_recorded_as_a_failure() -> None:
    definition = _definition([SEND])

    path = _walk(definition, "welcome-sms outcome", {"$.steps.welcome-sms.outcome": "??"}, stop_at=set())

    assert path == ["welcome-sms outcome", "Unexpected welcome-sms", RECORD_FAILURE_STATE, FAILED_STATE]
    assert definition["States"]["Unexpected welcome-sms"]["ResultPath"] == "$.error"


@pytest.mark.parametrize(
    ("duration", "seconds"), [("30s", 30), ("15m", 900), ("2d", 172_800), ("1w", 604_800)]
)
def test_a_wait_for_a_duration_is_a_wait_state_of_that_many_seconds(duration: str, seconds: int) -> None:
    definition = _definition([{"id": "pause", "wait": {"duration": duration}}, SEND])

    wait = definition["States"]["Wait pause"]

    assert _begins_at(definition) == "Wait pause"
    assert wait["Type"] == "Wait"
    assert wait["Seconds"] == seconds
    assert wait["Next"] == "Send welcome-sms"


BRANCH_STEPS: list[dict[str, Any]] = [
    SEND,
    {
        "id": "route",
        "branch": {
            "cases": [
                {"when": {"channel_used": {"step": "welcome-sms", "is": "sms"}}, "next": "sms-follow-up"},
                {"when": {"delivered": "welcome-sms"}, "next": "end"},
                {
                    "when": {
                        "all": [
                            {"attribute": "plan", "equals": "gold"},
                            {"not": {"delivered": "welcome-sms"}},
                        ]
                    },
                    "next": "sms-follow-up",
                },
            ],
            "default": "email-follow-up",
        },
    },
    {"id": "sms-follow-up", "send": {"template": "follow-up", "channels": ["sms"]}, "next": "end"},
    {"id": "email-follow-up", "send": {"template": "follow-up", "channels": ["email"]}},
]


def test_a_branch_asks_the_function_then_chooses_on_its_answer() -> None:
    states = _definition(BRANCH_STEPS)["States"]

    task = states["Branch route"]
    choice = states["route next"]

    assert task["Parameters"]["action"] == "branch"
    assert task["ResultPath"] == "$.steps.route"
    assert task["Next"] == "route next"
    # one choice per destination, in the order written, `end` finishing the journey
    assert [(c["Variable"], c["StringEquals"], c["Next"]) for c in choice["Choices"]] == [
        ("$.steps.route.next", "sms-follow-up", "Send sms-follow-up"),
        ("$.steps.route.next", "end", FINISH_STATE),
        ("$.steps.route.next", "email-follow-up", "Send email-follow-up"),
    ]
    assert choice["Default"] == "Unexpected route"


def test_next_jumps_to_the_named_step_or_the_end() -> None:
    states = _definition(BRANCH_STEPS)["States"]

    sent_of = {
        name: next(c["Next"] for c in state["Choices"] if c.get("StringEquals") == "sent")
        for name, state in states.items()
        if name.endswith(" outcome")
    }
    route = {c["StringEquals"]: c["Next"] for c in states["route next"]["Choices"]}

    # a send that ends the journey completes it in its own task (no Finish task after it)
    assert sent_of == {
        "welcome-sms outcome": "Branch route",
        "sms-follow-up outcome": COMPLETED_STATE,  # next: end
        "email-follow-up outcome": COMPLETED_STATE,  # the last step
    }
    # a branch to the end goes through the Finish task, which records the completion
    assert route["end"] == FINISH_STATE


def _tasks(definition: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in definition["States"].items() if s["Type"] == "Task"}


def test_every_task_retries_throttling_and_5xx_with_capped_backoff_and_full_jitter_r_rel_4() -> None:
    tasks = _tasks(_definition(BRANCH_STEPS))

    assert set(tasks) == {
        "Send welcome-sms",
        "Branch route",
        "Send sms-follow-up",
        "Send email-follow-up",
        "Continue Hold welcome-sms",
        "Continue Hold sms-follow-up",
        "Continue Hold email-follow-up",
        FINISH_STATE,
        RECORD_FAILURE_STATE,
    }
    for name, task in tasks.items():
        (retry,) = task["Retry"]  # one retry layer (R-REL-4)
        # A send also retries a Lambda timeout: its ledger makes running it again safe.
        timeouts = {*LAMBDA_TIMEOUT_ERRORS} if name.startswith("Send ") else set()
        assert set(retry["ErrorEquals"]) == {*LAMBDA_SERVICE_ERRORS, *BATON_RETRYABLE_ERRORS, *timeouts}
        assert retry["JitterStrategy"] == "FULL"
        assert retry["IntervalSeconds"] == 2
        assert retry["MaxAttempts"] == 4
        assert retry["BackoffRate"] == 2
        assert retry["MaxDelaySeconds"] > 0


def test_the_retried_errors_are_lambdas_throttling_and_service_errors_and_batons_own() -> None:
    assert set(LAMBDA_SERVICE_ERRORS) == {
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
    }
    assert "Baton.ProviderUnavailable" in BATON_RETRYABLE_ERRORS


def test_every_other_error_is_caught_recorded_and_fails_the_run() -> None:
    definition = _definition(BRANCH_STEPS)
    tasks = _tasks(definition)

    for name, task in tasks.items():
        (catch,) = task["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"]
        assert catch["ResultPath"] == "$.error"
        assert catch["Next"] == (FAILED_STATE if name == RECORD_FAILURE_STATE else RECORD_FAILURE_STATE)
    record = tasks[RECORD_FAILURE_STATE]
    assert record["Parameters"]["action"] == "fail"
    assert record["Parameters"]["error.$"] == "$.error"
    assert record["Next"] == FAILED_STATE
    assert definition["States"][FAILED_STATE] == {
        "Type": "Fail",
        "ErrorPath": "$.error.Error",
        "CausePath": "$.error.Cause",
    }


def test_the_end_records_completion_then_succeeds() -> None:
    states = _definition([SEND, {"id": "pause", "wait": {"duration": "1d"}}])["States"]

    finish = states[FINISH_STATE]

    assert finish["Parameters"]["action"] == "finish"
    assert finish["ResultPath"] is None  # the input passes through unchanged
    assert finish["Next"] == COMPLETED_STATE
    assert states[COMPLETED_STATE] == {"Type": "Succeed"}


def test_the_definition_is_jsonpath_only() -> None:
    definition = _definition(BRANCH_STEPS)

    assert definition["QueryLanguage"] == "JSONPath"
    assert "JSONata" not in str(definition)
    assert all("Assign" not in state for state in definition["States"].values())


# Every step form of the contract is built; their own tests: wait for
# an event (tests/unit/test_wait_compiler.py), send with confirm_delivery
# (tests/unit/test_feedback_compiler.py), handoff (tests/infra/test_cdk_handoff.py and
# tests/integration/test_handoff_journey.py).


def test_a_schedule_trigger_compiles_to_the_same_states_as_an_event_trigger() -> None:
    # Only what starts the journey differs (tests/unit/test_schedule_*.py).
    scheduled = _definition([SEND], trigger={"schedule": "cron(0 9 ? * MON *)", "segment": "gold"})
    assert scheduled == _definition([SEND])


def test_every_step_form_has_a_builder_in_the_registry() -> None:
    forms = {
        step_form(_journey([step]).steps[0])
        for step in (
            SEND,
            {"id": "s", "send": {"template": "t", "channels": ["sms"], "confirm_delivery": "10m"}},
            {"id": "w", "wait": {"duration": "1d"}},
            {"id": "w", "wait": {"event": "e", "timeout": "1d"}},
            {"id": "b", "branch": {"cases": [{"when": {"delivered": "x"}, "next": "end"}], "default": "end"}},
            {"id": "h", "handoff": {"queue": "q", "sla": "1d", "on_timeout": "end"}},
            {
                "id": "p",
                "split": {
                    "variants": [
                        {"name": "a", "weight": 1, "next": "end"},
                        {"name": "b", "weight": 1, "next": "end"},
                    ]
                },
            },
        )
    }

    assert forms == set(STEP_BUILDERS)
