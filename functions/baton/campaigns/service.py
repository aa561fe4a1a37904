"""Campaign runs: start one (the API, the CLI, a schedule), read how it is doing, steer it, and
the campaign state machine's own tasks (take the audience, finish, record a failure).

A run is an execution of the campaign state machine named by its run id, so starting the same
run twice (a retried request, a schedule's retried firing) starts it once: a schedule's run id is
derived from its journey and the time it was due, an API run's is new per request.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from botocore.exceptions import ClientError

from baton.aws import error_code
from baton.campaigns.audience import AudienceSnapshots
from baton.campaigns.exceptions import CampaignInvalid
from baton.campaigns.models import (
    CANCELLABLE,
    PAUSABLE,
    RESUMABLE,
    CampaignAccepted,
    CampaignIn,
    CampaignRun,
    CampaignStatus,
    CampaignView,
)
from baton.campaigns.runs import CampaignRuns, minute_of
from baton.clock import Clock, as_utc, to_iso
from baton.ids import new_id
from baton.journeys.catalog import Catalog
from baton.journeys.paths import journey_path
from baton.journeys.review import ReviewPolicy
from baton.triggers.exceptions import JourneyClosed, JourneyNotFound
from baton.triggers.executions import execution_arn

SCHEDULE_TRIGGER: Final = "schedule"
API_TRIGGER: Final = "campaign"
CANCELLED_ERROR: Final = "Baton.CampaignCancelled"


class StateMachines(Protocol):
    """The Step Functions calls a run makes (boto3 has no type stubs for Step Functions here)."""

    def start_execution(self, **kwargs: Any) -> dict[str, Any]: ...
    def stop_execution(self, **kwargs: Any) -> dict[str, Any]: ...


def schedule_run_id(journey_id: str, scheduled_time: datetime) -> str:
    """The run of one firing of a journey's schedule: the same for every retry of it."""
    moment = as_utc(scheduled_time).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = hashlib.sha256(json.dumps([journey_id, moment]).encode()).hexdigest()[:32]
    return f"{journey_id[:40]}-{digest}"


