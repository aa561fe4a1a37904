"""From a message back to its owner: a sent message by id, or a text by the templates that
could have printed it.

By id: the `message.sent` timeline entry (found through the timeline's id indexes) names the
journey, step, execution, template and content version; the run's trigger comes from the runs
table (a long run's continuations are followed back to its first execution) or, for a campaign's
batch path, which stores no run, from the run's `journey.started` entry; owners and approval come
from the catalog. Nothing is read on the send path for this, and no message body is stored.

By text: every template's printed texts (SMS, voice, WhatsApp; an email's subject and text part)
in every locale, matched by `baton.tracing.matcher`, best first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Final

from pydantic import JsonValue

from baton.journeys.approvals import approval_of_sent, content_hash, current_contents
from baton.journeys.catalog import Catalog
from baton.journeys.templates import LocaleContent, Template
from baton.messages.builtins import MESSAGES, TAG, BuiltIn, BuiltInMessage, printed_texts
from baton.timeline.models import TimelineEvent
from baton.timeline.service import TimelineService
from baton.tracing.exceptions import MessageNotFound
from baton.tracing.matcher import compile_pattern, matches
from baton.tracing.models import (
    MAX_MATCHES,
    Approval,
    Delivery,
    MessageTrace,
    Owners,
    TemplateUse,
    TextChannel,
    TextMatch,
    TextMatches,
    TextPart,
    Trigger,
)
from baton.triggers.models import Run
from baton.triggers.runs import RunRepository
from baton.triggers.service import JOURNEY_STARTED

# A campaign's batch path keeps no run: its start is found among the contact's entries before
# the message, read newest first, this many at most.
STARTED_SEARCH_LIMIT: Final = 1000
_PAGE: Final = 100
_PHONE_CHANNELS: Final[tuple[TextChannel, ...]] = ("sms", "voice", "whatsapp")
_TEXT_CHANNELS: Final[dict[str, TextChannel]] = {name: name for name in (*_PHONE_CHANNELS, "email")}


# Who answers for a built-in message (`InventoryConfig.owner_of`, with the deployment's sender).
BuiltInOwner = Callable[[BuiltIn], str]


class TraceService:
    def __init__(
        self, catalog: Catalog, timeline: TimelineService, runs: RunRepository, builtin_owner: BuiltInOwner
    ) -> None:
        self._catalog = catalog
        self._timeline = timeline
        self._runs = runs
        self._builtin_owner = builtin_owner

    def message(self, message_id: str) -> MessageTrace:
        """The trace of a sent message, by Baton's message id or the provider's; raises
        `MessageNotFound` when no entry has it (never sent, or its contact was erased)."""
        entries = self._timeline.sent(message_id)
        if not entries:
            raise MessageNotFound(message_id)
        newest = entries[0]
        detail = newest.detail
        journey_id, template_id = _text(detail, "journey"), _text(detail, "template")
        journey = self._catalog.journeys.get(journey_id) if journey_id else None
        template = self._catalog.templates.get(template_id) if template_id else None
        channel = _text(detail, "channel")
        sent_version = _text(detail, "content")
        execution = _text(detail, "execution")
        step = _text(detail, "step")
        builtin = _builtin(detail)
        if journey_id and step:
            inventory_id, owner = f"journey/{journey_id}/{step}", journey.owner if journey else None
        elif builtin is not None:
            inventory_id, owner = builtin.value, self._builtin_owner(builtin)
        else:
            inventory_id, owner = None, None
        return MessageTrace(
            message_id=_text(detail, "message_id"),
            contact_id=newest.contact_id,
            channel=channel,
            purpose=_text(detail, "purpose"),
            topic=_text(detail, "topic"),
            sent_at=newest.at,
            provider=_text(detail, "provider"),
            provider_message_id=_text(detail, "provider_message_id"),
            journey=journey_id,
            step=step,
            execution=execution,
            variant=_text(detail, "variant"),
            template=template_id,
            content_version=sent_version,
            content_current=(
                sent_version in current_contents(template, channel)
                if template is not None and sent_version is not None and channel is not None
                else None
            ),
            trigger=self._trigger(newest, journey_id, execution) if journey_id and execution else None,
            inventory_id=inventory_id,
            owner=owner,
            owners=Owners(
                journey=journey.owner if journey is not None else None,
                template=template.owner if template is not None else None,
            ),
            approval=self._sent_approval(template, channel, sent_version),
            deliveries=[
                Delivery(
                    provider=_text(entry.detail, "provider"),
                    provider_message_id=_text(entry.detail, "provider_message_id"),
                    sent_at=entry.at,
                )
                for entry in entries
            ],
        )

    def text(self, text: str) -> TextMatches:
        """Every template text that could have printed `text` (or a part of it), best first."""
        found: list[TextMatch] = []
        uses = self._uses()
        for template in self._catalog.templates.values():
            for locale, content in template.locales.items():
                for channel, part, source in _printed(content):
                    score = matches(compile_pattern(source), text)
                    if score:
                        found.append(
                            TextMatch(
                                template=template.template,
                                locale=locale,
                                channel=channel,
                                part=part,
                                score=score,
                                owner=template.owner,
                                purpose=str(template.purpose),
                                approval=self._content_approval(template, locale, channel),
                                content_version=content_hash(template, locale, channel),
                                used_by=uses.get(template.template, []),
                                inventory_ids=[
                                    f"journey/{use.journey}/{use.step}"
                                    for use in uses.get(template.template, [])
                                ],
                            )
                        )
        for message in MESSAGES:
            found.extend(self._builtin_matches(message, text))
        found.sort(key=lambda match: (-match.score, match.template, match.locale, match.channel, match.part))
        return TextMatches(matches=found[:MAX_MATCHES])

    def _builtin_matches(self, message: BuiltInMessage, text: str) -> Iterator[TextMatch]:
        """The built-in message's own texts (its files under `baton/messages/templates`)."""
        channel = _TEXT_CHANNELS.get(message.channels[0].value)
        if channel is None:
            return
        for locale, name, source in printed_texts(message):
            score = matches(compile_pattern(source), text)
            if score:
                yield TextMatch(
                    template=name,
                    locale=locale,
                    channel=channel,
                    part="subject" if ".subject." in name else "text",
                    score=score,
                    owner=self._builtin_owner(message.id),
                    purpose=message.purpose,
                    approval=Approval(),
                    content_version="sha256:" + hashlib.sha256(source.encode("utf-8")).hexdigest(),
                    used_by=[],
                    inventory_ids=[message.id.value],
                )

    def _sent_approval(self, template: Template | None, channel: str | None, content: str | None) -> Approval:
        """The approval of the words the message carried: found by their hash, so a message sent
        before the template was edited and approved again names the approval it went out under."""
        if template is None:
            return Approval()
        if channel is None or not self._catalog.needs_approval(template):
            return Approval(approved_by=template.approved_by)
        approval = approval_of_sent(self._catalog.approvals, template, channel, content) if content else None
        if approval is None:
            return Approval(status="unapproved")
        return Approval(approved_by=approval.by, approved_at=approval.at, status="approved")

    def _content_approval(self, template: Template, locale: str, channel: str) -> Approval:
        verdict = self._catalog.approval(template.template, locale, channel)
        if verdict is None:
            return Approval(approved_by=template.approved_by)
        record = verdict.approval
        return Approval(
            approved_by=record.by if record is not None else None,
            approved_at=record.at if record is not None else None,
            status=verdict.verdict.value,
        )

    def _uses(self) -> dict[str, list[TemplateUse]]:
        uses: dict[str, list[TemplateUse]] = {}
        for journey in sorted(self._catalog.journeys.values(), key=lambda journey: journey.journey):
            for step in journey.steps:
                if step.send is not None:
                    uses.setdefault(step.send.template, []).append(
                        TemplateUse(journey=journey.journey, step=step.id)
                    )
        return uses

    def _trigger(self, sent: TimelineEvent, journey_id: str, execution: str) -> Trigger | None:
        runs = {run.execution_name: run for run in self._runs.of_journey(sent.contact_id, journey_id)}
        first = _first_execution(runs, execution)
        run = runs.get(first)
        if run is not None:
            return Trigger(
                event_type=run.event_type,
                event_id=run.idempotency_key,
                started_at=run.started_at,
                execution=first,
            )
        started = self._started(sent, journey_id, first)
        if started is None:
            return None
        event_type, event_id = _text(started.detail, "event"), _text(started.detail, "idempotency_key")
        if event_type is None or event_id is None:
            return None
        return Trigger(event_type=event_type, event_id=event_id, started_at=started.at, execution=first)

    def _started(self, sent: TimelineEvent, journey_id: str, execution: str) -> TimelineEvent | None:
        """The run's `journey.started` entry, among the contact's entries before the message."""
        position = sent
        for _ in range(STARTED_SEARCH_LIMIT // _PAGE):
            page = self._timeline.older(position, _PAGE)
            for entry in page:
                if (
                    entry.kind == JOURNEY_STARTED
                    and entry.detail.get("journey") == journey_id
                    and entry.detail.get("execution") == execution
                ):
                    return entry
            if len(page) < _PAGE:
                return None
            position = page[-1]
        return None


def _first_execution(runs: dict[str, Run], execution: str) -> str:
    """The name of the execution a run began with (`execution`: the ARN a send records, or a
    name): a continuation names the execution it continues."""
    name = execution.rsplit(":", 1)[-1]
    seen = {name}
    while (run := runs.get(name)) is not None and run.continues and run.continues not in seen:
        name = run.continues
        seen.add(name)
    return name


def _printed(content: LocaleContent) -> Iterator[tuple[TextChannel, TextPart, str]]:
    """(channel, part, template text) of what a person reads or hears; HTML and webhook bodies
    are not texts a person pastes (the email's text part says the same words)."""
    for channel in _PHONE_CHANNELS:
        part = getattr(content, channel)
        if part is not None:
            yield channel, "text", part.text
    if content.email is not None:
        yield "email", "subject", content.email.subject
        yield "email", "text", content.email.text


def _text(detail: dict[str, JsonValue], key: str) -> str | None:
    value = detail.get(key)
    return value if isinstance(value, str) and value else None


def _builtin(detail: dict[str, JsonValue]) -> BuiltIn | None:
    value = _text(detail, TAG)
    try:
        return BuiltIn(value) if value else None
    except ValueError:
        return None
