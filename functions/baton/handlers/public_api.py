"""Lambda for the public routes (web forms and links)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from baton import logs
from baton.api import public
from baton.api.resolver import resolve
from baton.bootstrap import flushes_figures, metrics, services

logger = logs.service_logger()
tracer = Tracer()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
# Responses carry profiles, exports and pages: never copied into traces.
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@flushes_figures
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(public.app(), event, context, services().settings.max_body_bytes)
