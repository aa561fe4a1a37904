"""Lambda for EventBridge Scheduler: start a scheduled journey for its segment.

The schedule's target input is `{"journey": ID, "scheduled_time": "<aws.scheduler.scheduled-time>"}`;
Scheduler fills in the time it was due to fire (not the time it ran), so a retried or late run
has the same idempotency key. An error fails the invocation: Scheduler retries it (the run is
idempotent per contact and schedule time) and then sends the event to the schedule's DLQ.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from baton import logs
from baton.bootstrap import metrics, services
from baton.schedules.runner import parse_schedule_time
from baton.schedules.wiring import segment_run

logger = logs.service_logger()
tracer = Tracer()


class ScheduleEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)

    journey: str
    scheduled_time: str


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = ScheduleEvent.model_validate(event)
    logger.append_keys(journey=request.journey, scheduled_time=request.scheduled_time)
    result = segment_run(services()).run(request.journey, parse_schedule_time(request.scheduled_time))
    metrics.add_metric(name="ScheduledJourneysStarted", unit=MetricUnit.Count, value=result.started)
    return result.model_dump()
