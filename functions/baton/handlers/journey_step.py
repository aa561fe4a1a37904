"""Lambda for every task of every journey state machine: parse the payload, run the task, return
its result. `Baton.ProviderUnavailable`, `Baton.Throttled` and `Baton.AwsUnavailable` (Baton's
own DynamoDB or Secrets Manager calls throttled or failing) propagate so Step Functions retries
the task (R-REL-4); any other error is caught by the state machine."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from baton import logs
from baton.bootstrap import flushes_figures, metrics
from baton.runner.exceptions import reported_by_type
from baton.runner.models import StepRequest
from baton.runner.wiring import runner

logger = logs.service_logger()
tracer = Tracer()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@flushes_figures
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # What a task raises is kept in the execution's history (`$.error`): by type only.
    with reported_by_type():
        request = StepRequest.model_validate(event)
        logger.append_keys(
            action=str(request.action),
            journey=request.journey,
            step=request.step,
            execution=request.execution_name,
        )
        journey_runner, once = runner()
        once.register(context)
        return journey_runner.handle(request)
