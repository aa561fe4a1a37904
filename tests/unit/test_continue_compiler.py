"""Long runs in the compiled definition (R-REL-1): every loop of the state graph counts a turn,
the turns allowed keep an execution under Step Functions' history limit, and the Start choice
resumes a continued run at the place it was handed on."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from baton.journeys.catalog import load_catalog
from baton.journeys.graph import loop_heads
from baton.journeys.models import Journey
from infra.journeys.compiler import (
    CONTINUE_ACTION,
    CONTINUE_RESERVE,
    CONTINUED_STATE,
    EVENTS_PER_STATE,
    HISTORY_EVENTS_LIMIT,
    START_STATE,
    CompileError,
    render_definition,
    turn_limit,
)

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:Baton-JourneyStep"
CATALOG = Path(__file__).resolve().parents[2] / "journeys"


def _journey(steps: list[dict[str, Any]]) -> Journey:
    return Journey.model_validate(
        {
            "journey": "long",
            "owner": "growth@example.com",
            "purpose": "transactional",
            "review_by": "2027-01-01",
            "trigger": {"event": "contact.confirmed"},
            "steps": steps,
        }
    )


def _send(step_id: str, **send: Any) -> dict[str, Any]:
    return {"id": step_id, "send": {"template": "hello", "channels": ["sms", "email"], **send}}


def _branch(step_id: str, back_to: str, default: str = "end") -> dict[str, Any]:
    return {
        "id": step_id,
        "branch": {
            "cases": [{"when": {"attribute": "plan", "exists": True}, "next": back_to}],
            "default": default,
        },
    }


def _wait(step_id: str) -> dict[str, Any]:
    return {"id": step_id, "wait": {"duration": "1d"}}


SAMPLES: dict[str, list[dict[str, Any]]] = {
    "one send": [_send("hello")],
    "a loop": [_send("intro"), _send("nudge"), _wait("pause"), _branch("again", "nudge")],
    "nested loops": [
        _send("outer"),
        _wait("day"),
        _send("inner"),
        _wait("hour"),
        _branch("inner-again", "inner", default="outer-again"),
        _branch("outer-again", "outer"),
    ],
    "a loop of waits and branches only": [_wait("pause"), _branch("again", "pause")],
    "a confirmed send on a loop": [
        _send("ack", confirm_delivery="10m"),
        _wait("pause"),
        _branch("again", "ack"),
    ],
    "an event wait and a hand-off on a loop": [
        {"id": "answered", "wait": {"event": "survey.answered", "timeout": "1d"}},
        {
            "id": "call",
            "handoff": {"queue": "support", "sla": "4h", "on_timeout": "escalate", "escalate_to": "leads"},
        },
        _branch("again", "answered"),
    ],
}


def _definitions() -> dict[str, dict[str, Any]]:
    definitions = {
        name: render_definition(_journey(steps), function_arn=FUNCTION_ARN) for name, steps in SAMPLES.items()
    }
    for journey_id, journey in load_catalog(CATALOG).journeys.items():
        definitions[f"catalog {journey_id}"] = render_definition(journey, function_arn=FUNCTION_ARN)
    return definitions


DEFINITIONS = _definitions()


def _nexts(state: Mapping[str, Any]) -> list[str]:
    """Every state this one can go to."""
    targets = [state[key] for key in ("Next", "Default") if key in state]
    targets += [choice["Next"] for choice in state.get("Choices", [])]
    targets += [catch["Next"] for catch in state.get("Catch", [])]
    return targets


def _counts_a_turn(name: str) -> bool:
    return name.startswith(("Turn 1 ", "Turn +1 "))


def _cycle_without_a_count(definition: Mapping[str, Any]) -> list[str] | None:
    """A cycle of the state graph that enters no counting state, if there is one."""
    states = definition["States"]
    graph = {
        name: [t for t in _nexts(state) if not _counts_a_turn(t)]
        for name, state in states.items()
        if not _counts_a_turn(name)
    }
    done: set[str] = set()
    for root in graph:
        path: list[str] = []
        on_path: set[str] = set()
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                if node in done:
                    continue
                path.append(node)
                on_path.add(node)
            if position < len(graph[node]):
                work.append((node, position + 1))
                target = graph[node][position]
                if target in on_path:
                    return [*path[path.index(target) :], target]
                if target not in done:
                    work.append((target, 0))
                continue
            path.pop()
            on_path.discard(node)
            done.add(node)
    return None


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_r_rel_1_every_loop_of_the_state_graph_counts_a_turn(name: str) -> None:
    # a hold's recheck and every loop of steps pass a Turn state, so no stretch between two
    # counts enters a state twice
    assert _cycle_without_a_count(DEFINITIONS[name]) is None


def _turns_allowed(definition: Mapping[str, Any]) -> set[int]:
    return {
        rule["NumericGreaterThanEquals"]
        for state in definition["States"].values()
        for choice in state.get("Choices", [])
        for rule in [choice, *choice.get("And", [])]
        if rule.get("Variable") == "$.turns.n"
    }


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_r_rel_1_the_turns_allowed_keep_an_execution_under_the_history_limit(name: str) -> None:
    definition = DEFINITIONS[name]
    states = len(definition["States"])

    allowed = _turns_allowed(definition)

    # the stretch before the first count and one per turn, each at most every state retried
    # every time, and the way out: under Step Functions' 25,000 events
    if not allowed:
        assert START_STATE not in definition["States"]
        return
    (turns,) = allowed
    assert turns >= 1
    assert (turns + 1) * EVENTS_PER_STATE * states + CONTINUE_RESERVE <= HISTORY_EVENTS_LIMIT
    assert turns == turn_limit(states)


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_r_rel_1_the_start_resumes_each_continued_run_where_it_was_handed_on(name: str) -> None:
    definition = DEFINITIONS[name]
    states = definition["States"]
    continues = {n: s for n, s in states.items() if s.get("Parameters", {}).get("action") == CONTINUE_ACTION}
    if not continues:
        return

    if START_STATE not in states:
        # every turn is the hold of the send the journey begins with: a resumed run asks it again
        first = states[definition["StartAt"]]
        for task in continues.values():
            assert task["Parameters"]["resume"] == f"Hold {task['Parameters']['step']}"
            assert states[task["Parameters"]["resume"]]["Next"] == definition["StartAt"]
        assert first["Parameters"]["action"] == "send"
        return
    start = states[START_STATE]
    resumed = {c["StringEquals"]: c["Next"] for c in start["Choices"] if "StringEquals" in c}
    assert start["Choices"][0]["IsPresent"] is False  # a run that is not continued begins at the beginning
    for task_name, task in continues.items():
        label = task["Parameters"]["resume"]
        # a turn goes on where its counts go, and a resumed run starts there too
        (count,) = [n for n in states if n == f"Turn +1 {label}"]
        assert resumed[label] == states[count]["Next"]
        assert task["Next"] == CONTINUED_STATE
        assert task["ResultPath"] is None
        assert task["Parameters"]["execution.$"] == "$$.Execution.Id"
        assert task["Parameters"]["steps.$"] == "$.steps"
        assert ("passes.$" in task["Parameters"]) is ("Count passes" in states)
        assert task_name == f"Continue {label}"
    assert states[CONTINUED_STATE]["Type"] == "Succeed"
    assert start["Default"] == "Unknown resume"


def test_r_rel_1_a_journey_with_nothing_to_repeat_has_no_start_choice() -> None:
    definition = render_definition(
        _journey(
            [
                _wait("pause"),
                {"id": "call", "handoff": {"queue": "support", "sla": "4h", "on_timeout": "end"}},
            ]
        ),
        function_arn=FUNCTION_ARN,
    )

    assert definition["StartAt"] == "Wait pause"
    assert _turns_allowed(definition) == set()


def test_r_rel_1_a_journey_too_large_for_one_turn_under_the_limit_does_not_compile() -> None:
    assert turn_limit(20) == (HISTORY_EVENTS_LIMIT - CONTINUE_RESERVE) // (20 * EVENTS_PER_STATE) - 1
    with pytest.raises(CompileError, match="R-REL-1"):
        turn_limit(600)


@pytest.mark.parametrize(
    ("steps", "heads"),
    [
        ([_send("a"), _wait("b")], set()),
        ([_send("a"), _wait("b"), _branch("c", "a")], {0}),
        ([_send("a"), _send("b"), _wait("w"), _branch("c", "b")], {1}),
        (SAMPLES["nested loops"], {0, 2}),
        ([_wait("a"), _branch("b", "b", default="a")], {0, 1}),
    ],
)
def test_every_loop_passes_a_loop_head(steps: list[dict[str, Any]], heads: set[int]) -> None:
    assert loop_heads(_journey(steps)) == heads
