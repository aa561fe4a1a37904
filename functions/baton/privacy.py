"""Access and erasure across every package (R-GDPR-5, R-LGPD-2): everything a table holds on a
contact goes into its export, and erasure removes it from every table but suppression.

`TABLE_COVERAGE` says, for every table a deployment names, where the export shows what it holds
on the contact and which count of the erasure report says what was removed from it (or why it
holds nothing about a person): a table added without an entry fails the tests.

Baton's dead-letter queues (every `Settings` field ending `_dead_letter_queue`) hold what AWS
could not deliver, whole: erasure, after the tables, deletes each message that mentions the
contact's id or any address Baton holds for them (`baton.data.dead_letters`).

Step Functions keeps an execution's history after it ends, and it cannot be deleted: so an
execution never holds personal data, only its name (a keyed hash) and ids that resolve through
Baton's tables. Erasure deletes those tables' items; what the histories keep then names nobody.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from aws_lambda_powertools import Logger
from pydantic import BaseModel, Field, JsonValue

from baton.bootstrap import Services
from baton.clock import Timestamp
from baton.consent.vocabulary import Channel
from baton.contacts.models import ContactExport, ErasureReport
from baton.data.dead_letters import DeadLettersUnread, SqsDeadLetters
from baton.data.once import DynamoOnceTable, Entry
from baton.delivery.caps import CapCount, DynamoCapLedger
from baton.delivery.message import Purpose
from baton.feedback.models import ReceiptWaiter
from baton.feedback.repository import DynamoReceiptRepository
from baton.handoffs.models import TaskView
from baton.handoffs.repository import DynamoTaskRepository
from baton.settings import Settings, dead_letter_queue_fields
from baton.triggers.executions import StepFunctionsExecutions
from baton.triggers.models import Run, RunStatus
from baton.triggers.runs import DynamoRunRepository
from baton.triggers.subjects import DynamoSubjectRepository, Subject
from baton.waits.models import Waiter
from baton.waits.repository import DynamoWaitRepository

logger = Logger(child=True)


@dataclass(frozen=True)
class TableCoverage:
    """What export and erasure do with one table (a `Settings` field ending `_table`)."""

    exported_as: str | None  # the `FullExport` field showing what the table holds on the contact
    erased_as: str | None  # the `FullErasure` (or `ErasureReport`) field counting what was removed
    why: str


TABLE_COVERAGE: Final[Mapping[str, TableCoverage]] = {
    "contacts_table": TableCoverage("profile", "contact_removed", "the profile and pending addresses"),
    "consent_table": TableCoverage("consent", "consent_items_removed", "the consent ledger (R-GDPR-2)"),
    "timeline_table": TableCoverage("timeline", "timeline_events_removed", "every message and change"),
    "suppression_table": TableCoverage(
        "suppression",
        None,
        "salted hashes of addresses only: kept after erasure so the person stays suppressed",
    ),
    "idempotency_table": TableCoverage(
        "send_ledger",
        "send_ledger_removed",
        "a journey's sends name their contact; every other record is keyed by a hash and answers"
        " with ids and outcomes only",
    ),
    "runs_table": TableCoverage("journey_runs", "journey_runs_removed", "the contact's executions"),
    "tasks_table": TableCoverage("tasks", "tasks_removed", "hand-off tasks, whose text names the person"),
    "waits_table": TableCoverage("waits", "waits_removed", "executions parked on the contact's events"),
    "receipts_table": TableCoverage(
        "receipt_waits",
        "receipts_removed",
        "sends waiting for a delivery receipt; handled-receipt markers and early receipts carry"
        " provider ids and statuses only",
    ),
    "caps_table": TableCoverage("cap_counts", "cap_counts_removed", "the contact's sends per purpose"),
    "campaigns_table": TableCoverage(
        None,
        None,
        "campaign runs' counts, and each batch's outcomes by position in the audience snapshot:"
        " never a contact id or address",
    ),
    "figures_table": TableCoverage(
        None,
        None,
        "counts per journey, step, channel, variant and day, and per hand-off queue: never a"
        " contact id, address or text",
    ),
    "subjects_table": TableCoverage(
        "subjects", "subjects_removed", "whom each execution is about, with its trigger event's data"
    ),
    "pacing_table": TableCoverage(
        None, None, "sends per origination identity and second: counts, nothing about anyone"
    ),
    "do_not_contact_table": TableCoverage(
        None,
        None,
        "the operator's do-not-contact lists (R-BR-1): salted hashes of numbers tied to no contact,"
        " replaced whole by the operator's next load",
    ),
}


class WaitExport(Waiter):
    """A wait as exported: its task token resumes the execution, it says nothing of the person."""

    token: str = Field(default="", exclude=True)


class ReceiptWaitExport(ReceiptWaiter):
    """A receipt wait as exported, without its task token (see `WaitExport`)."""

    token: str = Field(default="", exclude=True)


class CapSend(BaseModel):
    channel: Channel
    at: Timestamp


class CapCountExport(BaseModel):
    """The contact's sends of one purpose that the frequency caps count."""

    purpose: Purpose
    sends: list[CapSend]

    @classmethod
    def of(cls, count: CapCount) -> CapCountExport:
        return cls(purpose=count.purpose, sends=[CapSend(channel=e.channel, at=e.at) for e in count.entries])


