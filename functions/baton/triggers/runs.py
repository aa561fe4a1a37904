"""Where journey runs live: an abstract repository, the DynamoDB one and an in-memory one.

Items are keyed (contact_id, sk = `<journey>#<execution name>`), so a contact's runs of one
journey are one query (`begins_with(sk, "<journey>#")`; the `#` keeps `welcome` apart from
`welcome-back`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from baton import aws
from baton.data.items import delete_keys, from_item, partition_keys, query_items, to_item, to_value
from baton.triggers.models import Run, run_sort_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef


class RunRepository(ABC):
    @abstractmethod
    def add(self, run: Run) -> bool:
        """Store a new run; False (and nothing written) when it is already stored."""

    @abstractmethod
    def replace(self, run: Run) -> None:
        """Store the run's new status over the old one."""

    @abstractmethod
    def set_variant(self, contact_id: str, journey_id: str, execution_name: str, variant: str) -> None:
        """Keep the run's variant on its stored run; nothing when no run is stored under it."""

    @abstractmethod
    def of_journey(self, contact_id: str, journey_id: str) -> list[Run]:
        """The contact's runs of one journey, read strongly consistent."""

    @abstractmethod
    def of_contact(self, contact_id: str) -> list[Run]:
        """Every run of the contact."""

    @abstractmethod
    def delete_all(self, contact_id: str) -> int:
        """Remove the contact's runs (erasure, R-GDPR-5); returns how many."""


class DynamoRunRepository(RunRepository):
    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: DynamoDBClient = client or aws.client("dynamodb")

    def add(self, run: Run) -> bool:
        try:
            self._client.put_item(
                TableName=self._table, Item=_item(run), ConditionExpression="attribute_not_exists(sk)"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def replace(self, run: Run) -> None:
        self._client.put_item(TableName=self._table, Item=_item(run))

    def set_variant(self, contact_id: str, journey_id: str, execution_name: str, variant: str) -> None:
        # One attribute, not the whole run: a status written meanwhile stays as it is.
        try:
            self._client.update_item(
                TableName=self._table,
                Key={
                    "contact_id": to_value(contact_id),
                    "sk": to_value(run_sort_key(journey_id, execution_name)),
                },
                UpdateExpression="SET variant = :v",
                ConditionExpression="attribute_exists(sk)",
                ExpressionAttributeValues={":v": to_value(variant)},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def of_journey(self, contact_id: str, journey_id: str) -> list[Run]:
        return self._query(
            {
                "TableName": self._table,
                "KeyConditionExpression": "contact_id = :c AND begins_with(sk, :p)",
                "ExpressionAttributeValues": {
                    ":c": to_value(contact_id),
                    ":p": to_value(run_sort_key(journey_id, "")),
                },
                "ConsistentRead": True,
            }
        )

    def of_contact(self, contact_id: str) -> list[Run]:
        return self._query(
            {
                "TableName": self._table,
                "KeyConditionExpression": "contact_id = :c",
                "ExpressionAttributeValues": {":c": to_value(contact_id)},
                "ConsistentRead": True,
            }
        )

    def delete_all(self, contact_id: str) -> int:
        keys = partition_keys(self._client, self._table, "contact_id", contact_id, sort_key="sk")
        delete_keys(self._client, self._table, keys)
        return len(keys)

    def _query(self, request: QueryInputTypeDef) -> list[Run]:
        return [_run(from_item(item)) for item in query_items(self._client, request)]


class InMemoryRunRepository(RunRepository):
    """For unit tests and previews."""

    def __init__(self) -> None:
        self._runs: dict[tuple[str, str], Run] = {}

    def add(self, run: Run) -> bool:
        key = (run.contact_id, run.sort_key)
        if key in self._runs:
            return False
        self._runs[key] = run
        return True

    def replace(self, run: Run) -> None:
        self._runs[(run.contact_id, run.sort_key)] = run

    def set_variant(self, contact_id: str, journey_id: str, execution_name: str, variant: str) -> None:
        key = (contact_id, run_sort_key(journey_id, execution_name))
        if key in self._runs:
            self._runs[key] = self._runs[key].model_copy(update={"variant": variant})

    def of_journey(self, contact_id: str, journey_id: str) -> list[Run]:
        prefix = run_sort_key(journey_id, "")
        return [
            run
            for (contact, sk), run in sorted(self._runs.items())
            if contact == contact_id and sk.startswith(prefix)
        ]

    def of_contact(self, contact_id: str) -> list[Run]:
        return [run for (contact, _), run in sorted(self._runs.items()) if contact == contact_id]

    def delete_all(self, contact_id: str) -> int:
        keys = [key for key in self._runs if key[0] == contact_id]
        for key in keys:
            del self._runs[key]
        return len(keys)


def _item(run: Run) -> dict[str, Any]:
    return to_item({**run.model_dump(mode="json"), "sk": run.sort_key})


def _run(item: dict[str, Any]) -> Run:
    item.pop("sk", None)
    return Run.model_validate(item)
