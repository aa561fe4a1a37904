"""`POST /v1/events`: start every journey an event triggers, end every run it exits.

Starting is idempotent twice over (R-REL-2): the idempotency table (`baton.data.once`) keyed
on (contact_id, idempotency_key) answers a repeated key from the stored answer, and execution names derived
from (journey, contact, key) make Step Functions refuse a second run even after that record
expires. The runs table's conditional put decides whether this call recorded the start, so
`journey.started` is on the timeline once however often the event is retried.
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import partial
from typing import Final

from baton.clock import Clock
from baton.contacts.service import ContactService
from baton.data.once import Once
from baton.journeys.catalog import Catalog
from baton.journeys.models import Journey
from baton.timeline.service import TimelineService
from baton.triggers.exceptions import JourneysNotConfigured
from baton.triggers.executions import Executions
from baton.triggers.models import EventAccepted, EventIn, Run, RunStatus
from baton.triggers.naming import execution_name
from baton.triggers.runs import RunRepository
from baton.waits.service import WaitService

JOURNEY_STARTED: Final = "journey.started"
JOURNEY_EXITED: Final = "journey.exited"
# Issue 4 (K3): every event is on the timeline once, whether or not a journey waited for it.
EVENT_RECEIVED: Final = "event.received"
# StopExecution's error for an exit_on event (what the execution's history shows).
EXITED_ERROR: Final = "Baton.Exited"
# A repeated key within this time is answered from the idempotency table; after it, the
# deterministic execution names still start nothing new.
IDEMPOTENCY_SECONDS: Final = 7 * 24 * 3600
IDEMPOTENCY_KEEP: Final = timedelta(seconds=IDEMPOTENCY_SECONDS)
ONCE_PREFIX: Final = "baton.event"


def execution_input(event: EventIn) -> str:
    """The execution's input (PLAN3 decision 2), byte for byte the same for the same event, so a
    repeated start of a running execution is accepted by Step Functions as the same one."""
    document = {
        "contact_id": event.contact_id,
        "event": {"type": event.type, "data": event.data, "idempotency_key": event.idempotency_key},
        "steps": {},
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class EventService:
    def __init__(
        self,
        *,
        catalog: Catalog,
        contacts: ContactService,
        timeline: TimelineService,
        runs: RunRepository,
        executions: Executions,
        clock: Clock,
        state_machine_arn_prefix: str,
        once: Once | None = None,
        waits: WaitService | None = None,
    ) -> None:
        self._catalog = catalog
        self._contacts = contacts
        self._timeline = timeline
        self._runs = runs
        self._executions = executions
        self._clock = clock
        self._prefix = state_machine_arn_prefix
        self._waits = waits  # issue 4 (K3): resumes the contact's executions waiting for the event
        self._once = once

    def state_machine_arn(self, journey_id: str) -> str:
        if not self._prefix:
            raise JourneysNotConfigured()
        return f"{self._prefix}{journey_id}"

    def record(self, event: EventIn) -> EventAccepted:
        """Start the journeys `event.type` triggers, stop the contact's runs it exits. Raises
        ContactNotFound for an unknown contact (before anything starts)."""
        self._contacts.get(event.contact_id)
        if self._once is None:
            return self._record_once(event)
        key = {"contact_id": event.contact_id, "idempotency_key": event.idempotency_key}
        answer = self._once.run(key, partial(self._answer, event))
        return EventAccepted.model_validate(answer)

    def _answer(self, event: EventIn) -> dict[str, object]:
        return self._record_once(event).model_dump(mode="json")

    def _record_once(self, event: EventIn) -> EventAccepted:
        started = [self._start(journey, event) for journey in self._catalog.journeys_for_event(event.type)]
        for journey in self._catalog.journeys_exiting_on(event.type):
            self._exit(journey, event, keep={run.execution_name for run in started})
        # Issue 4 (K3): after starting and exiting, resume the executions parked on this event type.
        resumed = []
        if self._waits is not None:
            resumed = self._waits.resume(event.contact_id, event.type, event.data, event.idempotency_key)
        self._timeline.record(
            event.contact_id,
            EVENT_RECEIVED,
            {
                "type": event.type,
                "data": event.data,
                "idempotency_key": event.idempotency_key,
                "journeys_started": [run.journey for run in started],
                "waits_resumed": [f"{w.journey}/{w.step}" for w in resumed],
            },
        )
        return EventAccepted(journeys_started=[run.journey for run in started])

    def _start(self, journey: Journey, event: EventIn) -> Run:
        name = execution_name(journey.journey, event.contact_id, event.idempotency_key)
        arn = self._executions.start(self.state_machine_arn(journey.journey), name, execution_input(event))
        run = Run(
            contact_id=event.contact_id,
            journey=journey.journey,
            execution_name=name,
            execution_arn=arn,
            started_at=self._clock.now(),
            event_type=event.type,
            idempotency_key=event.idempotency_key,
        )
        if self._runs.add(run):
            self._timeline.record(
                event.contact_id,
                JOURNEY_STARTED,
                {
                    "journey": journey.journey,
                    "execution": name,
                    "event": event.type,
                    "idempotency_key": event.idempotency_key,
                },
            )
        return run

    def _exit(self, journey: Journey, event: EventIn, *, keep: set[str]) -> None:
        """Stop the contact's running executions of `journey` (not those this event started)."""
        for run in self._runs.of_journey(event.contact_id, journey.journey):
            if run.status is not RunStatus.RUNNING or run.execution_name in keep:
                continue
            status = self._executions.status(run.execution_arn)
            if status is not RunStatus.RUNNING:
                # It ended on its own since: remember how, so it is not looked up again.
                ended = status or RunStatus.ABORTED
                self._runs.replace(run.model_copy(update={"status": ended}))
                continue
            self._executions.stop(
                run.execution_arn,
                error=EXITED_ERROR,
                cause=f"exit_on event {event.type} (idempotency key {event.idempotency_key})",
            )
            now = self._clock.now()
            self._runs.replace(
                run.model_copy(update={"status": RunStatus.ABORTED, "ended_at": now, "exited_on": event.type})
            )
            self._timeline.record(
                event.contact_id,
                JOURNEY_EXITED,
                {"journey": journey.journey, "execution": run.execution_name, "event": event.type},
            )
