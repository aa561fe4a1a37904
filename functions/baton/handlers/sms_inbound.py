"""Lambda for inbound texts: SNS delivers the two-way SMS JSON; each message is handled once.

SNS delivers at least once, so the work is keyed by `inboundMessageId` in the idempotency
table (`baton.data.once`): a redelivered STOP, YES or HELP changes and sends nothing the second
time, and an invocation that dies mid-way holds the key no longer than its own time. A retry of
work that failed midway runs it again, but never sends an answer that may be out already
(`baton.inbound.replies`).
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import partial
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.utilities.data_classes import SNSEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from baton import aws, logs
from baton.bootstrap import flushes_figures, metrics, services
from baton.data.once import DynamoOnceTable, Once
from baton.inbound.models import InboundSms
from baton.inbound.replies import Replies
from baton.inbound.service import InboundSmsService

logger = logs.service_logger()
tracer = Tracer()
# SNS redelivers within hours; a week covers its whole retry policy with room to spare.
_KEEP = timedelta(days=7)


def _once() -> tuple[Once, Replies]:
    s = services()  # cached itself: rebuilt only after `bootstrap.reset`
    table = DynamoOnceTable(s.settings.idempotency_table, aws.client("dynamodb"))
    once = Once(table, prefix="baton.inbound-sms", keep=_KEEP, clock=s.clock)
    # Each answer is kept once too: a retry after the work failed midway sends none again.
    return once, Replies(table, s.clock, once.leases)


def _process(replies: Replies, message: dict[str, Any]) -> dict[str, Any]:
    sms = InboundSms.model_validate(message)
    result = InboundSmsService(services(), replies).handle(sms)
    logger.info(
        "Inbound SMS handled", extra={"keyword": result.keyword.value, "contacts": len(result.contacts)}
    )
    return {"message_id": sms.inbound_message_id, "keyword": result.keyword.value, "replied": result.replied}


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
@flushes_figures
@event_source(data_class=SNSEvent)
def handler(event: SNSEvent, context: LambdaContext) -> dict[str, Any]:
    once, replies = _once()
    once.leases.register(context)
    handled = []
    for record in event.records:
        message = json.loads(record.sns.message)
        key = {"inbound_message_id": str(message.get("inboundMessageId", ""))}
        handled.append(once.run(key, partial(_process, replies, message)))
    return {"handled": handled}
