"""Which way a run over an audience reaches each contact, decided from the journey alone.

- `batch`: every step is a send (without `confirm_delivery`), a branch or a split, and no step
  is entered twice (no loop). A goal or a holdout keeps a journey here: a holdout is decided at
  entry, a conversion when its event arrives, neither waits for a contact. Nothing waits for a
  contact, so a batch task runs the journey for each of its contacts in-process: the same send
  task (gate, failover, timeline, send ledger), branch and split tasks as an execution's,
  without an execution per contact. A send the gate holds (quiet
  hours, a window) or a provider that keeps throttling hands that contact on to the journey's
  own execution, which waits for it.
- `executions`: a wait, a hand-off, a delivery receipt or a loop needs somewhere to wait for
  days, which is what a Step Functions execution is for: the batch task starts one execution per
  contact (the journey's own state machine, named as an event's start would name it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from baton.journeys.graph import in_loops
from baton.journeys.models import Journey


class Path(StrEnum):
    BATCH = "batch"
    EXECUTIONS = "executions"


@dataclass(frozen=True, slots=True)
class PathChoice:
    path: Path
    why: str  # in plain words, for `baton validate` and the inventory


def journey_path(journey: Journey) -> PathChoice:
    reasons: list[str] = []
    for step in journey.steps:
        if step.wait is not None:
            reasons.append(f"step {step.id} waits")
        elif step.handoff is not None:
            reasons.append(f"step {step.id} hands off to {step.handoff.queue}")
        elif step.send is not None and step.send.confirm_delivery is not None:
            reasons.append(f"step {step.id} waits for its delivery receipt")
    looped = sorted(in_loops(journey))
    if looped:
        reasons.append("steps " + ", ".join(journey.steps[index].id for index in looped) + " loop")
    if reasons:
        return PathChoice(Path.EXECUTIONS, "one execution per contact: " + "; ".join(reasons))
    return PathChoice(Path.BATCH, "batch: only sends, branches and splits, nothing waits for a contact")
