"""Review dates with teeth: every journey names the day it is to be reviewed by (`review_by`).

Past that day it is overdue: the inventory and the owner's weekly digest say so. A marketing
journey still overdue after the grace period (cdk.json `review.graceDays`, 14 days by default)
stops admitting new contacts: an event that would start it, a campaign or a schedule's firing
starts nothing, and the refusal is on the contact's timeline (`journey.not_admitted`). Contacts
already in it finish. A transactional journey (an order confirmation, a password reset) only
warns: stopping it would hurt the people it serves. Moving `review_by` is a change to the
journey's file, so extending a review is a reviewed commit like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from baton.journeys.models import Journey, Purpose

if TYPE_CHECKING:
    from baton.settings import Settings

GRACE_DAYS: Final = 14
NOT_ADMITTED: Final = "journey.not_admitted"
REVIEW_OVERDUE: Final = "review_overdue"


class ReviewState(StrEnum):
    CURRENT = "current"  # on or before its review date
    OVERDUE = "overdue"  # past it: flagged, still running
    CLOSED = "closed"  # past it and the grace period, marketing: admits no new contact


@dataclass(frozen=True)
class ReviewPolicy:
    grace_days: int = GRACE_DAYS
    close_marketing: bool = True  # off: an overdue marketing journey only warns as well

    @classmethod
    def of(cls, settings: Settings) -> ReviewPolicy:
        return cls(grace_days=settings.review_grace_days, close_marketing=settings.review_closes_marketing)

    def state(self, journey: Journey, today: date) -> ReviewState:
        if today <= journey.review_by:
            return ReviewState.CURRENT
        closes = self.closes_on(journey)
        return ReviewState.CLOSED if closes is not None and today >= closes else ReviewState.OVERDUE

    def closes_on(self, journey: Journey) -> date | None:
        """The first day the journey admits no new contact, if it is one that can close."""
        if journey.purpose != Purpose.MARKETING or not self.close_marketing:
            return None
        return journey.review_by + timedelta(days=self.grace_days + 1)

    def admits(self, journey: Journey, today: date) -> bool:
        return self.state(journey, today) is not ReviewState.CLOSED

    def refusal(self, journey: Journey) -> str:
        """Why a closed journey starts nothing, in the words the API and the timeline give."""
        return (
            f"Journey {journey.journey!r} was due for review on {journey.review_by} and admits no new"
            f" contact since {self.closes_on(journey)}: its owner ({journey.owner}) reviews it and"
            " moves review_by in its file."
        )
