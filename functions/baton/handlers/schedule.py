"""Lambda for EventBridge Scheduler (`baton.schedules.firings`): a scheduled journey's firing
starts a campaign run over its segment (`baton.campaigns`): the audience is taken in parallel
into a snapshot and sent in batches by the campaign state machine, however large the segment;
the review digest's firing mails each owner what needs them (`baton.inventory.digest`).

Scheduler fills in the time the schedule was due (not the time it ran), so a retried or late
firing names the same run (its id is derived from the journey and that time) and starts it
once, and the same ISO week's digest (each owner's is sent once a week). An error fails the
invocation: Scheduler retries it and then sends the event to the schedule's DLQ. A marketing
journey closed for review (`baton.journeys.review`) starts no run: the firing is answered and
counted, not retried.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from baton import logs
from baton.bootstrap import flushes_figures, metrics, services
from baton.campaigns.wiring import campaign_service
from baton.clock import to_iso
from baton.schedules.firings import DigestFiring, JourneyFiring, parse_firing
from baton.triggers.exceptions import JourneyClosed
from baton.triggers.wiring import review_digest

logger = logs.service_logger()
tracer = Tracer()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@flushes_figures
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    firing = parse_firing(event)
    logger.append_keys(scheduled_time=to_iso(firing.scheduled_time))
    if isinstance(firing, DigestFiring):
        return _digest(firing, context)
    return _journey(firing)


def _journey(firing: JourneyFiring) -> dict[str, Any]:
    logger.append_keys(journey=firing.journey)
    try:
        accepted = campaign_service(services()).start_scheduled(firing.journey, firing.scheduled_time)
    except JourneyClosed as exc:
        # Not an error to retry: the journey is closed until its owner reviews it. The firing
        # is answered, logged and counted (the inventory and the owner's digest say why).
        logger.warning("Scheduled run not admitted: review overdue", extra={"reason": str(exc)})
        metrics.add_metric(name="ScheduledRunsNotAdmitted", unit=MetricUnit.Count, value=1)
        return {"not_admitted": firing.journey, "reason": "review_overdue"}
    logger.info("Scheduled campaign run", extra={"run_id": accepted.run_id, "path": str(accepted.path)})
    metrics.add_metric(name="ScheduledCampaignRuns", unit=MetricUnit.Count, value=1)
    return accepted.model_dump(mode="json")


def _digest(firing: DigestFiring, context: LambdaContext) -> dict[str, Any]:
    report = review_digest(services(), context).send(firing.scheduled_time)
    # Counts only: which owners were mailed is on the once ledger, by hash.
    logger.info("Review digest", extra=report.model_dump(mode="json"))
    metrics.add_metric(name="ReviewDigestsSent", unit=MetricUnit.Count, value=report.sent)
    return report.model_dump(mode="json")
