"""What goes wrong with journeys: an invalid catalog (every issue, with file and line) and rendering."""

from __future__ import annotations

from dataclasses import dataclass


class JourneyError(Exception):
    """Base of the journey package's errors."""


@dataclass(frozen=True, slots=True)
class CatalogIssue:
    """One problem in one file: `journeys/welcome.yaml:12: steps[1].send.channels: ...`."""

    file: str  # as given to the loader, relative to the catalog's parent when possible
    line: int  # 1-based; 0 when the file could not be read at all
    key: str  # dotted path to the key (`steps[3].send.channels`), "" for the whole file
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.key or '(file)'}: {self.message}"


class CatalogError(JourneyError):
    """The journeys folder does not validate; `issues` lists every problem found, in file order."""

    def __init__(self, issues: list[CatalogIssue]) -> None:
        self.issues = list(issues)
        count = len(self.issues)
        head = f"{count} issue{'s' if count != 1 else ''} in the journeys catalog"
        super().__init__("\n".join([head, *(str(issue) for issue in self.issues)]))


class TemplateRenderError(JourneyError):
    """A template could not be rendered: undefined variable, sandbox refusal, missing content.

    Its text (`reason`) may quote the data it was rendering (an undefined key is named by its
    value, `{{ event[contact.email] }}`): it is for `baton validate` and previews. What a send
    records or logs is `kind` and `part`, which the template alone decides."""

    def __init__(
        self,
        template: str,
        locale: str | None,
        channel: str,
        reason: str,
        *,
        kind: str = "render_failed",
        part: str = "",
    ) -> None:
        self.template = template
        self.locale = locale
        self.channel = channel
        self.reason = reason
        self.kind = kind  # no_content, syntax_error, undefined_variable, render_failed
        self.part = part  # which part of the template: `email.subject`, `sms.text`, ...
        super().__init__(f"template {template} ({locale or 'no locale'}, {channel}): {reason}")
