"""Whom a journey execution is about, kept outside Step Functions (R-GDPR-5).

An execution's input, state and history cannot be erased, so they carry only the execution's
name (a keyed hash, `baton.triggers.naming`) and the event type. The contact id and the trigger
event's data live in the subjects table under that name; the journey tasks read them from there,
and erasure deletes them, after which an old execution's history names nobody.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from baton import aws
from baton.data.items import contact_items, delete_keys, from_item, to_item, to_value

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# A Standard execution runs at most a year (R-REL-1) and may be redriven within 14 days of its
# end (R-REL-5); its tasks read the subject until then. The rest is margin for late receipts.
LIFETIME = timedelta(days=400)


class Subject(BaseModel):
    """One execution's personal part: the contact and the data of the event that started it."""

    model_config = ConfigDict(frozen=True)

    execution_name: str
    contact_id: str
    journey: str
    event_type: str
    data: dict[str, JsonValue] = Field(default_factory=dict)
    expires_at: int | None = None  # epoch seconds (the table's TTL): `LIFETIME` after the start


class SubjectRepository(ABC):
    @abstractmethod
    def add(self, subject: Subject) -> None:
        """Store the subject of a new execution; one already stored under the name is kept (a
        repeated start of the same run must not change what the running execution reads)."""

    @abstractmethod
    def get(self, execution_name: str) -> Subject | None:
        """The execution's subject, read strongly consistent; None once the contact is erased."""

    @abstractmethod
    def of_contact(self, contact_id: str, execution_names: Iterable[str] = ()) -> list[Subject]:
        """Every execution's subject about the contact (export): those the index finds and those
        named (the contact's runs, found even before the index has caught up)."""

    @abstractmethod
    def delete_all(self, contact_id: str, execution_names: Iterable[str] = ()) -> int:
        """Forget every execution of the contact (erasure): those the index finds and those named
        (the contact's runs, found even before the index has caught up). Returns how many."""


class DynamoSubjectRepository(SubjectRepository):
    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: DynamoDBClient = client or aws.client("dynamodb")

    def add(self, subject: Subject) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(subject.model_dump(mode="json")),
                ConditionExpression="attribute_not_exists(execution_name)",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def get(self, execution_name: str) -> Subject | None:
        response = self._client.get_item(
            TableName=self._table,
            Key={"execution_name": to_value(execution_name)},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return Subject.model_validate(from_item(item)) if item else None

    def of_contact(self, contact_id: str, execution_names: Iterable[str] = ()) -> list[Subject]:
        subjects = (
            Subject.model_validate(from_item(item))
            for item in contact_items(self._client, self._table, contact_id)
        )
        found = {subject.execution_name: subject for subject in subjects}
        for name in execution_names:
            subject = found.get(name) or self.get(name)
            if subject is not None and subject.contact_id == contact_id:
                found[name] = subject
        return [found[name] for name in sorted(found)]

    def delete_all(self, contact_id: str, execution_names: Iterable[str] = ()) -> int:
        names = [subject.execution_name for subject in self.of_contact(contact_id, execution_names)]
        delete_keys(self._client, self._table, [{"execution_name": to_value(name)} for name in names])
        return len(names)


class InMemorySubjectRepository(SubjectRepository):
    """For unit tests and previews."""

    def __init__(self) -> None:
        self.subjects: dict[str, Subject] = {}

    def add(self, subject: Subject) -> None:
        self.subjects.setdefault(subject.execution_name, subject)

    def get(self, execution_name: str) -> Subject | None:
        return self.subjects.get(execution_name)

    def of_contact(self, contact_id: str, execution_names: Iterable[str] = ()) -> list[Subject]:
        return [subject for _, subject in sorted(self.subjects.items()) if subject.contact_id == contact_id]

    def delete_all(self, contact_id: str, execution_names: Iterable[str] = ()) -> int:
        names = [name for name, subject in self.subjects.items() if subject.contact_id == contact_id]
        for name in names:
            del self.subjects[name]
        return len(names)
