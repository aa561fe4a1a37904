"""Lambda for the Baton event bus: an EventBridge event with Baton's envelope is
recorded exactly as `POST /v1/events` records it (`EventService.record`: start the journeys it
triggers, end those it exits, resume the executions waiting for it, `event.received` on the
timeline).

Envelope: `source` any, `detail-type` = the event type, `detail` = `{"contact_id", "data",
"idempotency_key"}`. Anything that fails (an envelope that does not parse, an unknown contact,
a journey not deployed, AWS errors) raises: Lambda retries the asynchronous invocation twice,
then the event lands in the dead-letter queue with an alarm (R-REL-5). Retries are safe: the
idempotency key deduplicates the event, the execution names and the waiters' conditional
deletes start and resume nothing twice.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from baton import logs
from baton.bootstrap import flushes_figures, metrics, services
from baton.data.documents import FreeMap
from baton.triggers import wiring
from baton.triggers.models import EventIn

logger = logs.service_logger()
tracer = Tracer()


class BusDetail(BaseModel):
    # An envelope that does not parse fails the invocation, and Lambda logs the error's text.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    contact_id: str
    data: FreeMap = Field(default_factory=dict)
    idempotency_key: str


class BusEnvelope(BaseModel):
    """The EventBridge event; only the fields Baton reads."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, hide_input_in_errors=True)

    id: str = ""
    source: str
    detail_type: Annotated[str, Field(alias="detail-type")]
    detail: BusDetail

    def to_event(self) -> EventIn:
        """The event `POST /v1/events` would have received (validated by the same model)."""
        return EventIn(
            contact_id=self.detail.contact_id,
            type=self.detail_type,
            data=self.detail.data,
            idempotency_key=self.detail.idempotency_key,
        )


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@flushes_figures
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    envelope = BusEnvelope.model_validate(event)
    logger.append_keys(source=envelope.source, event_type=envelope.detail_type, bus_event_id=envelope.id)
    answer = wiring.event_service(services(), context).record(envelope.to_event())
    logger.info("Bus event recorded", extra={"journeys_started": answer.journeys_started})
    return answer.model_dump(mode="json")
