"""Lambda for EventBridge Scheduler: one firing of a journey's schedule starts a campaign run
over its segment (`baton.campaigns`): the audience is taken in parallel into a snapshot and sent
in batches by the campaign state machine, however large the segment.

The schedule's target input is `{"journey": ID, "scheduled_time": "<aws.scheduler.scheduled-time>"}`;
Scheduler fills in the time it was due to fire (not the time it ran), so a retried or late
firing names the same run (its id is derived from the journey and that time) and starts it
once. An error fails the invocation: Scheduler retries it and then sends the event to the
schedule's DLQ. A marketing journey closed for review (`baton.journeys.review`) starts no
run: the firing is answered and counted, not retried.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from baton import logs
from baton.bootstrap import flushes_figures, metrics, services
from baton.campaigns.wiring import campaign_service
from baton.schedules.expressions import parse_schedule_time
from baton.triggers.exceptions import JourneyClosed

logger = logs.service_logger()
tracer = Tracer()


class ScheduleEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)

    journey: str
    scheduled_time: str


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@flushes_figures
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = ScheduleEvent.model_validate(event)
    logger.append_keys(journey=request.journey, scheduled_time=request.scheduled_time)
    try:
        accepted = campaign_service(services()).start_scheduled(
            request.journey, parse_schedule_time(request.scheduled_time)
        )
    except JourneyClosed as exc:
        # Not an error to retry: the journey is closed until its owner reviews it. The firing
        # is answered, logged and counted (the inventory and the owner's digest say why).
        logger.warning("Scheduled run not admitted: review overdue", extra={"reason": str(exc)})
        metrics.add_metric(name="ScheduledRunsNotAdmitted", unit=MetricUnit.Count, value=1)
        return {"not_admitted": request.journey, "reason": "review_overdue"}
    logger.info("Scheduled campaign run", extra={"run_id": accepted.run_id, "path": str(accepted.path)})
    metrics.add_metric(name="ScheduledCampaignRuns", unit=MetricUnit.Count, value=1)
    return accepted.model_dump(mode="json")
