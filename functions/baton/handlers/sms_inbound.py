"""Lambda for inbound texts: SNS delivers the two-way SMS JSON; each message is handled once.

SNS delivers at least once, so the work is keyed by `inboundMessageId` in the idempotency
table: a redelivered STOP, YES or HELP changes and sends nothing the second time.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.utilities.data_classes import SNSEvent, event_source
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from baton import aws, logs
from baton.bootstrap import metrics, services
from baton.inbound.models import InboundSms
from baton.inbound.service import InboundSmsService

logger = logs.service_logger()
tracer = Tracer()
_CONFIG = IdempotencyConfig(event_key_jmespath="inboundMessageId", expires_after_seconds=7 * 24 * 3600)


@lru_cache(maxsize=1)
def _persistence() -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(
        table_name=services().settings.idempotency_table, boto3_client=aws.client("dynamodb")
    )


def _process(message: dict[str, Any]) -> dict[str, Any]:
    sms = InboundSms.model_validate(message)
    result = InboundSmsService(services()).handle(sms)
    logger.info(
        "Inbound SMS handled", extra={"keyword": result.keyword.value, "contacts": len(result.contacts)}
    )
    return {"message_id": sms.inbound_message_id, "keyword": result.keyword.value, "replied": result.replied}


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=SNSEvent)
def handler(event: SNSEvent, context: LambdaContext) -> dict[str, Any]:
    _CONFIG.register_lambda_context(context)
    once = idempotent_function(
        data_keyword_argument="message", persistence_store=_persistence(), config=_CONFIG
    )(_process)
    return {"handled": [once(message=json.loads(record.sns.message)) for record in event.records]}
