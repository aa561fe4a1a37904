"""The tasks of a send step with `confirm_delivery`: one channel per task.

The state machine tries the step's channels in order (`infra/journeys/confirm_delivery.py`):
- `send_channel` with `channel`: the same gate, idempotent delivery (R-REL-6, key execution,
  step, channel) and timeline as the plain send (`SendTask`), for that one channel. Answers
  `{"outcome": "sent"|"held"|"refused"|"failed", "channel", "provider_message_id", "delivered",
  "until", "reason", "attempts"}` at `$.steps.<id>`; the attempts of earlier channels come
  along (they are read back from `$.steps.<id>`).
- `send_channel` without a channel: every channel was refused, failed or unconfirmed; records
  `journey.ended` like the plain send and answers `skipped` or `failed`.
- `await_receipt` (a callback task, TimeoutSeconds = confirm_delivery, R-REL-3): registers the
  receipt waiter under the message's provider id; `FeedbackService` answers it with
  `{"outcome": "sent", "channel", "delivered", ...}`. On timeout the state machine stores the
  error at `$.steps.<id>.timed_out`; the next `send_channel` then forgets the waiter and records
  `delivery.timed_out` (the attempt counts as failed).
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from baton.clock import to_iso
from baton.consent.vocabulary import Channel
from baton.contacts.exceptions import ContactNotFound
from baton.delivery.service import Dispatcher
from baton.feedback.service import FeedbackService
from baton.journeys.durations import parse_duration
from baton.runner.context import RunnerContext
from baton.runner.exceptions import InvalidStep
from baton.runner.models import Attempt, StepRequest, dump
from baton.runner.send import METRIC_SKIPPED, NO_CONTACT, SendTask, _Lazy
from baton.triggers.models import RunStatus

# Channels whose provider reports delivery (SES events, End User Messaging, WhatsApp): a sent
# message on these waits for its receipt; a webhook's 2xx is its delivery.
RECEIPT_CHANNELS: Final = frozenset({Channel.SMS, Channel.VOICE, Channel.WHATSAPP, Channel.EMAIL})
NO_RECEIPT: Final = "no_receipt"
TIMED_OUT: Final = "timed_out"  # where the state machine's Catch puts the timeout error


class ChannelResult(BaseModel):
    """`$.steps.<id>` after a `send_channel` task."""

    model_config = ConfigDict(frozen=True)

    outcome: Literal["sent", "held", "refused", "failed", "skipped"]
    channel: str | None = None
    provider_message_id: str | None = None
    delivered: bool = False
    until: str | None = None
    reason: str | None = None
    attempts: list[dict[str, JsonValue]] = Field(default_factory=list)


class SendChannelTask(SendTask):
    def __init__(self, context: RunnerContext, dispatcher: Dispatcher, feedback: FeedbackService) -> None:
        super().__init__(context, dispatcher)
        self._feedback = feedback

    def run_channel(self, request: StepRequest) -> dict[str, Any]:
        step = self._load(request)
        attempts = self._earlier_attempts(request, step.step_id)
        try:
            contact = self._ctx.contacts.get(request.contact_id)
        except ContactNotFound:
            self._ctx.count(METRIC_SKIPPED)
            self._ctx.mark_run(request, RunStatus.SUCCEEDED)
            return dump(ChannelResult(outcome="skipped", reason=NO_CONTACT, attempts=attempts))
        if request.channel is None:
            # Every channel refused, failed or went unconfirmed: the step ends as the plain send's.
            ended = self._end(request, [Attempt.model_validate(a) for a in attempts])
            return dump(ChannelResult(outcome=ended.outcome, reason=ended.reason, attempts=attempts))
        channel = Channel(request.channel)
        if channel not in step.send.channels:
            raise InvalidStep(f"step {step.step_id!r} of {request.journey!r} has no channel {channel}")
        context = self._context(request, step, contact)
        attempt, until = self._attempt(request, step, contact, channel, context, _Lazy(self._ctx.links))
        if attempt.outcome == "held":
            return dump(
                ChannelResult(
                    outcome="held",
                    channel=str(channel),
                    until=to_iso(until) if until is not None else None,
                    reason=attempt.reason,
                    attempts=attempts,
                )
            )
        attempts = [*attempts, dump(attempt)]
        return dump(
            ChannelResult(
                # Unknown (the provider may have it) confirms nothing: like a missing receipt,
                # the next channel is tried; this channel is not sent again.
                outcome="failed" if attempt.outcome == "unknown" else attempt.outcome,
                channel=str(channel),
                provider_message_id=attempt.provider_message_id,
                delivered=attempt.outcome == "sent" and channel not in RECEIPT_CHANNELS,
                reason=attempt.reason,
                attempts=attempts,
            )
        )

    def _earlier_attempts(self, request: StepRequest, step_id: str) -> list[dict[str, JsonValue]]:
        """The attempts so far; a receipt that never came marks its attempt failed, once."""
        previous = request.steps.get(step_id) or {}
        raw = previous.get("attempts")
        attempts = [dict(a) for a in raw if isinstance(a, dict)] if isinstance(raw, list) else []
        message_id = previous.get("provider_message_id")
        if TIMED_OUT in previous and isinstance(message_id, str):
            channel = str(previous.get("channel") or "")
            self._feedback.give_up(
                provider_message_id=message_id,
                contact_id=request.contact_id,
                journey=request.journey,
                step=step_id,
                channel=channel,
                variant=request.variant,
            )
            for attempt in attempts:
                if attempt.get("provider_message_id") == message_id:
                    attempt["outcome"] = "failed"
                    attempt["reason"] = NO_RECEIPT
        return attempts


class AwaitReceiptTask:
    def __init__(self, context: RunnerContext, feedback: FeedbackService) -> None:
        self._ctx = context
        self._feedback = feedback

    def run(self, request: StepRequest) -> dict[str, Any]:
        journey = self._ctx.catalog().journeys.get(request.journey)
        try:
            step = journey.step(request.step) if journey is not None and request.step is not None else None
        except KeyError:
            step = None
        if step is None or step.send is None or step.send.confirm_delivery is None:
            raise InvalidStep(f"step {request.step!r} of {request.journey!r} confirms no delivery")
        if not request.token:
            raise InvalidStep(f"step {step.id!r} of {request.journey!r}: await_receipt needs the task token")
        previous = request.steps.get(step.id) or {}
        message_id = previous.get("provider_message_id")
        if not isinstance(message_id, str) or previous.get("outcome") != "sent":
            raise InvalidStep(f"step {step.id!r} of {request.journey!r}: nothing was sent to wait for")
        raw = previous.get("attempts")
        waiter = self._feedback.expect(
            provider_message_id=message_id,
            contact_id=request.contact_id,
            journey=request.journey,
            execution=request.execution,
            execution_name=request.execution_name,
            step=step.id,
            channel=str(previous.get("channel") or request.channel or ""),
            token=request.token,
            attempts=[dict(a) for a in raw if isinstance(a, dict)] if isinstance(raw, list) else [],
            timeout=parse_duration(step.send.confirm_delivery),
        )
        # Ignored by Step Functions (the task's output is what SendTaskSuccess sends).
        return {"waiting_for": waiter.provider_message_id, "timeout_at": waiter.timeout_at.isoformat()}
