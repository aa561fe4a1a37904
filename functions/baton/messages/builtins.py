"""The messages Baton sends on its own, not from a journey: each has an inventory id
(`builtin/<name>`) its sends carry, so the figures count it and the inventory lists it beside
the journeys' steps.

A send labels its timeline entries with `labels(...)` (the `builtin` detail key, read by the
figures' projection) and an email its SES message tags with `tags(...)`: SES tag values take
no `/`, so the tag holds the name and the feedback path turns it back into the id.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Final

from baton.consent.vocabulary import Channel

ID_PREFIX: Final = "builtin/"
TAG: Final = "builtin"  # the timeline detail key and the SES message tag


class BuiltIn(StrEnum):
    DOUBLE_OPT_IN_EMAIL = "builtin/double-opt-in-email"
    SMS_CONFIRMATION_REQUEST = "builtin/sms-confirmation-request"
    SMS_OPT_IN_CONFIRMED = "builtin/sms-opt-in-confirmed"
    SMS_HELP = "builtin/sms-help"
    SMS_OPT_OUT_CONFIRMED = "builtin/sms-opt-out-confirmed"
    HANDOFF_NOTICE = "builtin/handoff-notice"
    REVIEW_DIGEST = "builtin/review-digest"

    @property
    def short(self) -> str:
        """The id without `builtin/`: its SES tag value and its figures partition."""
        return self.value.removeprefix(ID_PREFIX)


def from_tag(value: str | None) -> BuiltIn | None:
    """The built-in message an SES `builtin` tag names (None for an unknown one)."""
    try:
        return BuiltIn(f"{ID_PREFIX}{value}") if value else None
    except ValueError:
        return None


def labels(builtin: BuiltIn) -> Mapping[str, str]:
    """The timeline labels of a built-in send (`SendContext.labels`)."""
    return {TAG: builtin.value}


def tags(builtin: BuiltIn) -> Mapping[str, str]:
    """The provider tags of a built-in email: its receipts are counted under its id."""
    return {TAG: builtin.short}


@dataclass(frozen=True, slots=True)
class BuiltInMessage:
    """What the inventory says about one built-in message; owner and review date come from
    the deployment (cdk.json `inventory.builtIn`)."""

    id: BuiltIn
    purpose: str  # the delivery purpose its sends carry (`baton.delivery.message.Purpose`)
    description: str
    trigger: str  # what makes it go out
    channels: tuple[Channel, ...]
    templates: tuple[str, ...]  # files under `baton/messages/templates/<locale>/`
    topic: str | None = None


_TEMPLATES = resources.files("baton.messages").joinpath("templates")

MESSAGES: Final = (
    BuiltInMessage(
        BuiltIn.DOUBLE_OPT_IN_EMAIL,
        "confirmation",
        "The double opt-in email: one link that confirms a pending email consent (R-MBX-5).",
        "POST /v1/subscriptions with an email address and a topic not yet granted",
        (Channel.EMAIL,),
        ("confirmation_email.subject.txt", "confirmation_email.html", "confirmation_email.txt"),
        topic="the sign-up's first topic",
    ),
    BuiltInMessage(
        BuiltIn.SMS_CONFIRMATION_REQUEST,
        "confirmation",
        "Asks the number to reply YES to confirm a pending SMS consent (R-CTIA-3).",
        "POST /v1/subscriptions with a phone number and a topic not yet granted",
        (Channel.SMS,),
        ("sms_confirmation_request.txt", "sms_frequency.txt"),
        topic="the sign-up's first topic",
    ),
    BuiltInMessage(
        BuiltIn.SMS_OPT_IN_CONFIRMED,
        "transactional",
        "The one confirmation of an SMS opt-in, with the programme's disclosures (R-CTIA-3).",
        "a YES or START reply, or an SMS consent granted by an agent or an import",
        (Channel.SMS,),
        ("sms_opt_in_confirmed.txt", "sms_frequency.txt"),
    ),
    BuiltInMessage(
        BuiltIn.SMS_HELP,
        "help_reply",
        "The answer to HELP: brand, support URL, frequency, rates, how to stop (R-CTIA-2).",
        "an inbound HELP (or AJUDA) text",
        (Channel.SMS,),
        ("sms_help.txt", "sms_frequency.txt"),
    ),
    BuiltInMessage(
        BuiltIn.SMS_OPT_OUT_CONFIRMED,
        "opt_out_confirmation",
        "The single confirmation after an opt-out; nothing promotional in it (R-TCPA-5).",
        "an inbound STOP (or another opt-out word) that changed a consent",
        (Channel.SMS,),
        ("sms_opt_out_confirmed.txt",),
    ),
    BuiltInMessage(
        BuiltIn.HANDOFF_NOTICE,
        "transactional",
        "Tells a hand-off queue's staff address about a new task (cdk.json `queues`).",
        "a journey's handoff step creates or escalates a task",
        (Channel.EMAIL,),
        ("handoff_notice.subject.txt", "handoff_notice.txt"),
    ),
    BuiltInMessage(
        BuiltIn.REVIEW_DIGEST,
        "transactional",
        "The digest of what is due for review, sent to the owners.",
        "its schedule",
        (Channel.EMAIL,),
        ("review_digest.subject.txt",),
    ),
)


# Templates that are a piece of another's text (the stated frequency), not a text of their own.
_FRAGMENTS: Final = frozenset({"sms_frequency.txt"})


@functools.cache
def printed_texts(message: BuiltInMessage) -> tuple[tuple[str, str, str], ...]:
    """(locale, template file, its source) of every text a person reads in the message: its
    SMS text, or its email's subject and text part (the HTML says the same words). The files
    ship with the code: read once per process, not on every search."""
    found = []
    for folder in sorted(_TEMPLATES.iterdir(), key=lambda folder: folder.name):
        if not folder.is_dir():
            continue
        for name in message.templates:
            resource = folder.joinpath(name)
            if name not in _FRAGMENTS and not name.endswith(".html") and resource.is_file():
                found.append((folder.name, name, resource.read_text(encoding="utf-8")))
    return tuple(found)


def locales_of(message: BuiltInMessage) -> list[str]:
    """The locales that ship every one of the message's templates (none without templates)."""
    if not message.templates:
        return []
    return sorted(
        folder.name
        for folder in _TEMPLATES.iterdir()
        if folder.is_dir() and all(folder.joinpath(name).is_file() for name in message.templates)
    )
