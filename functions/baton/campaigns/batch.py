"""One batch of a campaign run: the contacts of one item of the audience snapshot.

Each contact's run is recorded as an event's start would record it (`JourneyStarter`: the
subject, the run, `journey.started` once), under the name an event's start would give it, keyed
`campaign:<run id>`: so the run is idempotent per (journey, run, contact) however often the batch
is retried or redriven, and erasure, export and exit_on find it like any other run. Then:

- batch path (`baton.journeys.paths`): the journey runs here, step by step, through the journey
  tasks themselves: the send task (the gate at send time, failover, the timeline, the send
  ledger: exactly once), the branch task, the finish. Its "execution" is the ARN its execution
  would have had; none is started. A send the gate holds (quiet hours, a window), or that a
  provider still throttles after the batch's retries, hands the contact on to a real execution
  of the journey's state machine at that send's hold (`Continuations`: the same hand-over as a
  long run's), which waits and asks again; the batch is then done with that contact.
- executions path: the run's execution is started (the journey's own state machine).

Before each contact the run's status is read (strongly consistent): cancelled, nothing more is
sent (the rest of the batch is counted as cancelled); paused, the batch keeps what it did and
stops (`CampaignPaused`: Step Functions asks again every minute). A batch whose invocation is
nearly out of time keeps what it did and goes on in the next (`BatchUnfinished`). Kept are the
outcomes by position, never the contacts, so the next invocation skips what was done.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from aws_lambda_powertools import Logger

from baton.campaigns.exceptions import BatchUnfinished, CampaignPaused
from baton.campaigns.models import BatchProgress, CampaignRun, CampaignStatus, ContactOutcome, outcome_label
from baton.campaigns.runs import CampaignRuns
from baton.clock import Clock
from baton.contacts.service import ContactService
from baton.delivery.service import Dispatcher
from baton.journeys.catalog import Catalog
from baton.journeys.models import END, Journey
from baton.journeys.paths import Path
from baton.runner.context import RunnerContext
from baton.runner.exceptions import ProviderUnavailable, Throttled
from baton.runner.models import Action, SendResult, StepRequest, dump
from baton.runner.send import NO_CONTACT, SendTask
from baton.runner.steps import BranchTask, FinishTask
from baton.timeline.service import TimelineService
from baton.triggers.continuation import Continuations
from baton.triggers.executions import Executions, execution_arn
from baton.triggers.models import EventIn, Run
from baton.triggers.runs import RunRepository
from baton.triggers.service import JourneyStarter
from baton.triggers.subjects import SubjectRepository

logger = Logger(child=True)

CAMPAIGN_EVENT: Final = "campaign"  # the event type a campaign's runs carry (`$.event.type`)
# Stop for the next invocation when less than this is left of the Lambda's time: a send and
# its recording take well under it.
TIME_MARGIN_S: Final = 20.0
# A batch stopped this often by a provider that keeps throttling hands its next throttled
# contacts on to their own executions (which hold and ask again every five minutes).
THROTTLED_STOPS: Final = 5
HOLD_LABEL: Final = "Hold {step}"  # the resume label of a send's hold (infra.journeys.compiler)


def idempotency_key(run_id: str) -> str:
    return f"{CAMPAIGN_EVENT}:{run_id}"


class BatchExecutions(Executions):
    """A batch runs the journey itself: a run's execution is only named, never started (its ARN
    is what the journey's execution would be called, so every record of the run reads alike)."""

    def start(self, state_machine_arn: str, name: str, input_json: str) -> str:
        return execution_arn(state_machine_arn, name)

    def status(self, execution_arn: str) -> None:
        return None  # no execution: an exit_on event marks the run ended, as for an ended one

    def stop(self, execution_arn: str, *, error: str, cause: str) -> None:
        return None


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
        time_left_s: Callable[[], float] = lambda: float("inf"),
    ) -> None:
        self._runs = runs
        self._catalog = catalog
        self._ctx = context
        self._send = SendTask(context, dispatcher)
        self._branch = BranchTask(context)
        self._finish = FinishTask(context)
        self._contacts = contacts
        self._run_records = run_records
        self._continuations = continuations
        self._prefix = state_machine_arn_prefix
        self._clock = clock
        self._time_left_s = time_left_s
        self._in_batch = JourneyStarter(run_records, subjects, BatchExecutions(), timeline, clock, naming_key)
        self._started = JourneyStarter(run_records, subjects, executions, timeline, clock, naming_key)

    def run(self, request: BatchRequest) -> BatchResult:
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
            except (Throttled, ProviderUnavailable):
                # The provider asks to slow down: keep what is done, and let Step Functions retry
                # the batch later with backoff; after a few such stops, a throttled send holds
                # instead (its contact goes on in an execution of its own), so nothing is dropped.
                self._runs.save_progress(
                    request.run_id,
                    request.batch,
                    BatchProgress(outcomes=outcomes, throttled=throttled + 1),
                    self._clock.now(),
                )
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
        if campaign.path is Path.EXECUTIONS:
            self._started.start(machine, journey.journey, event, generation)
            return outcome_label(ContactOutcome.HANDED_ON)
        run, _ = self._in_batch.start(machine, journey.journey, event, generation)
        if self._handed_on(run):
            return outcome_label(ContactOutcome.HANDED_ON)
        return self._walk(journey, run, last=last)

    def _handed_on(self, run: Run) -> bool:
        """Whether an earlier try of this batch handed the contact on to an execution: the new
        run is recorded before that execution starts, so this never misses one. (The run found
        by the campaign's key may be that new run itself: it carries the same key.)"""
        if run.continues is not None or run.continued_as is not None:
            return True
        return any(
            other.continues == run.execution_name
            for other in self._run_records.of_journey(run.contact_id, run.journey)
        )

    def _walk(self, journey: Journey, run: Run, *, last: bool) -> str:
        subject = self._ctx.subjects.get(run.execution_name)
        if subject is None:
            return outcome_label(ContactOutcome.SKIPPED, NO_CONTACT)  # erased meanwhile
        steps: dict[str, dict[str, object]] = {}
        step_id = journey.steps[0].id
        while step_id != END:
            index = next(i for i, step in enumerate(journey.steps) if step.id == step_id)
            step = journey.steps[index]
            after = journey.next_of(index)
            if step.branch is not None:
                request = self._request(Action.BRANCH, journey, run, step_id, steps, last=last).about(subject)
                branched = self._branch.run(request)
                steps[step_id] = dump(branched)
                step_id = branched.next
                continue
            ends = after == END
            request = self._request(Action.SEND, journey, run, step_id, steps, last=last, ends=ends)
            result: SendResult = self._send.run(request.about(subject))
            steps[step_id] = dump(result)
            if result.outcome == "held":
                self._continuations.continue_run(
                    run.execution_arn,
                    subject,
                    resume=HOLD_LABEL.format(step=step_id),
                    steps=steps,  # type: ignore[arg-type]
                    passes=None,
                )
                return outcome_label(ContactOutcome.HANDED_ON)
            if result.outcome != "sent":
                kind = ContactOutcome.FAILED if result.outcome == "failed" else ContactOutcome.SKIPPED
                return outcome_label(kind, result.reason)
            if ends:
                return outcome_label(ContactOutcome.SENT)  # the send task completed the journey
            step_id = after
        # A branch chose the end: the journey completes as its Finish task would complete it.
        self._finish.run(self._request(Action.FINISH, journey, run, None, steps, last=last).about(subject))
        sent = any(result.get("outcome") == "sent" for result in steps.values())
        return outcome_label(
            ContactOutcome.SENT if sent else ContactOutcome.SKIPPED, None if sent else "no_send"
        )

    @staticmethod
    def _request(
        action: Action,
        journey: Journey,
        run: Run,
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
                "execution": run.execution_arn,
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
