"""The weekly review digest (`builtin/review-digest`): each owner gets one email per ISO week
listing exactly the automations they answer for that need them, and what to do about each.

| an entry that is                                   | goes to                         |
|----------------------------------------------------|---------------------------------|
| overdue, silent, failing, unapproved or closed     | its owner                       |
| orphaned (with whatever else it is)                | the fallback owner, not its own |
| anything else (active, never sent)                 | nobody                          |

An owner with nothing due gets nothing. The grouping and the words are pure (`digests`,
`Digest.subject`, `Digest.text`); `ReviewDigest` sends them, once per owner and week on the
idempotency table (`baton.data.once`, keyed by a hash of week and owner, so no address is in a
key), so a schedule that fires twice or is retried sends nobody a second digest, and a failed
send fails the invocation for the schedule to retry without mailing the owners already done.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final, Protocol

from pydantic import BaseModel, ConfigDict

from baton.clock import Clock
from baton.data.once import Once, OnceError
from baton.delivery.exceptions import DeliveryError, ProviderAmbiguous
from baton.inventory.exceptions import DigestIncomplete
from baton.inventory.models import Entry, InventoryList, Status
from baton.inventory.statuses import SILENT_AFTER
from baton.messages import texts
from baton.messages.staff import StaffMail

# What an owner is asked to act on; `orphaned` is not among them: it moves the entry to the
# fallback owner, with every reason it has.
DUE: Final = (Status.OVERDUE, Status.SILENT, Status.FAILING, Status.UNAPPROVED, Status.CLOSED)
# Stable across deploys: the ledger's entries keep their meaning.
ONCE_PREFIX: Final = "baton.review-digest"
# Longer than a week's retries and a second firing in the same week; the week is in the key.
KEEP: Final = timedelta(days=14)


def iso_week(moment: datetime) -> str:
    """`2027-W10`: the ISO week (Monday to Sunday, UTC) of the schedule's firing."""
    year, week, _ = moment.astimezone(UTC).isocalendar()
    return f"{year}-W{week:02d}"


def reasons(entry: Entry) -> list[Status]:
    """What in an entry needs its owner (or, orphaned, the fallback owner): in `DUE` order,
    `orphaned` last."""
    found: list[Status] = [status for status in DUE if status in entry.statuses]
    if Status.ORPHANED in entry.statuses:
        found.append(Status.ORPHANED)
    return found


def advice(entry: Entry, status: Status) -> str:
    """What to do about one reason, in plain words."""
    built_in = entry.kind == "built_in"
    match status:
        case Status.OVERDUE if built_in:
            return (
                "Its review date has passed or none is on record: review it, then set its"
                f" reviewBy in cdk.json (inventory.builtIn, {entry.id!r})."
            )
        case Status.OVERDUE:
            return (
                "Its review date has passed: review it, then move review_by in the journey's file"
                " (or its template's, whichever is earlier)."
            )
        case Status.SILENT:
            return (
                f"Nothing sent for more than {SILENT_AFTER.days} days: check that what triggers it"
                " still happens, or retire it."
            )
        case Status.FAILING:
            week = entry.last_7_days
            return (
                f"{week.failed} of {week.sent + week.failed} sends failed in the last 7 days: read"
                " its bounces and delivery events (baton figures, baton trace) and fix the addresses"
                " or the channel."
            )
        case Status.UNAPPROVED:
            templates = ", ".join(entry.templates) or "its template"
            return (
                f"The words of {templates} lost legal's approval (edited after it, or never had it),"
                " so they are not sent: have legal review them and run"
                f" `baton approve {entry.templates[0] if entry.templates else 'TEMPLATE'} --by EMAIL`."
            )
        case Status.CLOSED:
            return (
                "A marketing journey overdue past its grace period: it admits no new contact until"
                " it is reviewed and review_by is moved."
            )
        case Status.ORPHANED:
            where = "cdk.json inventory.builtIn" if built_in else "its file"
            return (
                f"Its owner on record, {entry.owner}, cannot be reached (the address bounces or"
                " complained) or is not among cdk.json inventory.knownOwners: name an owner who"
                f" reads mail in {where}."
            )
        case _:
            return "Nothing to do."