class CampaignService:
    def __init__(
        self,
        *,
        runs: CampaignRuns,
        catalog: Callable[[], Catalog],
        state_machines: StateMachines,
        state_machine_arn: str,
        clock: Clock,
        snapshots: Callable[[], AudienceSnapshots] | None = None,
        review: ReviewPolicy | None = None,
    ) -> None:
        self._review = review or ReviewPolicy()
        self._runs = runs
        self._catalog = catalog
        self._sfn = state_machines
        self._arn = state_machine_arn
        self._clock = clock
        self._snapshots = snapshots

    # Starting ------------------------------------------------------------------------------

    def start(
        self, request: CampaignIn, *, trigger: str = API_TRIGGER, run_id: str | None = None
    ) -> CampaignAccepted:
        catalog = self._catalog()
        journey = catalog.journeys.get(request.journey)
        if journey is None:
            raise CampaignInvalid("journey", f"No journey {request.journey!r} in the catalog.")
        if not self._review.admits(journey, self._clock.now().date()):
            # Overdue for review past its grace: a run would admit new contacts. Runs started
            # before go on: their contacts finish.
            raise JourneyClosed(journey.journey, self._review.refusal(journey))
        try:
            catalog.segment(request.segment)
        except KeyError:
            raise CampaignInvalid("segment", f"No segment {request.segment!r} in the catalog.") from None
        if not self._arn:
            raise CampaignInvalid("journey", "Campaigns are not deployed here (no campaign state machine).")
        now = self._clock.now()
        at = max(as_utc(request.at), now) if request.at is not None else now
        run = CampaignRun(
            run_id=run_id or f"run-{new_id(now).lower()}",
            journey=journey.journey,
            segment=request.segment,
            path=journey_path(journey).path,
            status=CampaignStatus.SCHEDULED,
            created_at=now,
            at=at,
            trigger=trigger,
        )
        if not self._runs.create(run):
            run = self._runs.get(run.run_id)  # this run was started before: the same answer
        self._execute(run)
        return CampaignAccepted(run_id=run.run_id, status=run.status, path=run.path)

    def start_scheduled(self, journey_id: str, scheduled_time: datetime) -> CampaignAccepted:
        """One firing of a journey's schedule: a run over its trigger's segment, the same run
        however often the firing is retried (its id is derived from the journey and the time)."""
        journey = self._catalog().journeys.get(journey_id)
        if journey is None:
            raise JourneyNotFound(journey_id)
        if journey.trigger.schedule is None or journey.trigger.segment is None:
            raise CampaignInvalid("journey", f"Journey {journey_id!r} is not triggered by a schedule.")
        request = CampaignIn(journey=journey_id, segment=journey.trigger.segment, at=scheduled_time)
        return self.start(
            request, trigger=SCHEDULE_TRIGGER, run_id=schedule_run_id(journey_id, scheduled_time)
        )

    def _execute(self, run: CampaignRun) -> None:
        document = {"run_id": run.run_id, "at": to_iso(run.at)}
        try:
            self._sfn.start_execution(
                stateMachineArn=self._arn, name=run.run_id, input=json.dumps(document, sort_keys=True)
            )
        except ClientError as exc:
            if error_code(exc) != "ExecutionAlreadyExists":
                raise

    # Reading -------------------------------------------------------------------------------

    def view(self, run_id: str) -> CampaignView:
        run = self._runs.get(run_id)
        now = self._clock.now()
        # The last whole minute: the one running now is only partly counted.
        done = self._runs.done_in_minute(run_id, minute_of(now - timedelta(minutes=1)))
        rate = done / 60.0
        remaining = run.remaining
        finish = None
        if run.status is CampaignStatus.RUNNING and remaining and rate > 0:
            finish = now + timedelta(seconds=remaining / rate)
        return CampaignView(
            run_id=run.run_id,
            journey=run.journey,
            segment=run.segment,
            path=run.path,
            status=run.status,
            trigger=run.trigger,
            created_at=run.created_at,
            at=run.at,
            started_at=run.started_at,
            ended_at=run.ended_at,
            audience=run.audience,
            batches=run.batches,
            batches_done=run.batches_done,
            sent=run.sent,
            skipped=sum(run.skipped.values()),
            skipped_by_reason=dict(sorted(run.skipped.items())),
            failed=sum(run.failed.values()),
            failed_by_reason=dict(sorted(run.failed.items())),
            handed_on=run.handed_on,
            cancelled=run.cancelled,
            remaining=remaining,
            rate_per_second=round(rate, 3),
            estimated_finish=finish,
            error=run.error,
        )

    # Steering ------------------------------------------------------------------------------

    def pause(self, run_id: str) -> CampaignView:
        self._runs.move(run_id, CampaignStatus.PAUSED, PAUSABLE, self._clock.now())
        return self.view(run_id)

    def resume(self, run_id: str) -> CampaignView:
        # Back to running; a run paused before its audience was taken starts when its time comes.
        self._runs.move(run_id, CampaignStatus.RUNNING, RESUMABLE, self._clock.now())
        return self.view(run_id)

    def cancel(self, run_id: str) -> CampaignView:
        """Nothing more is sent: every batch reads the status before each contact, and the run's
        execution is stopped (batches not begun never begin)."""
        self._runs.move(run_id, CampaignStatus.CANCELLED, CANCELLABLE, self._clock.now())
        try:
            self._sfn.stop_execution(
                executionArn=execution_arn(self._arn, run_id),
                error=CANCELLED_ERROR,
                cause="The campaign run was cancelled.",
            )
        except ClientError as exc:
            if error_code(exc) != "ExecutionDoesNotExist":
                raise
        return self.view(run_id)

    # The state machine's tasks ----------------------------------------------------------------

    def take_audience(self, run_id: str) -> dict[str, Any]:
        """The run's snapshot (taken once): where it is, and its size."""
        if self._snapshots is None:
            raise CampaignInvalid("run_id", "this service was built without the audience snapshots")
        run = self._runs.get(run_id)
        segment = self._catalog().segment(run.segment)
        snapshot = self._snapshots().take(run_id, segment)
        self._runs.audience_taken(run_id, snapshot.audience, snapshot.batches, self._clock.now())
        return {
            "bucket": snapshot.bucket,
            "key": snapshot.key,
            "audience": snapshot.audience,
            "batches": snapshot.batches,
        }

    def finish(self, run_id: str) -> dict[str, Any]:
        self._runs.end(run_id, CampaignStatus.COMPLETED, self._clock.now())
        return {"status": str(self._runs.status(run_id))}

    def fail(self, run_id: str, error: str) -> dict[str, Any]:
        self._runs.end(run_id, CampaignStatus.FAILED, self._clock.now(), error=error[:200] or "unknown")
        return {"status": str(self._runs.status(run_id))}
