"""Lambda for every task of the campaign state machine: take the audience, send a batch, finish,
record a failure. `Baton.CampaignPaused` and `Baton.BatchUnfinished` propagate so Step Functions
asks again (in a minute; at once), and so do the journey tasks' retryable errors (R-REL-4)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from baton import logs
from baton.bootstrap import flushes_figures, metrics, services
from baton.campaigns.batch import BatchRequest
from baton.campaigns.exceptions import BatchUnfinished, CampaignPaused
from baton.campaigns.models import RunId
from baton.campaigns.wiring import campaign_batch, campaign_service
from baton.runner.exceptions import reported_by_type
from baton.runner.models import TaskError
from baton.runner.once import SendLedger
from baton.runner.wiring import runner

logger = logs.service_logger()
tracer = Tracer()


class CampaignTask(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)

    action: Literal["snapshot", "batch", "finish", "fail"]
    run_id: RunId
    batch: Annotated[int, Field(ge=0)] = 0
    contacts: list[Annotated[str, Field(min_length=1, max_length=256)]] = Field(default_factory=list)
    error: TaskError | None = None


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@flushes_figures
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with reported_by_type(keep=(CampaignPaused, BatchUnfinished)):
        task = CampaignTask.model_validate(event)
        logger.append_keys(action=task.action, run_id=task.run_id, batch=task.batch)
        s = services()
        match task.action:
            case "snapshot":
                return campaign_service(s).take_audience(task.run_id)
            case "batch":
                ledger: SendLedger = runner()[1]
                ledger.register(context)
                result = campaign_batch(s, lambda: context.get_remaining_time_in_millis() / 1000).run(
                    BatchRequest(task.run_id, task.batch, task.contacts)
                )
                metrics.add_metric(name="CampaignContacts", unit=MetricUnit.Count, value=result.contacts)
                return {"batch": result.batch, "contacts": result.contacts, "counted": result.counted}
            case "finish":
                return campaign_service(s).finish(task.run_id)
            case "fail":
                error = task.error.error if task.error is not None else ""
                return campaign_service(s).fail(task.run_id, error)
