"""What the preference page shows and what comes back from it (R-CANSPAM-2: no login, one page).

Each option is a (channel, topic) pair written `channel:topic`. The form sends the checked
pairs (`choice`), every pair it showed (`shown`, so an option added after the page was
rendered is never revoked by accident) and the button pressed (`action`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from enum import StrEnum
from urllib.parse import parse_qs

from baton.consent.vocabulary import Channel
from baton.web.exceptions import InvalidForm

CHOICE_FIELD = "choice"
SHOWN_FIELD = "shown"
ACTION_FIELD = "action"
MAX_FIELDS = 400
TOPIC_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

Pair = tuple[Channel, str]


class FormAction(StrEnum):
    SAVE = "save"
    UNSUBSCRIBE_ALL = "unsubscribe_all"


def choice_value(channel: Channel, topic: str) -> str:
    return f"{channel}:{topic}"


@dataclass(frozen=True, slots=True)
class TopicChoice:
    """One checkbox: may `channel` carry `topic`, and is it on now."""

    channel: Channel
    topic: str
    label: str
    subscribed: bool

    @property
    def value(self) -> str:
        return choice_value(self.channel, self.topic)

    @property
    def field_id(self) -> str:
        return f"pref-{self.channel}-{self.topic}"


@dataclass(frozen=True, slots=True)
class ChannelChoices:
    """The options of one channel; `address_hint` is a masked address (see `mask_address`)."""

    channel: Channel
    topics: tuple[TopicChoice, ...]
    address_hint: str | None = None


@dataclass(frozen=True, slots=True)
class PreferencesChoice:
    checked: frozenset[Pair]
    shown: frozenset[Pair]
    unsubscribe_all: bool

    @property
    def granted(self) -> frozenset[Pair]:
        """Pairs to subscribe: checked and shown (a pair the page never showed changes nothing)."""
        return frozenset() if self.unsubscribe_all else self.checked & self.shown

    @property
    def revoked(self) -> frozenset[Pair]:
        """Pairs to unsubscribe: shown but not checked. With `unsubscribe_all`, revoke everything
        the contact has, not only these."""
        return self.shown if self.unsubscribe_all else self.shown - self.checked


def parse_preferences_form(body: str) -> PreferencesChoice:
    """Read an application/x-www-form-urlencoded preference form. Raises `InvalidForm`.

    The caller still intersects the pairs with the contact's own channels and topics: the
    form is the person's input, not a source of truth.
    """
    try:
        fields = parse_qs(body, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError as exc:
        raise InvalidForm("too many fields") from exc
    actions = fields.get(ACTION_FIELD, [FormAction.SAVE.value])
    if len(actions) != 1 or actions[0] not in FormAction._value2member_map_:
        raise InvalidForm("unknown action")
    return PreferencesChoice(
        checked=frozenset(_pair(value) for value in fields.get(CHOICE_FIELD, [])),
        shown=frozenset(_pair(value) for value in fields.get(SHOWN_FIELD, [])),
        unsubscribe_all=actions[0] == FormAction.UNSUBSCRIBE_ALL,
    )


def is_one_click_unsubscribe(body: str | bytes, content_type: str | None) -> bool:
    """True when a POST body carries `List-Unsubscribe=One-Click` (RFC 8058, R-MBX-2).

    RFC 8058 allows multipart/form-data (preferred) or application/x-www-form-urlencoded.
    """
    raw = body.encode() if isinstance(body, str) else body
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == "multipart/form-data":
        return _multipart_one_click(raw, content_type or "")
    try:
        fields = parse_qs(raw.decode(), max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        return False
    return fields.get("List-Unsubscribe") == ["One-Click"]


def _multipart_one_click(raw: bytes, content_type: str) -> bool:
    if "\r" in content_type or "\n" in content_type:
        return False
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
    )
    if not message.is_multipart():
        return False
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "List-Unsubscribe":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes) and payload.strip() == b"One-Click":
                return True
    return False


def _pair(value: str) -> Pair:
    channel, sep, topic = value.partition(":")
    if not sep or channel not in Channel._value2member_map_ or not TOPIC_PATTERN.fullmatch(topic):
        raise InvalidForm(f"not a channel:topic pair: {value[:80]!r}")
    return Channel(channel), topic
