"""Every DynamoDB table a deployment names (`baton.settings.table_fields`, so a table added to the
settings is searched too), read whole: where a test looks for personal data."""

from __future__ import annotations

from typing import Any

import boto3

from baton.settings import Settings, table_fields


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
