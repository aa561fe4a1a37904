"""Every DynamoDB table a deployment names (`baton.settings.table_fields`, so a table added to the
settings is searched too), read whole, and every dead-letter queue it names: where a test looks
for personal data."""

from __future__ import annotations

from typing import Any

import boto3

from baton.settings import Settings, dead_letter_queue_fields, table_fields


def every_item(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """Each table's items (raw DynamoDB JSON), by settings field, read strongly consistent."""
    client = boto3.client("dynamodb")
    found: dict[str, list[dict[str, Any]]] = {}
    for field in table_fields():
        request: dict[str, Any] = {"TableName": getattr(settings, field), "ConsistentRead": True}
        items: list[dict[str, Any]] = []
        while True:
            page = client.scan(**request)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        found[field] = items
    return found


def every_dead_letter(settings: Settings) -> dict[str, list[str]]:
    """Each dead-letter queue's message bodies, by settings field. Every message is read (hidden
    meanwhile, so none is read twice), then made visible again: reading changes nothing. A
    message some reader left hidden cannot be read: it fails here, as it would hide from a search."""
    client = boto3.client("sqs")
    found: dict[str, list[str]] = {}
    for field in dead_letter_queue_fields():
        url = getattr(settings, field)
        counts = client.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
        )
        assert counts["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "0", (
            f"{field}: hidden messages"
        )
        messages: list[dict[str, Any]] = []
        while batch := client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get(
            "Messages", []
        ):
            messages.extend(batch)
        for message in messages:
            client.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        found[field] = [message["Body"] for message in messages]
    return found
