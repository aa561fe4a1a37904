"""The send task: one journey step delivered on the first channel the gate allows, in the step's
order.

Per channel: render the template, then the dispatcher gates (the content approved, consent,
suppression, CASL, sales hold, frequency cap, quiet hours, the step's window) and sends,
recording every attempt on the timeline with the hash of the content it carries. Refused or
rejected: the next channel. Held by a time window: the whole step holds until the window opens
(the state machine waits, then runs this task again, which decides again). Unavailable or
throttled: the task raises `Baton.ProviderUnavailable` / `Baton.Throttled` and Step Functions
retries it (R-REL-4); on its last retry the step holds instead (`message.held`,
`provider_throttled` / `provider_unavailable`) and asks again in five minutes, so provider
throttling at campaign volume queues messages, never drops them.
R-REL-6: each pass through a step delivers at most once per channel (the ledger of
`baton.runner.once`, written before the provider is called), and a pass that sent on one
channel never sends on another; only sends that went out are remembered, so a refusal or hold
is decided anew. An ambiguous provider
answer (a read timeout, a 5xx of unknown effect) is `unknown`: the step counts as sent and
nothing is sent again, unless a transactional step opts into `at_least_once`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from baton.clock import to_iso
from baton.consent.vocabulary import Channel
from baton.contacts.exceptions import ContactNotFound
from baton.contacts.models import Contact
from baton.data.once import OnceError
from baton.delivery.gate import GatePolicy, Reason, Recipient, SentFact
from baton.delivery.message import MESSAGE_TAG, OutboundMessage, Purpose
from baton.delivery.service import (
    MESSAGE_FAILED,
    MESSAGE_HELD,
    METRIC_HELD,
    Dispatcher,
    LedgerMessage,
    Outcome,
    SendContext,
)
from baton.delivery.service import SendResult as Delivery
from baton.delivery.timing import DailyWindow
from baton.journeys.exceptions import TemplateRenderError
from baton.journeys.models import Journey, Send
from baton.journeys.models import Purpose as JourneyPurpose
from baton.journeys.render import RenderedMessage, TemplateVariables, content_for, render_message
from baton.journeys.templates import Template
from baton.runner.context import RunnerContext
from baton.runner.exceptions import (
    InvalidStep,
    ProviderUnavailable,
    RecordingUnfinished,
    StepNotFound,
    Throttled,
)
from baton.runner.history import recent_sends
from baton.runner.models import Attempt, SendResult, StepRequest, dump
from baton.runner.once import ACCEPTED, SENT, UNKNOWN, ChannelJournal
from baton.runner.ports import LinkMaker
from baton.runner.steps import FinishTask
from baton.triggers.models import RunStatus

logger = Logger(child=True)

JOURNEY_ENDED = "journey.ended"  # a send step skipped or failed: the journey stops there
# How long a step the provider still throttles after every retry waits before it asks again.
PROVIDER_RECHECK = timedelta(minutes=5)
METRIC_SKIPPED = "JourneySkipped"
METRIC_FAILED = "JourneyFailed"
RENDER_ERROR = "render_error"
NO_CONTACT = "no_contact"
# The invocation that called the provider ended without its answer (a Lambda timeout, a crash).
INVOCATION_ENDED = "invocation_ended"


class _StepNotSent(Exception):
    """Carries a step that sent nothing (held, skipped, failed) out of its idempotent section."""

    def __init__(self, result: SendResult) -> None:
        super().__init__(result.outcome)
        self.result = result


@dataclass(frozen=True)
class _Step:
    journey: Journey
    step_id: str
    send: Send
    template: Template
    purpose: Purpose


class SendTask:
    def __init__(self, context: RunnerContext, dispatcher: Dispatcher) -> None:
        self._ctx = context
        self._dispatcher = dispatcher

    def run(self, request: StepRequest) -> SendResult:
        step = self._load(request)
        try:
            contact = self._ctx.contacts.get(request.contact_id)
        except ContactNotFound:
            # Erased while the journey ran: nothing to send, and nothing to record about them.
            logger.info("Contact gone: send step skipped", extra={"journey": request.journey})
            self._ctx.count(METRIC_SKIPPED)
            self._ctx.mark_run(request, RunStatus.SUCCEEDED)
            return SendResult(outcome="skipped", reason=NO_CONTACT)

        def deliver_step() -> dict[str, Any]:
            result = self._channels(request, step, contact)
            if result.outcome != "sent":
                raise _StepNotSent(result)
            return dump(result)

        # Once a pass has sent on any channel, running it again (a task retried after a lost
        # answer, a redrive) returns that result: no second message on another channel either.
        try:
            if self._ctx.step_records:
                stored = self._ctx.once.steps.run(_pass_key(request, step.step_id), deliver_step)
            else:
                stored = deliver_step()
        except _StepNotSent as exc:
            result = exc.result
        except OnceError as exc:
            raise ProviderUnavailable(
                f"the send record of step {step.step_id} is busy or unreachable"
            ) from exc
        else:
            sent = SendResult.model_validate(stored)
            if request.ends:
                # The last step: the journey completes here, not in a task of its own (one
                # invocation and one state transition less per run). A retry records it again,
                # as a retried Finish task would.
                FinishTask(self._ctx).run(request)
            return sent
        if result.outcome == "held":
            return result
        return self._end(request, result.attempts)

    def _channels(self, request: StepRequest, step: _Step, contact: Contact) -> SendResult:
        context = self._context(request, step, contact)
        links = _Lazy(self._ctx.links)
        journals = {channel: self._journal(request, step, contact, channel) for channel in step.send.channels}
        # A channel the provider took, or may have taken, in an earlier run of this pass is the
        # only one tried again: the person has that message, so no other channel may follow it
        # (not even one refused before that would be allowed now).
        out = [channel for channel, journal in journals.items() if journal.reached_provider()]
        attempts: list[Attempt] = []
        for channel in out[:1] or step.send.channels:
            attempt, until = self._attempt(request, step, contact, channel, context, links, journals[channel])
            attempts.append(attempt)
            if attempt.outcome in ("sent", "unknown"):
                # Unknown: the provider may have it, so no other channel either (at most once).
                return SendResult(outcome="sent", channel=attempt.channel, attempts=attempts)
            if until is not None:
                # The step holds as a whole: a later channel does not jump the queue.
                return SendResult(
                    outcome="held", until=to_iso(until), reason=attempt.reason, attempts=attempts
                )
        return SendResult(outcome="skipped", attempts=attempts)  # _end decides skipped or failed

    def _load(self, request: StepRequest) -> _Step:
        catalog = self._ctx.catalog()
        journey = catalog.journeys.get(request.journey)
        if journey is None or request.step is None:
            raise StepNotFound(f"no journey {request.journey!r} step {request.step!r} in the catalog")
        try:
            step = journey.step(request.step)
        except KeyError:
            raise StepNotFound(f"journey {request.journey!r} has no step {request.step!r}") from None
        if step.send is None:
            raise InvalidStep(f"step {request.step!r} of {request.journey!r} is a {step.kind}, not a send")
        template = catalog.templates.get(step.send.template)
        if template is None:
            raise StepNotFound(f"no template {step.send.template!r} in the catalog")
        purpose = Purpose.MARKETING if journey.purpose == JourneyPurpose.MARKETING else Purpose.TRANSACTIONAL
        return _Step(journey, step.id, step.send, template, purpose)

    def _context(self, request: StepRequest, step: _Step, contact: Contact) -> SendContext:
        window = step.send.window
        return SendContext(
            recipient=Recipient(timezone=contact.timezone, country=contact.country, phone=contact.phone),
            sales_hold=contact.sales.deal_open,
            # Read once, and only if the gate needs it (a cap count not kept yet, or no caps ledger).
            read_recent_sends=functools.cache(
                lambda: self._recent(contact.contact_id, step.purpose, self._dispatcher.policy)
            ),
            window=DailyWindow.between(window.start, window.end) if window is not None else None,
            # The run's variant and the template too: the figures count each send by both.
            labels=request.tagged(
                {
                    "journey": request.journey,
                    "step": step.step_id,
                    "execution": request.execution,
                    "template": step.send.template,
                }
            ),
        )

    def _journal(
        self, request: StepRequest, step: _Step, contact: Contact, channel: Channel
    ) -> ChannelJournal:
        # Purpose and topic too: a send settled later from the provider's event is counted by
        # the frequency cap like any other (the cap counts `message.sent` by purpose).
        content = self._content(step, contact, channel)[0]
        labels = {
            **_pass_key(request, step.step_id),
            "journey": request.journey,
            "channel": str(channel),
            "purpose": str(step.purpose),
            **({"topic": step.journey.topic} if step.journey.topic else {}),
            # A send settled from the provider's event is counted by its template and variant too.
            "template": step.send.template,
            # ... and traced to the content version it carried.
            **({"content": content} if content else {}),
        }
        labels = request.tagged(labels)
        try:
            return self._ctx.once.journal(
                {**_pass_key(request, step.step_id), "channel": str(channel)},
                {**labels, "contact_id": contact.contact_id, **self._generation(contact.contact_id)},
            )
        except OnceError as exc:
            raise ProviderUnavailable("the send ledger could not be read") from exc

    def _generation(self, contact_id: str) -> dict[str, str]:
        if self._ctx.generation_of is None:
            return {}
        # "" for a contact stored before contacts had a generation
        return {"generation": self._ctx.generation_of(contact_id) or ""}

    def _content(self, step: _Step, contact: Contact, channel: Channel) -> tuple[str | None, bool]:
        """(the hash of the content this contact gets on `channel`, whether it is the content
        approved). The locale is the one rendering falls back to, so the approval checked is of
        the words that would go out. No content at all: composing says so."""
        found = content_for(step.template, channel, contact.locale)
        if found is None:
            return None, True
        locale, catalog = found[0], self._ctx.catalog()
        verdict = catalog.approval(step.template.template, locale, str(channel))
        if verdict is None:
            return catalog.content_hash(step.template.template, locale, str(channel)), True
        if not verdict.approved:
            # Nothing personal: which template, locale and channel, and what is wrong with them.
            logger.warning(
                "Template content not approved: not sent",
                extra={
                    "template": verdict.template,
                    "locale": verdict.locale,
                    "channel": verdict.channel,
                    "verdict": str(verdict.verdict),
                },
            )
        return verdict.content, verdict.approved

    def _recent(self, contact_id: str, purpose: Purpose, policy: GatePolicy) -> tuple[SentFact, ...]:
        periods = [cap.period for cap in policy.frequency_caps if cap.purpose == purpose]
        if not periods:
            return ()
        return recent_sends(self._ctx.timeline, contact_id, self._ctx.clock.now() - max(periods))

    def _attempt(
        self,
        request: StepRequest,
        step: _Step,
        contact: Contact,
        channel: Channel,
        context: SendContext,
        links: _Lazy,
        journal: ChannelJournal | None = None,
    ) -> tuple[Attempt, datetime | None]:
        journal = journal or self._journal(request, step, contact, channel)
        resend = step.send.at_least_once and step.purpose != Purpose.MARKETING
        settled = journal.state == SENT or (journal.state == UNKNOWN and not resend)
        if settled and "attempt" in journal.data:
            return Attempt.model_validate(journal.data["attempt"]), None  # settled before
        if journal.leased():
            # Another invocation is calling the provider for this very message right now.
            raise ProviderUnavailable(f"the same send on {channel} is in progress in another invocation")
        reached = journal.reached_provider()
        if settled or journal.state == ACCEPTED or (reached and not resend):
            # The provider took it, or may have (the invocation that called it is gone, or its
            # answer was lost and the recording did not finish): finish it from the ledger, never
            # send again, and never render again (a template or data changed since could fail,
            # and the message that went out is the one to record).
            return self._finish(journal, step, contact, channel, context), None
        try:
            message = self._compose(request, step, contact, channel, links, journal.message_id)
        except (TemplateRenderError, ValueError) as exc:
            if reached:
                # At least once, but the message cannot be made again: the earlier attempt stands.
                return self._finish(journal, step, contact, channel, context), None
            return self._not_composed(contact, channel, context, exc), None
        content, approved = self._content(step, contact, channel)
        context = replace(context, journal=journal, content=content, content_approved=approved)
        try:
            delivery = self._dispatcher.send(contact.contact_id, message, context)
        except Exception as exc:
            if journal.state in (ACCEPTED, UNKNOWN):
                # The outcome is in the ledger, its recording is not: the retry finishes it.
                raise RecordingUnfinished(f"{channel}: the outcome of the send is not recorded yet") from exc
            # Alive but without the provider's answer in the ledger: end the lease now, so the
            # retry settles the attempt (unknown, then the provider's events) without waiting.
            # (A Lambda timeout runs nothing more: there the lease ends with the invocation.)
            journal.abandon()
            if isinstance(exc, OnceError):
                raise ProviderUnavailable(f"the send ledger could not be written for {channel}") from exc
            raise
        if delivery.outcome == Outcome.SENT:
            attempt = Attempt(
                channel=str(channel), outcome="sent", provider_message_id=delivery.provider_message_id
            )
        elif delivery.outcome == Outcome.UNKNOWN:
            attempt = Attempt(channel=str(channel), outcome="unknown", reason=delivery.error_code)
            if resend:
                # The step opted into at-least-once: Step Functions runs the task again (backoff).
                raise ProviderUnavailable(
                    f"{delivery.provider}: {delivery.error_code} on {channel}, outcome unknown"
                )
        elif reached and delivery.outcome in (Outcome.REFUSED, Outcome.FAILED) and not delivery.retryable:
            # Sending again was refused or rejected, but the earlier attempt may have reached the
            # person: it stands (unknown), and no other channel follows it.
            return self._finish(journal, step, contact, channel, context), None
        elif delivery.outcome == Outcome.FAILED and delivery.retryable and request.last_attempt:
            return self._held_by_provider(contact, channel, context, delivery)
        else:
            return _attempt_of(channel, delivery)
        self._settled(journal, attempt)
        return attempt, None

    def _held_by_provider(
        self, contact: Contact, channel: Channel, context: SendContext, delivery: Delivery
    ) -> tuple[Attempt, datetime]:
        """The provider still throttles (or is unavailable) after every retry of the task: the
        step holds and asks again later (R-REL-4), instead of failing at campaign volume. The
        hold is a turn of the run (R-REL-1), so however long the provider takes, nothing is
        dropped; the ledger keeps the pass, so nothing is sent twice."""
        reason = Reason.PROVIDER_THROTTLED if delivery.throttled else Reason.PROVIDER_UNAVAILABLE
        until = self._ctx.clock.now() + PROVIDER_RECHECK
        detail = {
            **context.labels,
            "channel": str(channel),
            "provider": delivery.provider,
            "error_code": delivery.error_code,
            "reason": str(reason),
            "rule": "R-REL-4",
            "until": to_iso(until),
        }
        self._ctx.timeline.record(contact.contact_id, MESSAGE_HELD, detail)
        self._ctx.count(METRIC_HELD)
        return Attempt(channel=str(channel), outcome="held", reason=str(reason)), until

    def _finish(
        self, journal: ChannelJournal, step: _Step, contact: Contact, channel: Channel, context: SendContext
    ) -> Attempt:
        """Record what the ledger says of a send whose provider took it (or may have)."""
        data = journal.data
        provider = str(data.get("provider") or "")
        message = LedgerMessage(channel, step.purpose, step.journey.topic, journal.message_id)
        # The content that went out is the one its ledger entry names, not today's template's.
        context = replace(context, content=str(data["content"]) if data.get("content") else None)
        try:
            if journal.state in (ACCEPTED, SENT):
                provider_message_id = str(data["provider_message_id"])
                self._dispatcher.record_sent(
                    contact.contact_id, message, provider, provider_message_id, context, journal.stamp()
                )
                attempt = Attempt(
                    channel=str(channel), outcome="sent", provider_message_id=provider_message_id
                )
            else:
                code = str(data.get("error_code") or INVOCATION_ENDED)
                stamp = journal.ambiguous(provider, code)
                self._dispatcher.record_unknown(contact.contact_id, message, provider, code, context, stamp)
                attempt = Attempt(channel=str(channel), outcome="unknown", reason=code)
        except Exception as exc:
            raise RecordingUnfinished(f"{channel}: the outcome of the send is not recorded yet") from exc
        self._settled(journal, attempt)
        return attempt

    @staticmethod
    def _settled(journal: ChannelJournal, attempt: Attempt) -> None:
        try:
            journal.finish(dump(attempt))
        except OnceError as exc:
            # On the timeline already (stamped): the retry finds the entry accepted and re-stamps.
            raise RecordingUnfinished(f"{attempt.channel}: the send ledger could not be closed") from exc

    def _compose(
        self,
        request: StepRequest,
        step: _Step,
        contact: Contact,
        channel: Channel,
        links: _Lazy,
        baton_message_id: str,
    ) -> OutboundMessage:
        address = _address(contact, channel)
        marketing = step.purpose == Purpose.MARKETING
        unsubscribe = links.get().unsubscribe(contact.contact_id, channel) if marketing else None
        variables = TemplateVariables(
            contact=contact.model_dump(mode="json"),
            event=dict(request.event.data),
            brand=self._ctx.brand,
            postal_address=self._ctx.postal_address,
            unsubscribe_url=unsubscribe,
            preferences_url=links.get().preferences(contact.contact_id, channel, address)
            if marketing
            else None,
        )
        rendered = render_message(step.template, channel, contact.locale, variables)
        # The message id first: the provider echoes it in its events (SES tags, End User
        # Messaging context, where only five entries fit), which settles an unknown outcome.
        # The run's variant too (a short name, nothing personal): its receipts are counted by it.
        tags = request.tagged(
            {
                MESSAGE_TAG: baton_message_id,
                "journey": request.journey,
                "step": step.step_id,
                "execution": request.execution,
            }
        )
        return _message(rendered, channel, address, step, unsubscribe, tags)

    def _not_composed(
        self, contact: Contact, channel: Channel, context: SendContext, cause: Exception
    ) -> Attempt:
        # Never the error's text: it can quote the contact's or the event's data (a key named by
        # its value, a refused address). What the template alone decides says where to look.
        if isinstance(cause, TemplateRenderError):
            why = {
                "template": cause.template,
                "locale": cause.locale,
                "part": cause.part,
                "reason": cause.kind,
            }
        else:
            why = {"reason": "invalid_message"}  # the rendered message does not validate
        why = {**why, "error_type": type(cause).__name__}
        logger.warning("Message could not be rendered", extra={"channel": str(channel), **why})
        detail = {**context.labels, "channel": str(channel), "error_code": RENDER_ERROR, **why}
        self._ctx.timeline.record(contact.contact_id, MESSAGE_FAILED, detail)
        return Attempt(channel=str(channel), outcome="failed", reason=RENDER_ERROR)

    def _end(self, request: StepRequest, attempts: list[Attempt]) -> SendResult:
        failed = [attempt for attempt in attempts if attempt.outcome == "failed"]
        outcome = "failed" if failed else "skipped"
        reason = _decisive(failed or attempts)
        result = SendResult(outcome=outcome, reason=reason, attempts=attempts)
        self._ctx.timeline.record(
            request.contact_id,
            JOURNEY_ENDED,
            request.tagged(
                {
                    "journey": request.journey,
                    "step": request.step,
                    "execution": request.execution,
                    "outcome": outcome,
                    "reason": reason,
                    "attempts": [dump(attempt) for attempt in attempts],
                }
            ),
        )
        self._ctx.count(METRIC_FAILED if failed else METRIC_SKIPPED)
        self._ctx.mark_run(request, RunStatus.FAILED if failed else RunStatus.SUCCEEDED)
        return result


# Say only that a channel could not be tried here, not why this person got nothing.
_CHANNEL_UNTRIED = frozenset({str(Reason.NO_ADAPTER), str(Reason.NO_ADDRESS)})


def _decisive(attempts: list[Attempt]) -> str | None:
    """The step's reason: its preferred channel's, the first failure else the first refusal,
    passing over channels that could not be tried for a channel that the gate decided on."""
    tried = [attempt for attempt in attempts if attempt.reason not in _CHANNEL_UNTRIED]
    first = (tried or attempts)[:1]
    return first[0].reason if first else None


class _Lazy:
    """Signed links are made on first use (the signing key is a secret read)."""

    def __init__(self, factory: Callable[[], LinkMaker]) -> None:
        self._factory = factory
        self._links: LinkMaker | None = None

    def get(self) -> LinkMaker:
        if self._links is None:
            self._links = self._factory()
        return self._links


def _pass_key(request: StepRequest, step_id: str) -> dict[str, str]:
    """One pass through a step: the compiler counts passes, so a loop sends on each of them."""
    return {"execution": request.execution, "step": step_id, "pass": str(request.pass_number)}


def _address(contact: Contact, channel: Channel) -> str:
    if channel == Channel.EMAIL:
        return contact.email or ""
    if channel == Channel.WEBHOOK:
        return contact.contact_id  # the webhook URL is configured; the message is about this contact
    return contact.phone or ""


def _message(
    rendered: RenderedMessage,
    channel: Channel,
    address: str,
    step: _Step,
    unsubscribe: str | None,
    tags: dict[str, str],
) -> OutboundMessage:
    topic = step.journey.topic
    if channel == Channel.EMAIL:
        return OutboundMessage.email(
            to=address,
            purpose=step.purpose,
            subject=rendered.subject or "",
            text=rendered.text or "",
            html=rendered.html,
            topic=topic,
            unsubscribe_url=unsubscribe,  # R-MBX-1: List-Unsubscribe on marketing mail
            tags=tags,
            locale=rendered.locale,
        )
    if channel == Channel.WEBHOOK:
        return OutboundMessage.webhook(
            to=address,
            purpose=step.purpose,
            payload=rendered.body or {},
            topic=topic,
            tags=tags,
            locale=rendered.locale,
        )
    return OutboundMessage.phone(
        channel,
        to=address,
        purpose=step.purpose,
        text=rendered.text or "",
        topic=topic,
        tags=tags,
        locale=rendered.locale,
    )


def _attempt_of(channel: Channel, delivery: Delivery) -> tuple[Attempt, datetime | None]:
    if delivery.outcome == Outcome.FAILED:
        if delivery.retryable:
            error = Throttled if delivery.throttled else ProviderUnavailable
            raise error(f"{delivery.provider}: {delivery.error_code} on {channel}")
        return Attempt(channel=str(channel), outcome="failed", reason=delivery.error_code), None
    reason = str(delivery.reason) if delivery.reason is not None else None
    if delivery.outcome == Outcome.HELD:
        return Attempt(channel=str(channel), outcome="held", reason=reason), delivery.until
    return Attempt(channel=str(channel), outcome="refused", reason=reason), None
