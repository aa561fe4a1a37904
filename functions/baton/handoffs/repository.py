"""Where hand-off tasks live: an abstract repository, the DynamoDB one and an in-memory one.

Every change of status is a conditional write on the status the caller read, never a lock:
two completions, or a completion racing the timeout, change the task once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from baton import aws
from baton.data.items import contact_items, from_item, query_items, to_item, to_value
from baton.handoffs.models import Task, TaskStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef

BY_QUEUE = "by_queue"


class TaskRepository(ABC):
    @abstractmethod
    def add(self, task: Task) -> bool:
        """Store a new task; False (nothing written) when a task with its id exists."""

    @abstractmethod
    def get(self, task_id: str) -> Task | None:
        """The task, read strongly consistent."""

    @abstractmethod
    def replace_if(self, task: Task, expected: TaskStatus) -> bool:
        """Write `task` over the stored one if that one still has status `expected`."""

    @abstractmethod
    def open_in(self, queue: str) -> list[Task]:
        """The queue's open tasks, oldest due first."""

    @abstractmethod
    def of_contact(self, contact_id: str) -> list[Task]: ...

    @abstractmethod
    def delete_all(self, contact_id: str) -> int:
        """Remove the contact's tasks (erasure, R-GDPR-5); returns how many."""


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class DynamoTaskRepository(TaskRepository):
    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: DynamoDBClient = client or aws.client("dynamodb")

    def add(self, task: Task) -> bool:
        try:
            self._client.put_item(
                TableName=self._table, Item=_item(task), ConditionExpression="attribute_not_exists(task_id)"
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def get(self, task_id: str) -> Task | None:
        response = self._client.get_item(
            TableName=self._table, Key={"task_id": to_value(task_id)}, ConsistentRead=True
        )
        item = response.get("Item")
        return _task(from_item(item)) if item else None

    def replace_if(self, task: Task, expected: TaskStatus) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=_item(task),
                ConditionExpression="#status = :expected",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":expected": to_value(str(expected))},
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def open_in(self, queue: str) -> list[Task]:
        return self._query(
            {
                "TableName": self._table,
                "IndexName": BY_QUEUE,
                "KeyConditionExpression": "#queue = :q AND begins_with(status_due, :open)",
                "ExpressionAttributeNames": {"#queue": "queue"},  # a reserved word
                "ExpressionAttributeValues": {
                    ":q": to_value(queue),
                    ":open": to_value(f"{TaskStatus.OPEN}#"),
                },
            }
        )

    def of_contact(self, contact_id: str) -> list[Task]:
        return [_task(from_item(item)) for item in contact_items(self._client, self._table, contact_id)]

    def delete_all(self, contact_id: str) -> int:
        tasks = self.of_contact(contact_id)
        for task in tasks:
            self._client.delete_item(TableName=self._table, Key={"task_id": to_value(task.task_id)})
        return len(tasks)

    def _query(self, request: QueryInputTypeDef) -> list[Task]:
        return [_task(from_item(item)) for item in query_items(self._client, request)]


class InMemoryTaskRepository(TaskRepository):
    """For unit tests and previews."""

    def __init__(self) -> None:
        self.tasks: dict[str, Task] = {}

    def add(self, task: Task) -> bool:
        if task.task_id in self.tasks:
            return False
        self.tasks[task.task_id] = task
        return True

    def get(self, task_id: str) -> Task | None:
        return self.tasks.get(task_id)

    def replace_if(self, task: Task, expected: TaskStatus) -> bool:
        stored = self.tasks.get(task.task_id)
        if stored is None or stored.status != expected:
            return False
        self.tasks[task.task_id] = task
        return True

    def open_in(self, queue: str) -> list[Task]:
        found = [t for t in self.tasks.values() if t.queue == queue and t.status == TaskStatus.OPEN]
        return sorted(found, key=lambda task: task.status_due)

    def of_contact(self, contact_id: str) -> list[Task]:
        return [task for task in self.tasks.values() if task.contact_id == contact_id]

    def delete_all(self, contact_id: str) -> int:
        doomed = [task.task_id for task in self.of_contact(contact_id)]
        for task_id in doomed:
            del self.tasks[task_id]
        return len(doomed)


def _item(task: Task) -> dict[str, Any]:
    return to_item({**task.model_dump(mode="json"), "status_due": task.status_due})


def _task(item: dict[str, Any]) -> Task:
    item.pop("status_due", None)
    return Task.model_validate(item)