@dataclass(frozen=True)
class Digest:
    """One owner's digest of one week."""

    owner: str
    week: str
    as_of: date  # the day the inventory was read (UTC)
    entries: tuple[Entry, ...]

    @property
    def subject(self) -> str:
        return texts.review_digest_subject(week=self.week, count=len(self.entries))

    @property
    def text(self) -> str:
        count = len(self.entries)
        lines = [
            f"Baton review digest, week {self.week} (the inventory as of {self.as_of}, UTC).",
            "",
            f"{count} {'automation' if count == 1 else 'automations'} you answer for"
            f" {'needs' if count == 1 else 'need'} a look:",
        ]
        for number, entry in enumerate(self.entries, start=1):
            week = entry.last_7_days
            lines += [
                "",
                f"{number}. {entry.id}",
                f"   Statuses: {', '.join(entry.statuses)}",
                f"   Review date: {entry.review_by or 'none on record'}",
                f"   Last sent: {entry.last_sent or 'never'}",
                f"   Last 7 days: {week.sent} sent, {week.delivered} delivered, {week.failed} failed",
                "   What to do:",
                *(f"   - {status}: {advice(entry, status)}" for status in reasons(entry)),
            ]
        lines += [
            "",
            "You get this digest because you own these automations, or because you are the"
            " fallback owner of those whose owner cannot be reached. It comes once a week while"
            " something needs you. The whole inventory: GET /v1/inventory?stale=true, or"
            " `baton inventory`.",
        ]
        return "\n".join(lines) + "\n"


def digests(entries: Iterable[Entry], *, fallback_owner: str, week: str, as_of: date) -> list[Digest]:
    """One digest per owner with something due, owners in address order; an orphaned entry goes
    to the fallback owner. Addresses are compared without case (the first spelling is used)."""
    grouped: dict[str, tuple[str, list[Entry]]] = {}
    for entry in entries:
        found = reasons(entry)
        if not found:
            continue
        owner = fallback_owner if Status.ORPHANED in found else str(entry.owner)
        grouped.setdefault(owner.lower(), (owner, []))[1].append(entry)
    return [
        Digest(owner=owner, week=week, as_of=as_of, entries=tuple(items))
        for _, (owner, items) in sorted(grouped.items())
    ]


class InventoryReader(Protocol):
    """What the digest reads (`baton.inventory.service.InventoryService`)."""

    @property
    def fallback_owner(self) -> str: ...

    def entries(self, *, stale: bool = False) -> InventoryList: ...


class DigestReport(BaseModel):
    """What a firing did, in counts (no address)."""

    model_config = ConfigDict(frozen=True)

    digest: str = "review"
    week: str
    owners: int  # owners with something due
    sent: int  # digests sent by this firing
    unknown: int  # the answer was lost: SES may have it, and it is not sent again
    already_sent: int  # sent by an earlier firing of the same week
    items: int  # entries listed over all digests


class ReviewDigest:
    def __init__(self, inventory: InventoryReader, mail: StaffMail, once: Once, clock: Clock) -> None:
        self._inventory = inventory
        self._mail = mail
        self._once = once
        self._clock = clock

    def send(self, scheduled_time: datetime) -> DigestReport:
        """Each due owner's digest of the firing's week, once. Raises `DigestIncomplete` after
        trying every owner when some could not be sent (the others are kept as sent)."""
        week = iso_week(scheduled_time)
        due = digests(
            self._inventory.entries(stale=True).items,
            fallback_owner=self._inventory.fallback_owner,
            week=week,
            as_of=self._clock.now().date(),
        )
        outcomes: list[str] = []
        failed = 0
        for digest in due:
            try:
                outcomes.append(self._send_once(digest))
            except (DeliveryError, OnceError):
                failed += 1
        if failed:
            raise DigestIncomplete(week, failed, len(due))
        return DigestReport(
            week=week,
            owners=len(due),
            sent=outcomes.count("sent"),
            unknown=outcomes.count("unknown"),
            already_sent=outcomes.count("already_sent"),
            items=sum(len(digest.entries) for digest in due),
        )

    def _send_once(self, digest: Digest) -> str:
        ran = False

        def send() -> dict[str, object]:
            nonlocal ran
            ran = True
            try:
                self._mail.send(to=digest.owner, subject=digest.subject, text=digest.text)
            except ProviderAmbiguous:
                # SES may have it: at most once, as every Baton send (the figures say unknown).
                return {"outcome": "unknown", "items": len(digest.entries)}
            return {"outcome": "sent", "items": len(digest.entries)}

        answer = self._once.run({"week": digest.week, "owner": digest.owner.lower()}, send)
        return str(answer["outcome"]) if ran else "already_sent"
