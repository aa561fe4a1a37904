"""What an inventory entry needs, decided from its review date, its figures and its owner: a
pure function, so every rule reads as one line.

| status      | when                                                                     |
|-------------|--------------------------------------------------------------------------|
| overdue     | the review date is before today (UTC), or there is none on record        |
| never_sent  | no send was ever counted                                                 |
| silent      | the last send was more than 90 days ago                                  |
| active      | sent within the last 90 days                                             |
| failing     | of the last 7 days' sends, more than `failing_rate` failed (bounced,     |
|             | undelivered or not taken by the provider)                                |
| orphaned    | the owner's address bounces or complained, or a list of known owners is  |
|             | configured and the owner is not on it                                    |
| unapproved  | content that needs legal approval was edited after it, or never had it   |
| closed      | a marketing journey overdue past its grace period admits no new contact  |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from baton.inventory.models import Status, Volume

SILENT_AFTER: Final = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class Facts:
    today: date
    review_by: date | None
    last_sent: date | None
    last_7_days: Volume
    owner_unreachable: bool  # suppressed as a hard bounce or a complaint
    owner_known: bool  # on the configured list of owners, or no list is configured
    failing_rate: float
    approval_lost: bool = False  # needs approval and some locale or channel lacks it
    closed: bool = False  # `baton.journeys.review`: admits no new contact


def failure_rate(volume: Volume) -> float | None:
    """failed / (sent + failed): `failed` holds both the sends no provider took and those that
    bounced or went undelivered, so one ratio covers both; None with nothing sent or failed."""
    attempts = volume.sent + volume.failed
    return volume.failed / attempts if attempts else None


def statuses(facts: Facts) -> list[Status]:
    found: list[Status] = []
    if facts.last_sent is None:
        found.append(Status.NEVER_SENT)
    elif facts.today - facts.last_sent > SILENT_AFTER:
        found.append(Status.SILENT)
    else:
        found.append(Status.ACTIVE)
    if facts.review_by is None or facts.review_by < facts.today:
        found.append(Status.OVERDUE)
    rate = failure_rate(facts.last_7_days)
    if rate is not None and rate > facts.failing_rate:
        found.append(Status.FAILING)
    if facts.owner_unreachable or not facts.owner_known:
        found.append(Status.ORPHANED)
    if facts.approval_lost:
        found.append(Status.UNAPPROVED)
    if facts.closed:
        found.append(Status.CLOSED)
    return found


def is_stale(found: list[Status]) -> bool:
    """What to review or retire: anything but `active` alone."""
    return any(status is not Status.ACTIVE for status in found)
