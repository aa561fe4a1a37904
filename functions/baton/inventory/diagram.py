"""A journey as a Mermaid flowchart: one node per step (its kind's shape and what it does),
edges for where it goes (a branch's conditions, a split's weights, a hand-off's outcome), and
the journey's start and end."""

from __future__ import annotations

import json
import re
from typing import Any, Final

from baton.journeys.conditions import Condition
from baton.journeys.models import END, Journey, Step

START: Final = "start"
FINISH: Final = "finish"


def node_id(step_id: str) -> str:
    """A Mermaid node id for a step: `s_` and the id with `-` as `_` (`end` is a keyword)."""
    return "s_" + re.sub(r"[^A-Za-z0-9_]", "_", step_id)


def _label(text: str) -> str:
    """A quoted Mermaid label; `"` would end it, so it becomes `#quot;`."""
    return '"' + text.replace('"', "#quot;") + '"'


def _edge_label(text: str) -> str:
    return "|" + _label(text) + "|"


def _target(journey: Journey, target: str) -> str:
    return FINISH if target == END else node_id(target)


def _node(step: Step) -> str:
    name = node_id(step.id)
    if step.send is not None:
        channels = " → ".join(channel.value for channel in step.send.channels)
        window = f" {step.send.window.start}-{step.send.window.end}" if step.send.window else ""
        return f"{name}[{_label(f'send {step.id}: {step.send.template} via {channels}{window}')}]"
    if step.wait is not None:
        wait = step.wait
        what = f"{wait.duration}" if wait.duration else f"event {wait.event}, timeout {wait.timeout}"
        return f"{name}([{_label(f'wait {step.id}: {what}')}])"
    if step.branch is not None:
        return f"{name}{{{_label(f'branch {step.id}')}}}"
    if step.split is not None:
        return f"{name}{{{{{_label(f'split {step.id}')}}}}}"
    assert step.handoff is not None  # the last kind
    handoff = step.handoff
    return f"{name}[/{_label(f'hand-off {step.id}: queue {handoff.queue}, SLA {handoff.sla}')}/]"


_COMPARISONS: Final = ("equals", "in", "exists", "gt", "lt")


def condition_text(condition: Condition) -> str:
    """A condition in a few words: `plan equals enterprise`, `event_received answered`."""
    return _words(condition.model_dump(mode="json", exclude_none=True))


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _words(condition: dict[str, Any]) -> str:
    if "all" in condition or "any" in condition:
        joiner = " and " if "all" in condition else " or "
        return joiner.join(f"({_words(part)})" for part in condition.get("all") or condition["any"])
    if "not" in condition:
        return f"not ({_words(condition['not'])})"
    for subject in ("attribute", "event"):
        if subject in condition:
            comparison = next(name for name in _COMPARISONS if name in condition)
            return f"{condition[subject]} {comparison} {_value(condition[comparison])}"
    return "; ".join(
        f"{key} "
        + (
            ", ".join(f"{k} {_value(v)}" for k, v in value.items())
            if isinstance(value, dict)
            else _value(value)
        )
        for key, value in condition.items()
    )


def _edges(journey: Journey, index: int) -> list[str]:
    step = journey.steps[index]
    name = node_id(step.id)
    if step.branch is not None:
        edges = [
            f"{name} -->{_edge_label(condition_text(case.when))} {_target(journey, case.next)}"
            for case in step.branch.cases
        ]
        return [*edges, f"{name} -->{_edge_label('default')} {_target(journey, step.branch.default)}"]
    if step.split is not None:
        total = sum(variant.weight for variant in step.split.variants)
        return [
            f"{name} -->{_edge_label(f'{variant.name}: {variant.weight}/{total}')} "
            f"{_target(journey, variant.next)}"
            for variant in step.split.variants
        ]
    after = _target(journey, journey.next_of(index))
    if step.handoff is not None:
        handoff = step.handoff
        edges = [f"{name} -->{_edge_label('completed')} {after}"]
        if handoff.on_timeout == "escalate":
            edges.append(f"{name} -.->{_edge_label(f'timed out: escalate to {handoff.escalate_to}')} {after}")
        elif handoff.on_timeout == "end":
            edges.append(f"{name} -.->{_edge_label('timed out')} {FINISH}")
        else:
            edges.append(f"{name} -.->{_edge_label('timed out: continue')} {after}")
        return edges
    return [f"{name} --> {after}"]


def flowchart(journey: Journey) -> str:
    """The journey as `flowchart TD` Mermaid text, steps in their written order."""
    trigger = journey.trigger
    started_by = f"event {trigger.event}" if trigger.event else f"{trigger.schedule} over {trigger.segment}"
    lines = ["flowchart TD", f"  {START}(({_label(f'{journey.journey}: {started_by}')}))"]
    lines.extend(f"  {_node(step)}" for step in journey.steps)
    lines.append(f"  {FINISH}(({_label('end')}))")
    lines.append(f"  {START} --> {node_id(journey.steps[0].id)}")
    for index in range(len(journey.steps)):
        lines.extend(f"  {edge}" for edge in _edges(journey, index))
    return "\n".join(lines) + "\n"
