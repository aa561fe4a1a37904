"""Building the inventory: every send step of every journey and every built-in message, with
its volume from the figures (one Query of 30 days per journey or built-in, and a descending
Query for the last day sent), its approval, and its statuses (`baton.inventory.statuses`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final

from baton.clock import Clock
from baton.figures.projection import BUILTIN_PREFIX, JOURNEY_PREFIX, split_counter
from baton.figures.repository import FigureItem, FiguresRepository
from baton.inventory.exceptions import TemplateNotFound
from baton.inventory.models import (
    Approval,
    ContentApproval,
    Entry,
    InventoryConfig,
    InventoryList,
    TemplateInfo,
    TemplateList,
    TemplateUse,
    Volume,
)
from baton.inventory.statuses import Facts, is_stale, statuses
from baton.journeys.catalog import Catalog
from baton.journeys.models import Journey
from baton.journeys.review import ReviewPolicy, ReviewState
from baton.journeys.templates import Template
from baton.messages.builtins import MESSAGES, BuiltInMessage, locales_of

# Counters that make up a message's volume (`baton.figures.projection` measures).
_SENT: Final = "sent"
_DELIVERED: Final = "delivered"
_FAILED: Final = frozenset({"failed", "bounced", "undelivered"})
WEEK: Final = 7
MONTH: Final = 30

# Whether an owner's address may no longer be read: bouncing or complaining (R-SES-3).
OwnerUnreachable = Callable[[str], bool]


def describe_trigger(journey: Journey) -> str:
    """What starts a journey, in words: `event order.shipped` or `schedule cron(...) over gold`."""
    trigger = journey.trigger
    if trigger.event is not None:
        return f"event {trigger.event}"
    return f"schedule {trigger.schedule} over segment {trigger.segment}"


def template_approval(catalog: Catalog, template: Template | None) -> Approval:
    """Legal's approval of the template's content, per locale and channel, when it needs one;
    otherwise who the template says approved it."""
    if template is None:
        return Approval()
    if not catalog.needs_approval(template):
        if template.approved_by is None:
            return Approval()
        return Approval(approved_by=template.approved_by, source="template")
    contents = [
        ContentApproval(
            locale=verdict.locale,
            channel=verdict.channel,
            content=verdict.content,
            status=verdict.verdict.value,
            approved_by=verdict.approval.by if verdict.approval else None,
            approved_at=verdict.approval.at if verdict.approval else None,
        )
        for verdict in catalog.approvals.review(template)
    ]
    newest = max(
        (content for content in contents if content.approved_at is not None),
        key=lambda content: content.approved_at or datetime.min.replace(tzinfo=UTC),
        default=None,
    )
    worst = next(
        (status for status in ("unapproved", "changed") if any(c.status == status for c in contents)),
        "approved",
    )
    return Approval(
        approved_by=newest.approved_by if newest else None,
        approved_at=newest.approved_at if newest else None,
        source="approvals",
        status=worst,
        contents=contents,
    )


def template_channels(template: Template) -> list[str]:
    channels: dict[str, None] = {}
    for content in template.locales.values():
        channels.update(dict.fromkeys(name for name, value in content if value is not None))
    return list(channels)


@dataclass
class _Figures:
    """One partition's figures: per step, the volumes of the last 7 and 30 days and the last
    day a send was counted."""

    week: dict[str, Volume]
    month: dict[str, Volume]
    last_sent: dict[str, date]


class InventoryService:
    def __init__(
        self,
        catalog: Catalog,
        figures: FiguresRepository,
        clock: Clock,
        config: InventoryConfig,
        fallback_owner: str,
        owner_unreachable: OwnerUnreachable,
        review: ReviewPolicy | None = None,
    ) -> None:
        self._catalog = catalog
        self._figures = figures
        self._clock = clock
        self._config = config
        self._fallback_owner = config.fallback(fallback_owner)
        self._owner_unreachable = owner_unreachable
        self._review = review or ReviewPolicy()

    @property
    def fallback_owner(self) -> str:
        """Who answers for what has no owner of its own: `fallbackOwner`, else the sender."""
        return self._fallback_owner

    def entries(self, *, stale: bool = False) -> InventoryList:
        today = self._clock.now().date()
        owners: dict[str, bool] = {}
        entries = [
            *(
                entry
                for _, journey in sorted(self._catalog.journeys.items())
                for entry in self._journey_entries(journey, today, owners)
            ),
            *(self._builtin_entry(message, today, owners) for message in MESSAGES),
        ]
        return InventoryList(items=[entry for entry in entries if not stale or is_stale(entry.statuses)])

    def templates(self) -> TemplateList:
        return TemplateList(
            items=[self.template(template_id) for template_id in sorted(self._catalog.templates)]
        )

    def template(self, template_id: str) -> TemplateInfo:
        template = self._catalog.templates.get(template_id)
        if template is None:
            raise TemplateNotFound(template_id)
        uses = [
            TemplateUse(journey=journey.journey, step=step.id)
            for _, journey in sorted(self._catalog.journeys.items())
            for step in journey.steps
            if step.send is not None and step.send.template == template_id
        ]
        return TemplateInfo(
            id=template.template,
            description=template.description,
            owner=template.owner,
            purpose=template.purpose.value,
            review_by=template.review_by,
            locales=sorted(template.locales),
            channels=template_channels(template),
            approval=template_approval(self._catalog, template),
            used_by=uses,
        )

    # Entries ------------------------------------------------------------------------------

    def _journey_entries(self, journey: Journey, today: date, owners: dict[str, bool]) -> Iterable[Entry]:
        sends = [step for step in journey.steps if step.send is not None]
        if not sends:
            return []
        figures = self._read(f"{JOURNEY_PREFIX}{journey.journey}", today, [step.id for step in sends])
        closed = self._review.state(journey, today) is ReviewState.CLOSED
        entries = []
        for step in sends:
            assert step.send is not None  # only send steps are listed
            template = self._catalog.templates.get(step.send.template)
            review_by = min(
                (day for day in (journey.review_by, template.review_by if template else None) if day),
                default=None,
            )
            entries.append(
                self._entry(
                    id=f"journey/{journey.journey}/{step.id}",
                    kind="journey_step",
                    owner=journey.owner,
                    purpose=journey.purpose.value,
                    description=journey.description,
                    topic=journey.topic,
                    trigger=describe_trigger(journey),
                    journey=journey.journey,
                    step=step.id,
                    channels=[channel.value for channel in step.send.channels],
                    templates=[step.send.template],
                    locales=sorted(template.locales) if template else [],
                    review_by=review_by,
                    approval=template_approval(self._catalog, template),
                    figures=figures,
                    key=step.id,
                    today=today,
                    owners=owners,
                    closed=closed,
                )
            )
        return entries

    def _builtin_entry(self, message: BuiltInMessage, today: date, owners: dict[str, bool]) -> Entry:
        ownership = self._config.built_in.get(message.id)
        figures = self._read(f"{BUILTIN_PREFIX}{message.id.short}", today, ["-"])
        return self._entry(
            id=message.id.value,
            kind="built_in",
            owner=self._config.owner_of(message.id, self._fallback_owner),
            purpose=message.purpose,
            description=message.description,
            topic=message.topic,
            trigger=message.trigger,
            journey=None,
            step=None,
            channels=[channel.value for channel in message.channels],
            templates=list(message.templates),
            locales=locales_of(message),
            review_by=ownership.review_by if ownership else None,
            approval=Approval(),
            figures=figures,
            key="-",
            today=today,
            owners=owners,
        )

    def _entry(
        self,
        *,
        figures: _Figures,
        key: str,
        today: date,
        owners: dict[str, bool],
        closed: bool = False,
        **fields: object,
    ) -> Entry:
        owner = str(fields["owner"])
        if owner not in owners:
            owners[owner] = self._owner_unreachable(owner)  # one suppression read per owner
        week = figures.week.get(key, Volume())
        last_sent = figures.last_sent.get(key)
        review_by = fields["review_by"]
        found = statuses(
            Facts(
                today=today,
                review_by=review_by if isinstance(review_by, date) else None,
                last_sent=last_sent,
                last_7_days=week,
                owner_unreachable=owners[owner],
                owner_known=not self._config.known_owners
                or owner.lower() in {known.lower() for known in self._config.known_owners},
                failing_rate=self._config.failing_rate,
                approval_lost=isinstance(approval := fields["approval"], Approval)
                and approval.status in ("changed", "unapproved"),
                closed=closed,
            )
        )
        return Entry.model_validate(
            {
                **fields,
                "last_sent": last_sent,
                "last_7_days": week,
                "last_30_days": figures.month.get(key, Volume()),
                "statuses": found,
            }
        )

    # Figures ------------------------------------------------------------------------------

    def _read(self, pk: str, today: date, steps: list[str]) -> _Figures:
        first = today - timedelta(days=MONTH - 1)
        week_start = today - timedelta(days=WEEK - 1)
        week: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        month: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for item in self._figures.items(pk, first.isoformat(), f"{today.isoformat()}#~"):
            day, step = _day_and_step(item)
            for measure, amount in _volume_counts(item):
                month[step][measure] += amount
                if day >= week_start:
                    week[step][measure] += amount
        return _Figures(
            week={step: Volume(**counts) for step, counts in week.items()},
            month={step: Volume(**counts) for step, counts in month.items()},
            last_sent=self._last_sent(pk, steps),
        )

    def _last_sent(self, pk: str, steps: list[str]) -> dict[str, date]:
        """Newest day first, until every step's last send is found (or the history ends)."""
        wanted = set(steps)
        found: dict[str, date] = {}
        for item in self._figures.newest_first(pk):
            day, step = _day_and_step(item)
            if step in wanted and step not in found and any(m == _SENT for m, _ in _volume_counts(item)):
                found[step] = day
                if len(found) == len(wanted):
                    break
        return found


def _day_and_step(item: FigureItem) -> tuple[date, str]:
    day, _, step = item.key.sk.partition("#")
    return date.fromisoformat(day), step


def _volume_counts(item: FigureItem) -> Iterable[tuple[str, int]]:
    """(volume field, amount) of every counter of an item that is a send, delivery or failure."""
    for counter, amount in item.counters.items():
        parts = split_counter(counter)
        if parts is None or amount <= 0:
            continue
        measure = parts[0]
        if measure == _SENT:
            yield "sent", amount
        elif measure == _DELIVERED:
            yield "delivered", amount
        elif measure in _FAILED:
            yield "failed", amount
