"""`POST /v1/events`: start every journey an event triggers, end every run it exits.

Starting is idempotent twice over (R-REL-2): the idempotency table (`baton.data.once`) keyed
on (contact_id, idempotency_key) answers a repeated key from the stored answer, and execution names derived
from (journey, contact, key) make Step Functions refuse a second run even after that record
expires. The runs table's conditional put decides whether this call recorded the start, so
`journey.started` is on the timeline once however often the event is retried.

A journey's holdout (`holdout: 10%`) is decided here, at entry: a held-out contact is entered
(a run, `journey.started` with `variant: holdout`, and `journey.held_out`) and sent nothing. No
execution is started for it, rather than one that ends at once: the run ends as it is recorded,
and there is no state transition or task to pay for. Before any journey starts, the event's
conversions are recorded (`baton.triggers.goals`), so an event never converts the entry it makes.

An execution is given no personal data (its history outlives erasure, R-GDPR-5): its input is
the event type, its name a keyed hash; the contact and the event's data go to the subjects
table (`baton.triggers.subjects`), where the journey tasks read them and erasure deletes them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Final

from baton.clock import Clock
from baton.contacts.service import ContactService
from baton.data.once import Once
from baton.journeys.catalog import Catalog
from baton.journeys.models import HOLDOUT_VARIANT, Journey
from baton.journeys.review import NOT_ADMITTED, REVIEW_OVERDUE, ReviewPolicy
from baton.journeys.split import held_out
from baton.timeline.service import TimelineService
from baton.triggers.exceptions import JourneysNotConfigured
from baton.triggers.executions import Executions, execution_arn
from baton.triggers.goals import Conversions
from baton.triggers.models import EventAccepted, EventIn, Run, RunStatus
from baton.triggers.naming import execution_name
from baton.triggers.runs import RunRepository
from baton.triggers.subjects import LIFETIME, Subject, SubjectRepository
from baton.waits.service import WaitService

JOURNEY_STARTED: Final = "journey.started"
JOURNEY_EXITED: Final = "journey.exited"
JOURNEY_HELD_OUT: Final = "journey.held_out"
# Every event is on the timeline once, whether or not a journey waited for it.
EVENT_RECEIVED: Final = "event.received"
# StopExecution's error for an exit_on event (what the execution's history shows).
EXITED_ERROR: Final = "Baton.Exited"
# A repeated key within this time is answered from the idempotency table; after it, the
# deterministic execution names still start nothing new.
IDEMPOTENCY_SECONDS: Final = 7 * 24 * 3600
IDEMPOTENCY_KEEP: Final = timedelta(seconds=IDEMPOTENCY_SECONDS)
ONCE_PREFIX: Final = "baton.event"


def execution_input(event: EventIn) -> str:
    """The execution's input, byte for byte the same for the same event, so a repeated start of a
    running execution is accepted by Step Functions as the same one. Only the event type: the
    contact, the data and the caller's key stay in Baton's tables (`Subject`)."""
    document = {"event": {"type": event.type}, "steps": {}}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class JourneyStarter:
    """Starts one journey for one event, as events and schedules both do: the subject first (the
    execution's first task reads it), then the execution, then the run."""

    runs: RunRepository
    subjects: SubjectRepository
    executions: Executions
    timeline: TimelineService
    clock: Clock
    naming_key: Callable[[], bytes]  # `baton.secrets.execution_name_key` (a cached secret read)

    def start(
        self,
        state_machine_arn: str,
        journey_id: str,
        event: EventIn,
        generation: str | None,
        *,
        holdout: str | None = None,
    ) -> tuple[Run, bool]:
        """The run, and whether this call recorded it (False: started before, by this event).

        `generation` is the contact's (`ContactService.generation`): a contact made again with
        an erased one's id gets executions of its own. `holdout`: the journey's; a contact in
        it is entered and sent nothing, with no execution."""
        earlier = self._run_of(journey_id, event)
        if earlier is not None:
            return earlier, False
        name = execution_name(
            journey_id, event.contact_id, event.idempotency_key, key=self.naming_key(), generation=generation
        )
        if holdout is not None and held_out(journey_id, event.contact_id, holdout):
            return self._hold_out(state_machine_arn, journey_id, event, name, holdout)
        self.subjects.add(
            Subject(
                execution_name=name,
                contact_id=event.contact_id,
                journey=journey_id,
                event_type=event.type,
                data=event.data,
                expires_at=int((self.clock.now() + LIFETIME).timestamp()),
            )
        )
        arn = self.executions.start(state_machine_arn, name, execution_input(event))
        run = Run(
            contact_id=event.contact_id,
            journey=journey_id,
            execution_name=name,
            execution_arn=arn,
            started_at=self.clock.now(),
            event_type=event.type,
            idempotency_key=event.idempotency_key,
        )
        added = self.runs.add(run)
        if added:
            self.record_started(journey_id, event, name)
        return run, added

    def record_started(self, journey_id: str, event: EventIn, name: str, variant: str | None = None) -> None:
        detail = {
            "journey": journey_id,
            "execution": name,
            "event": event.type,
            "idempotency_key": event.idempotency_key,
        }
        self.timeline.record(
            event.contact_id, JOURNEY_STARTED, {**detail, "variant": variant} if variant else detail
        )

    def _hold_out(
        self, state_machine_arn: str, journey_id: str, event: EventIn, name: str, holdout: str
    ) -> tuple[Run, bool]:
        """Enter the contact into the control group: a run that ends as it begins, nothing sent."""
        now = self.clock.now()
        run = Run(
            contact_id=event.contact_id,
            journey=journey_id,
            execution_name=name,
            execution_arn=execution_arn(state_machine_arn, name),  # never started
            status=RunStatus.SUCCEEDED,
            started_at=now,
            ended_at=now,
            event_type=event.type,
            idempotency_key=event.idempotency_key,
            variant=HOLDOUT_VARIANT,
        )
        added = self.runs.add(run)
        if added:
            self.record_started(journey_id, event, name, HOLDOUT_VARIANT)
            self.timeline.record(
                event.contact_id,
                JOURNEY_HELD_OUT,
                {"journey": journey_id, "execution": name, "variant": HOLDOUT_VARIANT, "holdout": holdout},
            )
        return run, added

    def _run_of(self, journey_id: str, event: EventIn) -> Run | None:
        """The contact's run this event started before, whatever its execution is named (names
        made before they hashed the generation differ): erasure deletes runs, so an erased
        contact's runs never count for a contact made again with the same id."""
        return next(
            (
                run
                for run in self.runs.of_journey(event.contact_id, journey_id)
                if run.idempotency_key == event.idempotency_key
            ),
            None,
        )


class EventService:
    def __init__(
        self,
        *,
        catalog: Catalog,
        contacts: ContactService,
        timeline: TimelineService,
        runs: RunRepository,
        subjects: SubjectRepository,
        executions: Executions,
        clock: Clock,
        state_machine_arn_prefix: str,
        once: Once | None = None,
        naming_key: Callable[[], bytes],
        waits: WaitService | None = None,
        conversions: Once | None = None,
        review: ReviewPolicy | None = None,
    ) -> None:
        self._catalog = catalog
        self._review = review or ReviewPolicy()
        self._contacts = contacts
        self._timeline = timeline
        self._runs = runs
        self._executions = executions
        self._clock = clock
        self._prefix = state_machine_arn_prefix
        self._starter = JourneyStarter(runs, subjects, executions, timeline, clock, naming_key)
        self._waits = waits  # resumes the contact's executions waiting for the event
        self._once = once
        # Goals: only a service given the conversions' once table records them.
        self._conversions = (
            Conversions(runs, timeline, conversions, clock) if conversions is not None else None
        )

    def state_machine_arn(self, journey_id: str) -> str:
        if not self._prefix:
            raise JourneysNotConfigured()
        return f"{self._prefix}{journey_id}"

    def record(self, event: EventIn) -> EventAccepted:
        """Start the journeys `event.type` triggers, stop the contact's runs it exits. Raises
        ContactNotFound for an unknown contact (before anything starts)."""
        generation = self._contacts.generation(event.contact_id)
        if self._once is None:
            return self._record_once(event, generation)
        key: dict[str, object] = {"contact_id": event.contact_id, "idempotency_key": event.idempotency_key}
        if generation is not None:
            # The erased contact's answer is not the answer to a new contact with the same id.
            key["generation"] = generation
        answer = self._once.run(key, partial(self._answer, event, generation))
        return EventAccepted.model_validate(answer)

    def _answer(self, event: EventIn, generation: str | None) -> dict[str, object]:
        return self._record_once(event, generation).model_dump(mode="json")

    def _record_once(self, event: EventIn, generation: str | None) -> EventAccepted:
        # Conversions first: the entries this event makes are not converted by it.
        goals = self._catalog.journeys_with_goal(event.type)
        if self._conversions is not None and goals:
            self._conversions.record(event, goals)
        today = self._clock.now().date()
        started, refused = [], []
        for journey in self._catalog.journeys_for_event(event.type):
            if self._review.admits(journey, today):
                started.append(self._start(journey, event, generation))
            else:
                refused.append(journey)
                self._not_admitted(journey, event)
        for journey in self._catalog.journeys_exiting_on(event.type):
            self._exit(journey, event, keep={run.execution_name for run in started})
        # After starting and exiting, resume the executions parked on this event type.
        resumed = []
        if self._waits is not None:
            resumed = self._waits.resume(event.contact_id, event.type, event.idempotency_key)
        self._timeline.record(
            event.contact_id,
            EVENT_RECEIVED,
            {
                "type": event.type,
                "data": event.data,
                "idempotency_key": event.idempotency_key,
                "journeys_started": [run.journey for run in started],
                **({"journeys_not_admitted": [j.journey for j in refused]} if refused else {}),
                "waits_resumed": [f"{w.journey}/{w.step}" for w in resumed],
            },
        )
        return EventAccepted(journeys_started=[run.journey for run in started])

    def _not_admitted(self, journey: Journey, event: EventIn) -> None:
        """A journey closed for review starts nothing; the contact's timeline says why."""
        self._timeline.record(
            event.contact_id,
            NOT_ADMITTED,
            {
                "journey": journey.journey,
                "reason": REVIEW_OVERDUE,
                "review_by": journey.review_by.isoformat(),
                "event_type": event.type,
                "owner": journey.owner,
            },
        )

    def _start(self, journey: Journey, event: EventIn, generation: str | None) -> Run:
        run, _ = self._starter.start(
            self.state_machine_arn(journey.journey),
            journey.journey,
            event,
            generation,
            holdout=journey.holdout,
        )
        return run

    def _exit(self, journey: Journey, event: EventIn, *, keep: set[str]) -> None:
        """Stop the contact's running executions of `journey` (not those this event started).
        A run being handed on to a new execution meanwhile (R-REL-1) adds a run: the runs are
        read again until a reading finds none left to stop (`baton.triggers.continuation`)."""
        while self._exit_once(journey, event, keep=keep):
            pass

    def _exit_once(self, journey: Journey, event: EventIn, *, keep: set[str]) -> bool:
        """One reading of the runs: stop those running; whether it changed any."""
        changed = False
        for run in self._runs.of_journey(event.contact_id, journey.journey):
            if run.status is not RunStatus.RUNNING or run.execution_name in keep:
                continue
            changed = True
            status = self._executions.status(run.execution_arn)
            if status is not RunStatus.RUNNING:
                # It ended on its own since (or is not started yet: a continuation's run is
                # recorded first, and its start then sees it ended): remember how.
                ended = status or RunStatus.ABORTED
                self._runs.replace(run.model_copy(update={"status": ended}))
                continue
            self._executions.stop(
                run.execution_arn,
                error=EXITED_ERROR,
                # The cause stays in the history forever: the event type only, not the caller's key.
                cause=f"exit_on event {event.type}",
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
        return changed