class SendRecord(BaseModel):
    """One journey send as the send ledger keeps it (R-REL-6): its state and labels."""

    key: str
    state: str
    data: dict[str, JsonValue]
    expires_at: Timestamp

    @classmethod
    def of(cls, entry: Entry) -> SendRecord:
        return cls(key=entry.key, state=entry.state, data=dict(entry.data), expires_at=entry.expires_at)


class FullExport(ContactExport):
    """Everything held on a contact, in every table (see `TABLE_COVERAGE`)."""

    journey_runs: list[Run]
    subjects: list[Subject]  # whom each execution is about, and its trigger event's data
    waits: list[WaitExport]
    tasks: list[TaskView]
    receipt_waits: list[ReceiptWaitExport]
    cap_counts: list[CapCountExport]
    send_ledger: list[SendRecord]


class FullErasure(BaseModel):
    erasure: ErasureReport
    journey_runs_stopped: int
    journey_runs_removed: int
    waits_removed: int = 0  # executions parked on an event for the contact
    tasks_removed: int = 0  # hand-off tasks about the contact (their text names them)
    receipts_removed: int = 0  # sends of the contact waiting for a delivery receipt
    cap_counts_removed: int = 0  # the contact's frequency-cap counts
    subjects_removed: int = 0  # whom each of the contact's executions was about, and its event data
    send_ledger_removed: int = 0  # the contact's journey sends on the idempotency table
    # Per dead-letter queue (its settings field): the messages about the contact deleted.
    dead_letters_removed: dict[str, int] = Field(default_factory=dict)
    # Queues that could not be read through: they may still hold messages about the contact.
    dead_letter_queues_unread: list[str] = Field(default_factory=list)


def export_contact(services: Services, contact_id: str) -> FullExport:
    """Raises ContactNotFound."""
    settings = services.settings
    export = services.contacts.export(contact_id)
    runs = DynamoRunRepository(settings.runs_table).of_contact(contact_id)
    names = [run.execution_name for run in runs]
    return FullExport(
        **export.model_dump(),
        journey_runs=runs,
        subjects=DynamoSubjectRepository(settings.subjects_table).of_contact(contact_id, names),
        waits=[
            WaitExport.model_validate(w.model_dump())
            for w in DynamoWaitRepository(settings.waits_table).of_contact(contact_id)
        ],
        tasks=[TaskView.of(t) for t in DynamoTaskRepository(settings.tasks_table).of_contact(contact_id)],
        receipt_waits=[
            ReceiptWaitExport.model_validate(r.model_dump())
            for r in DynamoReceiptRepository(settings.receipts_table).of_contact(contact_id)
        ],
        cap_counts=[
            CapCountExport.of(c) for c in DynamoCapLedger(settings.caps_table).of_contact(contact_id)
        ],
        send_ledger=[
            SendRecord.of(e) for e in DynamoOnceTable(settings.idempotency_table).of_contact(contact_id)
        ],
    )


