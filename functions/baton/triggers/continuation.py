"""A run that goes on in a new execution (R-REL-1).

Step Functions ends an execution at 25,000 history events; the journey's state machine counts
its turns and, before the limit, asks this to start the same state machine where the run is
(`"resume"`), with the run's step results and passes, under `continuation_name` of its own name.
Whom the run is about goes with it: the subject is copied under the new name and the run is
recorded as a run of the contact, continuing the old one, so exit_on, erasure and export find
the new execution as they found the old one.

Everything here is safe to repeat (a retried task): the subject and run are added only if absent,
a start under a name already used answers with that execution, and the timeline entry is written
by the call that recorded the new run.

An exit_on event may stop the run while it is being handed on. The new run is recorded before its
execution starts, and after the start both runs are read again: if either was stopped by an exit,
the new execution is stopped too. `EventService` reads the runs again after it stops one, so
whichever of the two writes last sees the other's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from pydantic import JsonValue

from baton.clock import Clock
from baton.timeline.service import TimelineService
from baton.triggers.executions import Executions, execution_arn, state_machine_of
from baton.triggers.models import Run, RunStatus
from baton.triggers.naming import continuation_name
from baton.triggers.runs import RunRepository
from baton.triggers.subjects import LIFETIME, Subject, SubjectRepository

JOURNEY_CONTINUED: Final = "journey.continued"
# StopExecution's error for a continuation stopped because its run was exited meanwhile.
EXITED_ERROR: Final = "Baton.Exited"
ERASED_ERROR: Final = "Baton.Erased"
METRIC_CONTINUED: Final = "JourneysContinued"


def continuation_input(
    event_type: str, resume: str, steps: dict[str, JsonValue], passes: dict[str, JsonValue] | None
) -> str:
    """The new execution's input, byte for byte the same for the same hand-over (a retry of the
    task is then the same start). Like every execution's input, it names nobody."""
    document: dict[str, JsonValue] = {"event": {"type": event_type}, "steps": steps, "resume": resume}
    if passes is not None:
        document["passes"] = passes
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Continuations:
    subjects: SubjectRepository
    runs: RunRepository
    executions: Executions
    timeline: TimelineService
    clock: Clock
    count: Callable[[str], None]  # a metric by name

    def continue_run(
        self,
        execution: str,
        subject: Subject,
        *,
        resume: str,
        steps: dict[str, JsonValue],
        passes: dict[str, JsonValue] | None,
        variant: str | None = None,
    ) -> str:
        """Start the execution that takes `execution`'s run on at `resume`; its name. `variant`:
        the run's, for its timeline entry (the new execution reads it from `steps`)."""
        old_name = execution.rsplit(":", 1)[-1]
        name = continuation_name(old_name)
        machine = state_machine_of(execution)
        now = self.clock.now()
        self.subjects.add(
            subject.model_copy(
                update={"execution_name": name, "expires_at": int((now + LIFETIME).timestamp())}
            )
        )
        old = self._run(subject, old_name)
        recorded = False
        if old is not None:
            recorded = self.runs.add(
                old.model_copy(
                    update={
                        "execution_name": name,
                        "execution_arn": execution_arn(machine, name),
                        "status": RunStatus.RUNNING,
                        "started_at": now,
                        "ended_at": None,
                        "continues": old_name,
                        "continued_as": None,
                    }
                )
            )
        arn = self.executions.start(
            machine, name, continuation_input(subject.event_type, resume, steps, passes)
        )
        if self.subjects.get(old_name) is None:
            # The contact was erased meanwhile: what this wrote must not outlive the erasure.
            self.executions.stop(
                arn, error=ERASED_ERROR, cause="the contact was erased while the run was handed on"
            )
            self.subjects.delete_all(subject.contact_id, [name])
            self.runs.delete_all(subject.contact_id)
            return name
        if old is None:
            self.count(METRIC_CONTINUED)
            return name
        if self._exited(subject, old_name, name):
            self.executions.stop(arn, error=EXITED_ERROR, cause="the run was exited while it was handed on")
            return name
        current = self._run(subject, old_name)
        if current is not None and current.status is RunStatus.RUNNING:
            self.runs.replace(
                current.model_copy(
                    update={"status": RunStatus.SUCCEEDED, "ended_at": now, "continued_as": name}
                )
            )
        if recorded:
            self.timeline.record(
                subject.contact_id,
                JOURNEY_CONTINUED,
                {
                    "journey": subject.journey,
                    "execution": old_name,
                    "continued_as": name,
                    "at": resume,
                    **({"variant": variant} if variant is not None else {}),
                },
            )
            self.count(METRIC_CONTINUED)
        return name

    def _run(self, subject: Subject, name: str) -> Run | None:
        return next(
            (
                run
                for run in self.runs.of_journey(subject.contact_id, subject.journey)
                if run.execution_name == name
            ),
            None,
        )

    def _exited(self, subject: Subject, old_name: str, name: str) -> bool:
        """Whether an exit_on event stopped the old run, or the new one, meanwhile."""
        runs = {run.execution_name: run for run in self.runs.of_journey(subject.contact_id, subject.journey)}
        return any(
            run is not None and run.status is RunStatus.ABORTED
            for run in (runs.get(old_name), runs.get(name))
        )
