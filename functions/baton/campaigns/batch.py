"""One batch of a campaign run: the contacts of one item of the audience snapshot.

Each contact's run is named as an event's start would name it (keyed `campaign:<run id>`), so
it is idempotent per (journey, run, contact) however often the batch is retried or redriven:
the send ledger is keyed by that name.

- batch path (`baton.journeys.paths`): the journey runs here, step by step, through the journey
  tasks themselves: the send task (the gate at send time, failover, the timeline, the send
  ledger: exactly once), the branch task, the finish, with the timeline entries an execution's
  tasks write (`journey.started` first). Nothing waits, so no execution is started and no
  subject or run is stored for it: the timeline and the send ledger are its record. A send the
  gate holds (quiet hours, a window), or that a provider still throttles after the batch's
  retries, hands the contact on to a real execution of the journey's state machine at that
  send's hold: its subject and run are stored then, and `Continuations` starts the execution
  (the same hand-over as a long run's), which waits and asks again. A contact handed on before
  (an invocation that ended before it kept its progress) is found by its runs and not walked
  again.
- executions path: the run's execution is started (`JourneyStarter`, as an event would).

A split is walked like a branch (the split task assigns the contact's variant). A contact in the
journey's holdout is entered as an event would enter it (`JourneyStarter`: a run, `journey.started`
with `variant: holdout`, `journey.held_out`) and sent nothing, on either path. A journey with a
goal has its batch-path runs recorded too, once walked (with the run's variant), since a
conversion is looked up among the contact's runs.

Before each contact the run's status is read (strongly consistent): cancelled, nothing more is
sent (the rest of the batch is counted as cancelled); paused, the batch keeps what it did and
stops (`CampaignPaused`: Step Functions asks again every minute). A batch whose invocation is
nearly out of time keeps what it did and goes on in the next (`BatchUnfinished`). Kept are the
outcomes by position, never the contacts, so the next invocation skips what was done.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from aws_lambda_powertools import Logger

from baton.aws import is_retryable_aws_error
from baton.campaigns.exceptions import BatchUnfinished, CampaignPaused
from baton.campaigns.models import BatchProgress, CampaignRun, CampaignStatus, ContactOutcome, outcome_label
from baton.campaigns.runs import CampaignRuns
from baton.clock import Clock
from baton.contacts.models import Contact
from baton.contacts.service import ContactService
from baton.delivery.service import Dispatcher
from baton.journeys.catalog import Catalog
from baton.journeys.models import END, HOLDOUT_VARIANT, Journey
from baton.journeys.paths import Path
from baton.journeys.split import held_out
from baton.runner.context import RunnerContext
from baton.runner.exceptions import ProviderUnavailable, RetryLater, Throttled
from baton.runner.models import Action, SendResult, StepRequest, dump, variant_in
from baton.runner.send import NO_CONTACT, SendTask
from baton.runner.steps import JOURNEY_FAILED, METRIC_ERRORS, BranchTask, FinishTask, SplitTask
from baton.timeline.service import TimelineService
from baton.triggers.continuation import Continuations
from baton.triggers.executions import Executions, execution_arn
from baton.triggers.models import EventIn, Run, RunStatus
from baton.triggers.naming import execution_name
from baton.triggers.runs import RunRepository
from baton.triggers.service import JourneyStarter
from baton.triggers.subjects import LIFETIME, Subject, SubjectRepository

logger = Logger(child=True)

CAMPAIGN_EVENT: Final = "campaign"  # the event type a campaign's runs carry (`$.event.type`)
# Stop for the next invocation when less than this is left of the Lambda's time: a send and
# its recording take well under it.
TIME_MARGIN_S: Final = 20.0
# A batch stopped this often by a provider that keeps throttling hands its next throttled
# contacts on to their own executions (which hold and ask again every five minutes): fewer than
# the 4 retries the campaign state machine's backoff allows a batch (`RETRY_MAX_ATTEMPTS`).
THROTTLED_STOPS: Final = 3
TASK_ERROR: Final = "task_error"  # a contact's run broke on an error of Baton's own
HOLD_LABEL: Final = "Hold {step}"  # the resume label of a send's hold (infra.journeys.compiler)
BRANCH_ENDED: Final = "branch_ended"  # a branch chose the end before any send


class FiguresBuffer(Protocol):
    """The figures counted while the batch ran (`baton.figures.recorder.FiguresRecorder`)."""

    def flush(self) -> int: ...


def idempotency_key(run_id: str) -> str:
    return f"{CAMPAIGN_EVENT}:{run_id}"


class ContactMemo:
    """The contact as read once (strongly consistent) at the start of its walk through the
    journey, and its generation from the batch's read: the send, its links and the finish all
    use them. The gate's own facts (consent, suppression, caps, lists) are still read at the
    moment of each send."""

    def __init__(self, contacts: ContactService) -> None:
        self._contacts = contacts
        self._current: Contact | None = None
        self._generation: tuple[str, str | None] | None = None

    def begin(self, contact_id: str, generation: str | None) -> None:
        self._current = None
        self._generation = (contact_id, generation)

    def get(self, contact_id: str) -> Contact:
        if self._current is None or self._current.contact_id != contact_id:
            self._current = self._contacts.get(contact_id)  # ContactNotFound when erased
        return self._current

    def generation(self, contact_id: str) -> str | None:
        if self._generation is not None and self._generation[0] == contact_id:
            return self._generation[1]
        return self._contacts.generation(contact_id)


@dataclass(frozen=True)
class BatchRequest:
    run_id: str
    batch: int
    contacts: Sequence[str]


@dataclass(frozen=True)
class BatchResult:
    batch: int
    contacts: int
    counted: bool  # this call added the batch's counts to the run (False: counted before)
    outcomes: dict[str, int]


class CampaignBatch:
    def __init__(
        self,
        *,
        runs: CampaignRuns,
        catalog: Callable[[], Catalog],
        context: RunnerContext,
        dispatcher: Dispatcher,
        contacts: ContactService,
        timeline: TimelineService,
        run_records: RunRepository,
        subjects: SubjectRepository,
        executions: Executions,
        continuations: Continuations,
        naming_key: Callable[[], bytes],
        state_machine_arn_prefix: str,
        clock: Clock,
        memo: ContactMemo,
        time_left_s: Callable[[], float] = lambda: float("inf"),
        figures: FiguresBuffer | None = None,
    ) -> None:
        """`figures`: written once per batch task, however it ends (done, paused, unfinished,
        stopped for a retry): its 100 contacts' counts fall on a few items, a write each."""
        self._runs = runs
        self._catalog = catalog
        self._ctx = context
        self._send = SendTask(context, dispatcher)
        self._branch = BranchTask(context)
        self._split = SplitTask(context)
        self._finish = FinishTask(context)
        self._contacts = contacts
        self._timeline = timeline
        self._run_records = run_records
        self._subjects = subjects
        self._continuations = continuations
        self._naming_key = naming_key
        self._prefix = state_machine_arn_prefix
        self._clock = clock
        self._memo = memo
        self._time_left_s = time_left_s
        self._figures = figures
        self._started = JourneyStarter(run_records, subjects, executions, timeline, clock, naming_key)

    def run(self, request: BatchRequest) -> BatchResult:
        try:
            return self._run(request)
        finally:
            if self._figures is not None:
                self._figures.flush()

    def _run(self, request: BatchRequest) -> BatchResult:
        campaign = self._runs.get(request.run_id)
        progress = self._runs.progress(request.run_id, request.batch)
        if progress.done:
            return _result(request, progress, counted=False)
        journey = self._catalog().journeys.get(campaign.journey)
        outcomes = dict(progress.outcomes)
        throttled = progress.throttled
        pending = [position for position in range(len(request.contacts)) if position not in outcomes]
        generations = self._contacts.generations([request.contacts[p] for p in pending]) if pending else {}
        for position in pending:
            contact_id = request.contacts[position]
            status = self._runs.status(request.run_id)
            if status is CampaignStatus.CANCELLED:
                for rest in pending[pending.index(position) :]:
                    outcomes[rest] = outcome_label(ContactOutcome.CANCELLED)
                break
            if status is CampaignStatus.PAUSED or self._time_left_s() < TIME_MARGIN_S:
                self._runs.save_progress(
                    request.run_id,
                    request.batch,
                    BatchProgress(outcomes=outcomes, throttled=throttled),
                    self._clock.now(),
                )
                if status is CampaignStatus.PAUSED:
                    raise CampaignPaused(f"campaign run {request.run_id} is paused")
                raise BatchUnfinished(
                    f"batch {request.batch}: {len(outcomes)} of {len(request.contacts)} done"
                )
            if journey is None:
                outcomes[position] = outcome_label(ContactOutcome.FAILED, "journey_not_deployed")
                continue
            if contact_id not in generations:
                # Erased (or never made) since the audience was taken: nothing to send, nothing kept.
                outcomes[position] = outcome_label(ContactOutcome.SKIPPED, NO_CONTACT)
                continue
            try:
                outcomes[position] = self._contact(
                    campaign, journey, contact_id, generations[contact_id], last=throttled >= THROTTLED_STOPS
                )
            except Exception as exc:
                if not (isinstance(exc, RetryLater) or is_retryable_aws_error(exc)):
                    # This contact's run broke (not the provider, not AWS): it is recorded as a
                    # journey's failure would be, counted, and the batch goes on.
                    outcomes[position] = self._failed(campaign, journey, contact_id, exc)
                    continue
                # The provider asks to slow down, or AWS could not be reached: keep what is done,
                # and let Step Functions retry the batch later with backoff. After a few stops
                # for the provider, a throttled send holds instead (its contact goes on in an
                # execution of its own), before the batch's retries run out: nothing is dropped.
                stopped = throttled + (1 if isinstance(exc, (Throttled, ProviderUnavailable)) else 0)
                try:
                    self._runs.save_progress(
                        request.run_id,
                        request.batch,
                        BatchProgress(outcomes=outcomes, throttled=stopped),
                        self._clock.now(),
                    )
                except Exception:  # the retry walks these contacts again: their ledger holds
                    logger.warning("Batch progress not kept", extra={"run_id": request.run_id})
                raise
        done = BatchProgress(outcomes=outcomes, throttled=throttled, done=True)
        counted = self._runs.finish_batch(request.run_id, request.batch, done, self._clock.now())
        return _result(request, done, counted=counted)

    def _contact(
        self, campaign: CampaignRun, journey: Journey, contact_id: str, generation: str | None, *, last: bool
    ) -> str:
        machine = f"{self._prefix}{journey.journey}"
        event = EventIn(
            contact_id=contact_id,
            type=CAMPAIGN_EVENT,
            data={"run_id": campaign.run_id, "segment": campaign.segment},
            idempotency_key=idempotency_key(campaign.run_id),
        )
        if held_out(journey.journey, contact_id, journey.holdout):
            # The control group: entered and recorded as an event's start would, sent nothing.
            self._started.start(machine, journey.journey, event, generation, holdout=journey.holdout)
            return outcome_label(ContactOutcome.SKIPPED, HOLDOUT_VARIANT)
        if campaign.path is Path.EXECUTIONS:
            self._started.start(machine, journey.journey, event, generation)
            return outcome_label(ContactOutcome.HANDED_ON)
        name = execution_name(
            journey.journey, contact_id, event.idempotency_key, key=self._naming_key(), generation=generation
        )
        if self._handed_on(contact_id, journey.journey, name):
            return outcome_label(ContactOutcome.HANDED_ON)
        subject = Subject(
            execution_name=name,
            contact_id=contact_id,
            journey=journey.journey,
            event_type=event.type,
            data=event.data,
            expires_at=int((self._clock.now() + LIFETIME).timestamp()),
        )
        self._started.record_started(journey.journey, event, name)
        self._memo.begin(contact_id, generation)
        entered = self._clock.now()
        steps: dict[str, dict[str, object]] = {}
        label = self._walk(journey, execution_arn(machine, name), subject, steps, last=last)
        if journey.goal is not None and label != outcome_label(ContactOutcome.HANDED_ON):
            # Where a goal's conversion finds the entry (a handed-on contact's run is stored already).
            self._run_records.add(
                Run(
                    contact_id=contact_id,
                    journey=journey.journey,
                    execution_name=name,
                    execution_arn=execution_arn(machine, name),
                    status=RunStatus.SUCCEEDED,
                    started_at=entered,
                    ended_at=self._clock.now(),
                    event_type=event.type,
                    idempotency_key=event.idempotency_key,
                    variant=variant_in(steps),
                )
            )
        return label

    def _failed(self, campaign: CampaignRun, journey: Journey, contact_id: str, cause: Exception) -> str:
        # The error's type only: its text can quote the contact's data.
        logger.error(
            "Campaign contact failed",
            extra={"run_id": campaign.run_id, "journey": journey.journey, "error_type": type(cause).__name__},
        )
        self._ctx.count(METRIC_ERRORS)
        self._timeline.record(
            contact_id,
            JOURNEY_FAILED,
            {"journey": journey.journey, "run_id": campaign.run_id, "error": type(cause).__name__},
        )
        return outcome_label(ContactOutcome.FAILED, TASK_ERROR)

    def _handed_on(self, contact_id: str, journey_id: str, name: str) -> bool:
        """Whether an earlier try of this batch handed the contact on to an execution: its run
        is recorded before that execution starts, so this never misses one."""
        return any(
            run.continues == name or (run.execution_name == name and run.continued_as is not None)
            for run in self._run_records.of_journey(contact_id, journey_id)
        )

    def _hand_on(
        self, execution: str, subject: Subject, step_id: str, steps: dict[str, dict[str, object]]
    ) -> str:
        """The send holds: the contact goes on in an execution of the journey's state machine,
        at that send's hold, with the subject and run an execution's start stores."""
        self._subjects.add(subject)
        self._run_records.add(
            Run(
                contact_id=subject.contact_id,
                journey=subject.journey,
                execution_name=subject.execution_name,
                execution_arn=execution,
                started_at=self._clock.now(),
                event_type=subject.event_type,
                idempotency_key=idempotency_key(str(subject.data["run_id"])),
                variant=variant_in(steps),
            )
        )
        self._continuations.continue_run(
            execution,
            subject,
            resume=HOLD_LABEL.format(step=step_id),
            steps=steps,  # type: ignore[arg-type]
            passes=None,
            variant=variant_in(steps),
        )
        return outcome_label(ContactOutcome.HANDED_ON)

    def _walk(
        self,
        journey: Journey,
        execution: str,
        subject: Subject,
        steps: dict[str, dict[str, object]],
        *,
        last: bool,
    ) -> str:
        """Run the journey for one contact, keeping each step's result in `steps`."""
        step_id = journey.steps[0].id
        while step_id != END:
            index = next(i for i, step in enumerate(journey.steps) if step.id == step_id)
            step = journey.steps[index]
            after = journey.next_of(index)
            if step.branch is not None:
                request = self._request(Action.BRANCH, journey, execution, step_id, steps, last=last)
                branched = self._branch.run(request.about(subject))
                steps[step_id] = dump(branched)
                step_id = branched.next
                continue
            if step.split is not None:
                request = self._request(Action.SPLIT, journey, execution, step_id, steps, last=last)
                split = self._split.run(request.about(subject))
                steps[step_id] = dump(split)
                step_id = split.next
                continue
            ends = after == END
            request = self._request(Action.SEND, journey, execution, step_id, steps, last=last, ends=ends)
            result: SendResult = self._send.run(request.about(subject))
            steps[step_id] = dump(result)
            if result.outcome == "held":
                return self._hand_on(execution, subject, step_id, steps)
            if result.outcome != "sent":
                kind = ContactOutcome.FAILED if result.outcome == "failed" else ContactOutcome.SKIPPED
                return outcome_label(kind, result.reason)
            if ends:
                return outcome_label(ContactOutcome.SENT)  # the send task completed the journey
            step_id = after
        # A branch chose the end: the journey completes as its Finish task would complete it.
        finish = self._request(Action.FINISH, journey, execution, None, steps, last=last)
        self._finish.run(finish.about(subject))
        sent = any(result.get("outcome") == "sent" for result in steps.values())
        return (
            outcome_label(ContactOutcome.SENT)
            if sent
            else outcome_label(ContactOutcome.SKIPPED, BRANCH_ENDED)
        )

    @staticmethod
    def _request(
        action: Action,
        journey: Journey,
        execution: str,
        step_id: str | None,
        steps: dict[str, dict[str, object]],
        *,
        last: bool,
        ends: bool = False,
    ) -> StepRequest:
        return StepRequest.model_validate(
            {
                "action": action,
                "journey": journey.journey,
                "step": step_id,
                "execution": execution,
                "steps": steps,
                "ends": ends,
                # On the batch's last try a throttled send holds (R-REL-4) instead of raising.
                "retry_count": 1 if last else 0,
                "max_retries": 1,
            }
        )


def _result(request: BatchRequest, progress: BatchProgress, *, counted: bool) -> BatchResult:
    counts: dict[str, int] = {}
    for label in progress.outcomes.values():
        counts[label] = counts.get(label, 0) + 1
    return BatchResult(request.batch, len(request.contacts), counted, counts)
