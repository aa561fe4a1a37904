"""Erasure forgets a contact's hand-off tasks (their text names the person, R-GDPR-5)."""

from __future__ import annotations

from datetime import timedelta

from baton import bootstrap, privacy
from baton.contacts.models import ContactInput
from baton.handoffs.models import Task
from baton.handoffs.repository import DynamoTaskRepository
from baton.settings import Settings
from tests.integration.conftest import START


def _task(task_id: str, contact_id: str, queue: str = "support-agents") -> Task:
    return Task(
        task_id=task_id,
        queue=queue,
        journey="support",
        step="agent-reply",
        execution=f"arn:aws:states:us-east-1:123456789012:execution:Baton-support:{task_id}",
        contact_id=contact_id,
        text=f"Call {contact_id} back",
        token="token",
        created_at=START,
        due_at=START + timedelta(hours=24),
    )


def test_erasing_a_contact_removes_its_tasks_and_leaves_the_others(aws: Settings) -> None:
    bootstrap.reset()
    services = bootstrap.services()
    for contact_id in ("ana", "bo"):
        services.contacts.upsert(contact_id, ContactInput(email=f"{contact_id}@example.com"))
    tasks = DynamoTaskRepository(aws.tasks_table)
    tasks.add(_task("task-1", "ana"))
    tasks.add(_task("task-2", "ana", queue="support-leads"))
    tasks.add(_task("task-3", "bo"))

    erased = privacy.erase_contact(services, "ana")

    assert erased.tasks_removed == 2
    assert tasks.of_contact("ana") == []
    assert [task.task_id for task in tasks.open_in("support-agents")] == ["task-3"]
    bootstrap.reset()
