"""Lambda for delivery feedback: EventBridge events from the default bus (SES through the
configuration set's EventBridge destination, End User Messaging SMS/voice, WhatsApp) and SNS SMS
delivery-status log records (a CloudWatch Logs subscription). Each receipt is handled once
(`FeedbackService.handle`); an error propagates so the async invoke retries it, then the
dead-letter queue keeps it (R-REL-5)."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from baton import logs
from baton.bootstrap import flushes_figures, metrics, services
from baton.feedback.events import parse_eventbridge, parse_sns_sms_status
from baton.feedback.models import Receipt
from baton.feedback.wiring import feedback_service

logger = logs.service_logger()
tracer = Tracer()


def receipts_of(event: dict[str, Any]) -> list[Receipt]:
    """The receipts in one invocation's event (none when it is not about delivery)."""
    if "awslogs" in event:
        data = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
        parsed = [parse_sns_sms_status(str(line.get("message", ""))) for line in data.get("logEvents", [])]
        return [receipt for receipt in parsed if receipt is not None]
    receipt = parse_eventbridge(event)
    return [receipt] if receipt is not None else []


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@flushes_figures
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    receipts = receipts_of(event)
    if not receipts:
        logger.info(
            "Not a delivery receipt", extra={"source": event.get("source"), "type": event.get("detail-type")}
        )
        return {"handled": 0, "receipts": 0}
    service = feedback_service(services())
    handled = sum(1 for receipt in receipts if service.handle(receipt))
    return {"handled": handled, "receipts": len(receipts)}
