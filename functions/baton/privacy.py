"""Access and erasure across every package (R-GDPR-5, R-LGPD-2): the profile, consent and
timeline (contacts), plus the contact's journey runs and their subjects (triggers).

Step Functions keeps an execution's history after it ends, and it cannot be deleted: so an
execution never holds personal data, only its name (a keyed hash) and ids that resolve through
Baton's tables. Erasure deletes those tables' items; what the histories keep then names nobody.
"""

from __future__ import annotations

from pydantic import BaseModel

from baton.bootstrap import Services
from baton.contacts.models import ContactExport, ErasureReport
from baton.delivery.caps import DynamoCapLedger
from baton.feedback.repository import DynamoReceiptRepository
from baton.handoffs.repository import DynamoTaskRepository
from baton.triggers.executions import StepFunctionsExecutions
from baton.triggers.models import Run, RunStatus
from baton.triggers.runs import DynamoRunRepository
from baton.triggers.subjects import DynamoSubjectRepository
from baton.waits.repository import DynamoWaitRepository


class FullExport(ContactExport):
    """Everything held on a contact, journey runs included."""

    journey_runs: list[Run]


class FullErasure(BaseModel):
    erasure: ErasureReport
    journey_runs_stopped: int
    journey_runs_removed: int
    waits_removed: int = 0  # issue 4 (K3): executions parked on an event for the contact
    tasks_removed: int = 0  # issue 4 (K2): hand-off tasks about the contact (text names them)
    receipts_removed: int = 0  # issue 4 (K4): sends of the contact waiting for a delivery receipt
    cap_counts_removed: int = 0  # the contact's frequency-cap counts
    subjects_removed: int = 0  # whom each of the contact's executions was about, and its event data


def export_contact(services: Services, contact_id: str) -> FullExport:
    """Raises ContactNotFound."""
    export = services.contacts.export(contact_id)
    runs = DynamoRunRepository(services.settings.runs_table).of_contact(contact_id)
    return FullExport(**export.model_dump(), journey_runs=runs)


def erase_contact(services: Services, contact_id: str) -> FullErasure:
    """Stop the contact's running journeys, then forget the contact and its runs. Raises
    ContactNotFound for an unknown contact (nothing is touched)."""
    services.contacts.get(contact_id)
    runs = DynamoRunRepository(services.settings.runs_table)
    executions = StepFunctionsExecutions()
    stopped = 0
    contact_runs = runs.of_contact(contact_id)
    for run in contact_runs:
        if run.status is RunStatus.RUNNING:
            # Execution names are keyed hashes, never the contact id: the stopped history names nobody.
            executions.stop(
                run.execution_arn, error="Baton.Erased", cause="The contact was erased (R-GDPR-5)."
            )
            stopped += 1
    # After the stops: a task of an execution not yet stopped finds no subject and sends nothing.
    subjects_removed = DynamoSubjectRepository(services.settings.subjects_table).delete_all(
        contact_id, [run.execution_name for run in contact_runs]
    )
    report = services.contacts.erase(contact_id)
    # Issue 4 (K3): the stopped executions' waiters hold the contact id and a task token.
    waits_removed = DynamoWaitRepository(services.settings.waits_table).delete_all(contact_id)
    return FullErasure(
        erasure=report,
        journey_runs_stopped=stopped,
        journey_runs_removed=runs.delete_all(contact_id),
        waits_removed=waits_removed,
        tasks_removed=DynamoTaskRepository(services.settings.tasks_table).delete_all(contact_id),
        receipts_removed=DynamoReceiptRepository(services.settings.receipts_table).delete_all(contact_id),
        cap_counts_removed=DynamoCapLedger(services.settings.caps_table).delete_all(contact_id),
        subjects_removed=subjects_removed,
    )
