"""Input, output and stored models of a campaign run: a journey sent to a segment's audience.

A run is kept as counts only (never contact ids): the audience it took, how many batches, and
per outcome how many contacts; each batch's outcomes by position in the snapshot's batch, so a
batch retried after a pause or a cut-short invocation goes on where it stopped.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from baton.clock import Timestamp
from baton.journeys.models import JOURNEY_ID_PATTERN
from baton.journeys.paths import Path

RunId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,80}$")]


class CampaignStatus(StrEnum):
    SCHEDULED = "scheduled"  # created; its execution starts the audience at `at`
    RUNNING = "running"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    FAILED = "failed"


# What pause, resume and cancel may move a run from (anything else is a 409).
PAUSABLE = frozenset({CampaignStatus.SCHEDULED, CampaignStatus.RUNNING})
RESUMABLE = frozenset({CampaignStatus.PAUSED})
CANCELLABLE = frozenset({CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.PAUSED})
ENDED = frozenset({CampaignStatus.CANCELLED, CampaignStatus.COMPLETED, CampaignStatus.FAILED})


class CampaignIn(BaseModel):
    """`POST /v1/campaigns` (contract): send `journey` to `segment`'s audience, now or `at`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    journey: Annotated[str, StringConstraints(pattern=JOURNEY_ID_PATTERN)]
    segment: Annotated[str, StringConstraints(pattern=JOURNEY_ID_PATTERN)]
    at: datetime | None = None


class CampaignRun(BaseModel):
    """The stored run (its `run` item) and what `GET /v1/campaigns/{run_id}` answers from."""

    model_config = ConfigDict(frozen=True)

    run_id: RunId
    journey: str
    segment: str
    path: Path
    status: CampaignStatus
    created_at: Timestamp
    at: Timestamp  # when the audience is taken
    trigger: str = "campaign"  # `campaign` (the API or the CLI) or `schedule`
    started_at: Timestamp | None = None  # the audience taken
    ended_at: Timestamp | None = None
    audience: int | None = None  # contacts in the snapshot
    batches: int | None = None
    batches_done: int = 0
    contacts_done: int = 0
    sent: int = 0
    skipped: dict[str, int] = Field(default_factory=dict)  # by reason
    failed: dict[str, int] = Field(default_factory=dict)  # by reason
    # Handed on to the journey's own execution (a send held by quiet hours, a window, a provider
    # that keeps throttling), or, on the executions path, started.
    handed_on: int = 0
    cancelled: int = 0  # contacts a cancel reached before anything was sent to them
    error: str | None = None  # why the run failed (an error type, never personal data)

    @property
    def remaining(self) -> int | None:
        if self.audience is None:
            return None
        return max(self.audience - self.contacts_done, 0)


class CampaignView(BaseModel):
    """The answer of `GET /v1/campaigns/{run_id}`."""

    run_id: str
    journey: str
    segment: str
    path: Path
    status: CampaignStatus
    trigger: str
    created_at: Timestamp
    at: Timestamp
    started_at: Timestamp | None
    ended_at: Timestamp | None
    audience: int | None
    batches: int | None
    batches_done: int
    sent: int
    skipped: int
    skipped_by_reason: dict[str, int]
    failed: int
    failed_by_reason: dict[str, int]
    handed_on: int
    cancelled: int
    remaining: int | None
    rate_per_second: float  # contacts done per second over the last full minute
    estimated_finish: Timestamp | None
    error: str | None


class CampaignAccepted(BaseModel):
    """The answer of `POST /v1/campaigns` (202)."""

    run_id: str
    status: CampaignStatus
    path: Path


class ContactOutcome(StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"
    HANDED_ON = "handed_on"
    CANCELLED = "cancelled"


class BatchProgress(BaseModel):
    """A batch's outcomes so far, by position in the snapshot's batch (`<outcome>[:<reason>]`):
    never the contacts themselves."""

    model_config = ConfigDict(frozen=True)

    outcomes: dict[int, str] = Field(default_factory=dict)
    throttled: int = 0  # times the batch stopped because a provider kept throttling
    done: bool = False


def outcome_label(outcome: ContactOutcome, reason: str | None = None) -> str:
    return f"{outcome}:{reason}" if reason else str(outcome)


def parse_label(label: str) -> tuple[ContactOutcome, str | None]:
    outcome, _, reason = label.partition(":")
    return ContactOutcome(outcome), reason or None