def erase_contact(services: Services, contact_id: str) -> FullErasure:
    """Stop the contact's running journeys, forget the contact in every table, then delete what
    Baton's dead-letter queues hold about them. Raises ContactNotFound for an unknown contact
    (nothing is touched)."""
    addresses = services.contacts.every_address(contact_id)
    settings = services.settings
    runs = DynamoRunRepository(settings.runs_table)
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
    subjects_removed = DynamoSubjectRepository(settings.subjects_table).delete_all(
        contact_id, [run.execution_name for run in contact_runs]
    )
    report = services.contacts.erase(contact_id)
    # The stopped executions' waiters hold the contact id and a task token.
    waits_removed = DynamoWaitRepository(settings.waits_table).delete_all(contact_id)
    erasure = FullErasure(
        erasure=report,
        journey_runs_stopped=stopped,
        journey_runs_removed=runs.delete_all(contact_id),
        waits_removed=waits_removed,
        tasks_removed=DynamoTaskRepository(settings.tasks_table).delete_all(contact_id),
        receipts_removed=DynamoReceiptRepository(settings.receipts_table).delete_all(contact_id),
        cap_counts_removed=DynamoCapLedger(settings.caps_table).delete_all(contact_id),
        subjects_removed=subjects_removed,
        send_ledger_removed=DynamoOnceTable(settings.idempotency_table).delete_all(contact_id),
    )
    # After the tables: a message failing meanwhile finds no contact, and lands here to be read.
    _erase_dead_letters(settings, _mentioning(contact_id, addresses), erasure)
    return erasure


def _erase_dead_letters(settings: Settings, about: Callable[[str], bool], erasure: FullErasure) -> None:
    for field in dead_letter_queue_fields():
        url: str = getattr(settings, field)
        if not url:
            continue
        try:
            erasure.dead_letters_removed[field] = SqsDeadLetters(url).delete_matching(about)
        except DeadLettersUnread as exc:
            logger.warning("Dead-letter queue not read through", extra={"queue": field, "reason": str(exc)})
            erasure.dead_letters_removed[field] = exc.removed
            erasure.dead_letter_queues_unread.append(field)


# An address or number not inside a longer one: `ana@x.com` is not `joana@x.com` nor
# `ana@x.com.br`, `+14255550182` not `+142555501823`; a sentence's full stop may follow.
_BEFORE: Final = r"(?<![\w@.+-])"
_AFTER: Final = r"(?![\w@-]|\.\w)"
# A contact id may be as short as `1`: it counts as a whole JSON string only (`"c-1"`, or `\"c-1\"`
# in an SNS notification's message), as events and records carry it, never a word of a text.
_QUOTED_BEFORE: Final = r'(?<=")'
_QUOTED_AFTER: Final = r'(?=\\?")'


def _mentioning(contact_id: str, addresses: Iterable[str]) -> Callable[[str], bool]:
    """Whether a message body mentions the contact: their id, an email in any case, a number in
    E.164 or without its `+` (as End User Messaging and SNS write it)."""
    found = []
    for address in addresses:
        if "@" in address:
            found.append(f"(?i:{re.escape(address)})")
        else:
            found += [re.escape(address), re.escape(address.removeprefix("+"))]
    patterns = [f"{_QUOTED_BEFORE}{re.escape(contact_id)}{_QUOTED_AFTER}"]
    if found:
        patterns.append(f"{_BEFORE}(?:{'|'.join(found)}){_AFTER}")
    mentions = re.compile("|".join(patterns))
    return lambda body: mentions.search(body) is not None
