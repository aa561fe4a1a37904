"""Legal approval bound to content: `journeys/approvals.yaml`, one entry per template, locale
and channel, each naming who approved it, when (UTC) and the hash of the content they read.

An approval is of words, not of a file name: `content_hash` is the SHA-256 of a canonical
serialisation of one locale's content on one channel (email subject, html and text; the text of
an SMS, a call or a WhatsApp message; a webhook's body), so editing any of it after approval
makes that locale and channel `changed` until someone approves it again, while reordering keys
or reformatting the YAML changes nothing. The file lives in the repository: git keeps the audit
trail and the review happens in the pull request; `baton approve` writes it.

```yaml
welcome-hello:
  en:
    email: {by: legal@example.com, at: "2026-05-01T10:00:00Z", content: "sha256:3f5a..."}
    sms: {by: legal@example.com, at: "2026-05-01T10:00:00Z", content: "sha256:9c0d..."}
```
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, RootModel, ValidationError, field_validator

from baton.clock import as_utc
from baton.journeys.exceptions import CatalogIssue
from baton.journeys.models import JOURNEY_ID_PATTERN, Purpose
from baton.journeys.source import SourceError, format_key, read_source
from baton.journeys.templates import LOCALE_PATTERN, Template

APPROVALS_FILE = "approvals.yaml"  # in the catalog folder, beside the journeys
CONTENT_PATTERN = r"^sha256:[0-9a-f]{64}$"
# The channels of a locale's content, in the order the file lists them.
CHANNELS: tuple[str, ...] = ("email", "sms", "voice", "whatsapp", "webhook")
_UTC_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
_HEADER = """\
# Legal approval of each template's content, per locale and channel: who approved it, when (UTC)
# and the SHA-256 of the content they approved. Written by `baton approve TEMPLATE --by EMAIL`
# after review; content edited since its approval is not deployed and not sent.
"""


def content_hash(template: Template, locale: str, channel: str) -> str:
    """`sha256:<hex>` of one locale's content on one channel; KeyError if the template has none.

    Canonical: the parsed content as JSON with sorted keys and no spaces, so only the words
    (and which parts there are) decide it, never how the YAML was written."""
    content = template.locales[locale]
    part = getattr(content, channel, None) if channel in CHANNELS else None
    if part is None:
        raise KeyError(f"template {template.template} has no {channel} content in {locale}")
    canonical = json.dumps(
        {"channel": channel, "content": part.model_dump(mode="json", exclude_none=True)},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def contents(template: Template) -> Iterator[tuple[str, str]]:
    """(locale, channel) of every content the template has, in file order."""
    for locale, content in template.locales.items():
        for channel in CHANNELS:
            if getattr(content, channel) is not None:
                yield locale, channel


class Approval(BaseModel):
    """One approved content: who, when (UTC), and the hash of what they approved."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    by: EmailStr
    at: datetime
    content: Annotated[str, Field(pattern=CONTENT_PATTERN)]

    @field_validator("at", mode="before")
    @classmethod
    def _utc_text(cls, value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value  # made in code (`baton approve`), not read from the file
        if not isinstance(value, str) or not _UTC_TEXT.fullmatch(value):
            raise ValueError(f"{value!r} is not a UTC time: write it as 2026-05-01T10:00:00Z, in quotes")
        return value

    @field_validator("at")
    @classmethod
    def _as_utc(cls, value: datetime) -> datetime:
        return as_utc(value)

    @property
    def on(self) -> str:
        """The day of approval, as an error message names it."""
        return self.at.date().isoformat()

    def line(self) -> str:
        at = self.at.strftime("%Y-%m-%dT%H:%M:%SZ")
        return f'{{by: {self.by}, at: "{at}", content: "{self.content}"}}'


_Locale = Annotated[str, Field(pattern=LOCALE_PATTERN)]
_TemplateId = Annotated[str, Field(pattern=JOURNEY_ID_PATTERN)]


class _Channels(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    email: Approval | None = None
    sms: Approval | None = None
    voice: Approval | None = None
    whatsapp: Approval | None = None
    webhook: Approval | None = None


class _File(RootModel[dict[_TemplateId, dict[_Locale, _Channels]]]):
    pass


class Verdict(StrEnum):
    APPROVED = "approved"
    UNAPPROVED = "unapproved"  # never approved
    CHANGED = "changed"  # approved, then edited


@dataclass(frozen=True, slots=True)
class ContentApproval:
    """Whether one template's content on one locale and channel is the content approved."""

    template: str
    locale: str
    channel: str
    content: str  # the hash of the content as it is now
    verdict: Verdict
    approval: Approval | None = None  # the approval on record, if any

    @property
    def approved(self) -> bool:
        return self.verdict is Verdict.APPROVED

    def problem(self) -> str:
        """What is wrong, in plain words, with what to do (empty when approved)."""
        again = f"run `baton approve {self.template} --by EMAIL` after review"
        if self.verdict is Verdict.CHANGED and self.approval is not None:
            return (
                f"{self.locale} {self.channel} content changed after approval by {self.approval.by} "
                f"on {self.approval.on}: {again}"
            )
        if self.verdict is Verdict.UNAPPROVED:
            return f"{self.locale} {self.channel} content has no approval in {APPROVALS_FILE}: {again}"
        return ""


def _frozen(entries: Mapping[str, Mapping[str, Mapping[str, Approval]]]) -> Mapping[str, Any]:
    return MappingProxyType(
        {
            template: MappingProxyType({locale: MappingProxyType(dict(by)) for locale, by in locales.items()})
            for template, locales in entries.items()
        }
    )


@dataclass(frozen=True)
class Approvals:
    """Every approval on record: template -> locale -> channel -> Approval."""

    entries: Mapping[str, Mapping[str, Mapping[str, Approval]]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def get(self, template: str, locale: str, channel: str) -> Approval | None:
        return self.entries.get(template, {}).get(locale, {}).get(channel)

    def of(self, template: Template, locale: str, channel: str) -> ContentApproval:
        """The verdict on the template's content as it is now (KeyError: no such content)."""
        now = content_hash(template, locale, channel)
        approval = self.get(template.template, locale, channel)
        if approval is None:
            verdict = Verdict.UNAPPROVED
        else:
            verdict = Verdict.APPROVED if approval.content == now else Verdict.CHANGED
        return ContentApproval(template.template, locale, channel, now, verdict, approval)

    def review(self, template: Template) -> list[ContentApproval]:
        """The verdict on every locale and channel of the template, in file order."""
        return [self.of(template, locale, channel) for locale, channel in contents(template)]

    def approve(self, template: Template, by: str, at: datetime) -> Approvals:
        """These approvals with the template's replaced by one for each content it has now."""
        mine: dict[str, dict[str, Approval]] = {}
        at = as_utc(at).replace(microsecond=0)  # the file keeps whole seconds
        for locale, channel in contents(template):
            approval = Approval(by=by, at=at, content=content_hash(template, locale, channel))
            mine.setdefault(locale, {})[channel] = approval
        return Approvals(_frozen({**self.entries, template.template: mine}))

    def dump(self) -> str:
        """The file's text: templates in id order, one line per locale and channel, so a diff
        shows exactly which contents were approved again."""
        lines = [_HEADER.rstrip("\n")]
        for template in sorted(self.entries):
            lines.append(f"{template}:")
            for locale, channels in self.entries[template].items():
                lines.append(f"  {locale}:")
                for channel in CHANNELS:
                    if channel in channels:
                        lines.append(f"    {channel}: {channels[channel].line()}")
        return "\n".join(lines) + "\n"


def approval_of_sent(approvals: Approvals, template: Template, channel: str, content: str) -> Approval | None:
    """The approval on record of the content a message carried (its `content` hash), in any
    locale of the template: who approved the very words that went out, even if the template has
    been edited and approved again since. None: those words were never approved."""
    for by_channel in approvals.entries.get(template.template, {}).values():
        approval = by_channel.get(channel)
        if approval is not None and approval.content == content:
            return approval
    return None


def current_contents(template: Template, channel: str) -> set[str]:
    """The hashes of the template's content on `channel` as the catalog has it now, per locale."""
    return {content_hash(template, locale, channel) for locale, name in contents(template) if name == channel}


def needs_approval(template: Template, *, transactional: bool) -> bool:
    """Marketing templates always; transactional ones when the deployment asks (cdk.json
    `approvals.transactional`)."""
    return template.purpose == Purpose.MARKETING or transactional


class ApprovalsError(Exception):
    """The approvals file does not read; `issues` name its file, line and key."""

    def __init__(self, issues: list[CatalogIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


def read_approvals(path: Path) -> Approvals:
    """The approvals in `path` (none when there is no file); raises ApprovalsError."""
    if not path.is_file():
        return Approvals()
    file = str(path)
    try:
        source = read_source(path)
    except SourceError as exc:
        raise ApprovalsError([CatalogIssue(file, exc.line, "", exc.message)]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ApprovalsError([CatalogIssue(file, 0, "", f"cannot read the file: {exc}")]) from exc
    issues = [
        CatalogIssue(file, line, format_key(loc), "given twice in the same mapping: keep one")
        for loc, line in source.duplicate_keys()
    ]
    data = source.data if source.data is not None else {}
    if not isinstance(data, dict):
        issues.append(
            CatalogIssue(file, source.line(()), "", "the approvals file maps template ids to their locales")
        )
        raise ApprovalsError(issues)
    try:
        parsed = _File.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(part for part in error["loc"] if part != "[key]")
            issues.append(CatalogIssue(file, source.line(loc), format_key(loc), _message(error)))
        raise ApprovalsError(issues) from exc
    if issues:
        raise ApprovalsError(issues)
    entries = {
        template: {
            locale: {channel: approval for channel in CHANNELS if (approval := getattr(by, channel))}
            for locale, by in locales.items()
        }
        for template, locales in parsed.root.items()
    }
    return Approvals(_frozen(entries))


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required: an approval names who (`by`), when (`at`) and what (`content`)"
    if kind == "extra_forbidden":
        return f"unknown key {error['loc'][-1]!r} (allowed: by, at, content; channels: {', '.join(CHANNELS)})"
    if kind == "string_pattern_mismatch" and error.get("ctx", {}).get("pattern") == CONTENT_PATTERN:
        return f"{error['input']!r} is not a content hash: `baton approve` writes sha256:<64 hex digits>"
    if kind == "string_pattern_mismatch" and error.get("ctx", {}).get("pattern") == LOCALE_PATTERN:
        return f"{error['input']!r} is not a locale (en, pt-BR)"
    if kind == "string_pattern_mismatch":
        return f"{error['input']!r} is not a template id"
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    message = str(error["msg"])
    value = error.get("input")
    if isinstance(value, str | int | float | bool):
        message += f" (got {value!r})"
    return message
