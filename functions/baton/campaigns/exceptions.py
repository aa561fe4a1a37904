"""Errors of campaign runs. The ones a batch task raises carry the names the campaign state
machine retries on (Step Functions matches a Lambda error by the exception class's name)."""

from __future__ import annotations

from baton.campaigns.models import CampaignStatus


class CampaignError(Exception):
    """Base of the campaign errors."""


class CampaignNotFound(CampaignError):
    def __init__(self, run_id: str) -> None:
        super().__init__(f"No campaign run {run_id!r}.")
        self.run_id = run_id


class CampaignConflict(CampaignError):
    """A pause, resume or cancel the run's status does not allow (a 409)."""

    def __init__(self, run_id: str, status: CampaignStatus, wanted: CampaignStatus) -> None:
        super().__init__(f"Campaign run {run_id!r} is {status}: it cannot be {wanted} now.")
        self.run_id = run_id
        self.status = status
        self.wanted = wanted


class CampaignInvalid(CampaignError):
    """A campaign the catalog cannot run (no such journey or segment): a 422 naming `field`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class CampaignPaused(CampaignError):
    """The run is paused: the batch stops where it is, and Step Functions asks again in a
    minute (until it is resumed or cancelled). Lambda reports `Baton.CampaignPaused`."""


class BatchUnfinished(CampaignError):
    """The invocation's time is nearly up: the batch keeps what it did and goes on in the next
    invocation at once. Lambda reports `Baton.BatchUnfinished`."""


CampaignPaused.__name__ = CampaignPaused.__qualname__ = "Baton.CampaignPaused"
BatchUnfinished.__name__ = BatchUnfinished.__qualname__ = "Baton.BatchUnfinished"
