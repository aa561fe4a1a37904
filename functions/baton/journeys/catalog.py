"""The catalog: every journey, template and segment under `journeys/`, validated together.

`load_catalog(path)` reads `journeys/*.yaml` (journeys), `journeys/templates/*.yaml` and
`journeys/segments/*.yaml`, validates each with the models, then checks them against each other
(steps, templates, locales, segments, the rulebook's template rules). Any problem raises
`CatalogError` listing every issue as `file:line: key: message`; `check_catalog` returns the
issues instead (for `baton validate`).

Approval (`journeys/approvals.yaml`, `baton.journeys.approvals`): checked strictly by default,
so `baton validate` and synth refuse a marketing template (or, when the deployment asks, a
transactional one) whose content has no approval or changed after it. The functions load the
catalog with `require_approval=False`: one changed template must not stop every journey, so
the catalog carries the approvals and the send gate refuses that template's sends alone.

Ids: a journey's, template's and segment's id is its file name without `.yaml` (one place to
look, and ids are unique because file names are).
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from baton.journeys import graph, lint
from baton.journeys.approvals import (
    APPROVALS_FILE,
    Approvals,
    ApprovalsError,
    ContentApproval,
    content_hash,
    needs_approval,
    read_approvals,
)
from baton.journeys.conditions import (
    CONDITION_MODEL_OF_TAG,
    AllOf,
    AnyOf,
    AttributeCondition,
    ChannelUsed,
    Condition,
    Delivered,
    EventReceived,
    HandoffOutcome,
    NotOf,
)
from baton.journeys.exceptions import CatalogError, CatalogIssue
from baton.journeys.models import END, JOURNEY_ID_PATTERN, Journey, Purpose
from baton.journeys.segments import Segment
from baton.journeys.source import Loc, Source, SourceError, format_key, read_source, string_start_line
from baton.journeys.templates import EmailContent, Template, TextContent, WebhookContent
from baton.sms.keywords import DEFAULT_OPT_OUT
from baton.sms.segments import Encoding, non_gsm_characters

__all__ = [
    "DEFAULT_LOCALES",
    "Catalog",
    "CatalogError",
    "CatalogIssue",
    "CatalogReport",
    "SmsEstimate",
    "check_catalog",
    "load_catalog",
]

# R-CTIA-5: a marketing text names an opt-out keyword, written as the keyword (upper case) so the
# person sees what to reply; the short or common ones (TD, END, REMOVE) do not count on their own.
_OPT_OUT_WORD = re.compile(
    r"\b(?:"
    + "|".join(sorted((w for w in DEFAULT_OPT_OUT if len(w) >= 4 and w != "REMOVE"), key=len, reverse=True))
    + r")\b"
)

# English is every template's last fallback: a deployment declares its other languages.
DEFAULT_LOCALES: tuple[str, ...] = ("en",)
DEFAULT_SMS_MAX_PARTS = 3
# Execution names are `<journey>-<40 hex digits>` (R-REL-2) and Step Functions allows 80 characters.
MAX_JOURNEY_ID_LENGTH = 80 - 41
_Add = Callable[[Loc, str], None]  # report an issue at a key of the file being checked
TEMPLATES_DIR = "templates"
SEGMENTS_DIR = "segments"

# Errors raised by a model's own validator have no key of their own: name the key they are about
# (in the dotted key) and the line to point at.
_ANCHORS: dict[str, tuple[str, str]] = {
    "marketing_without_topic": ("topic", "purpose"),
    "marketing_without_approval": ("approved_by", "purpose"),
    "no_en_locale": ("locales", "locales"),
    "branch_with_next": ("next", "next"),
    "split_with_next": ("next", "next"),
    "holdout_variant": ("variants", "variants"),
    "variant_twice": ("variants", "variants"),
    "empty_window": ("end", "end"),
}
_ID_PATTERNS = {JOURNEY_ID_PATTERN, r"^[a-z0-9][a-z0-9-]{0,63}$"}


@dataclass(frozen=True)
class Catalog:
    """Every valid journey, template and segment, by id."""

    root: Path
    journeys: dict[str, Journey] = field(default_factory=dict)
    templates: dict[str, Template] = field(default_factory=dict)
    segments: dict[str, Segment] = field(default_factory=dict)
    approvals: Approvals = field(default_factory=Approvals)
    # Transactional templates need an approval too (cdk.json `approvals.transactional`).
    approve_transactional: bool = False
    # Per (template, locale, channel): the content hash and the approval verdict, worked out on
    # first use. The catalog never changes once loaded, so every send after the first of a
    # content reads them instead of hashing it again.
    _hashes: dict[tuple[str, str, str], str] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    _verdicts: dict[tuple[str, str, str], ContentApproval | None] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def needs_approval(self, template: Template) -> bool:
        return needs_approval(template, transactional=self.approve_transactional)

    def content_hash(self, template_id: str, locale: str, channel: str) -> str:
        """`content_hash` of a template's content in one locale and channel (KeyError: no such
        template or content)."""
        key = (template_id, locale, channel)
        if key not in self._hashes:
            self._hashes[key] = content_hash(self.templates[template_id], locale, channel)
        return self._hashes[key]

    def approval(self, template_id: str, locale: str, channel: str) -> ContentApproval | None:
        """The verdict on a template's content in one locale and channel, or None when the
        template needs no approval (KeyError: no such template or content)."""
        key = (template_id, locale, channel)
        if key not in self._verdicts:
            template = self.templates[template_id]
            needed = self.needs_approval(template)
            self._verdicts[key] = self.approvals.of(template, locale, channel) if needed else None
        return self._verdicts[key]

    def journey(self, journey_id: str) -> Journey:
        return self.journeys[journey_id]

    def template(self, template_id: str) -> Template:
        return self.templates[template_id]

    def segment(self, segment_id: str) -> Segment:
        return self.segments[segment_id]

    def journeys_for_event(self, event_type: str) -> list[Journey]:
        """The journeys an event of this type starts, in id order."""
        return [journey for journey in self.journeys.values() if journey.trigger.event == event_type]

    def journeys_with_goal(self, event_type: str) -> list[Journey]:
        """The journeys whose goal an event of this type is (a conversion), in id order."""
        return [j for j in self.journeys.values() if j.goal is not None and j.goal.event == event_type]

    def journeys_exiting_on(self, event_type: str) -> list[Journey]:
        """The journeys whose running executions an event of this type ends (`exit_on`), in id order."""
        return [journey for journey in self.journeys.values() if event_type in journey.exit_on]

    def scheduled_journeys(self) -> list[Journey]:
        return [journey for journey in self.journeys.values() if journey.trigger.schedule is not None]


@dataclass(frozen=True, slots=True)
class SmsEstimate:
    """R-SMS-1: what one locale's SMS text costs with typical values in place of its variables."""

    template: str
    locale: str
    encoding: Encoding
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    parts: int
    forcing_ucs2: tuple[str, ...] = ()  # the characters that make it UCS-2

    def __str__(self) -> str:
        unit = "septets" if self.encoding is Encoding.GSM7 else "UTF-16 units"
        why = f", UCS-2 because of {' '.join(self.forcing_ucs2)}" if self.forcing_ucs2 else ""
        plural = "s" if self.parts != 1 else ""
        parts = f"{self.parts} part{plural}"
        return f"{self.template} {self.locale}: {self.encoding} {parts} ({self.units} {unit}{why})"


@dataclass(frozen=True)
class CatalogReport:
    catalog: Catalog  # what validated (files with issues of their own are left out)
    issues: list[CatalogIssue]
    sms: list[SmsEstimate]

    @property
    def ok(self) -> bool:
        return not self.issues


def load_catalog(
    path: Path,
    *,
    sms_max_parts: int = DEFAULT_SMS_MAX_PARTS,
    locales: Sequence[str] = DEFAULT_LOCALES,
    require_approval: bool = True,
    approve_transactional: bool = False,
) -> Catalog:
    """Read and check the catalog at `path`; raises CatalogError listing every issue."""
    report = check_catalog(
        path,
        sms_max_parts=sms_max_parts,
        locales=locales,
        require_approval=require_approval,
        approve_transactional=approve_transactional,
    )
    if report.issues:
        raise CatalogError(report.issues)
    return report.catalog


def check_catalog(
    path: Path,
    *,
    sms_max_parts: int = DEFAULT_SMS_MAX_PARTS,
    locales: Sequence[str] = DEFAULT_LOCALES,
    require_approval: bool = True,
    approve_transactional: bool = False,
) -> CatalogReport:
    """Read and check the catalog at `path`, returning every issue found instead of raising.

    `locales` are the ones the deployment declares: every template has each of them, so a
    contact in a declared locale never gets another language's text by fallback.
    `require_approval`: a template that needs approval and whose content is not the content
    approved is an issue of its file (else the send gate refuses its sends).
    """
    checker = _Checker(Path(path), sms_max_parts, tuple(locales), require_approval, approve_transactional)
    return checker.run()


@dataclass
class _Parsed:
    source: Source
    model: Any


class _Checker:
    def __init__(
        self,
        root: Path,
        sms_max_parts: int,
        locales: tuple[str, ...],
        require_approval: bool = True,
        approve_transactional: bool = False,
    ) -> None:
        self.root = root
        self.sms_max_parts = sms_max_parts
        self.locales = locales
        self.require_approval = require_approval
        self.approve_transactional = approve_transactional
        self.approvals = Approvals()
        self.issues: list[CatalogIssue] = []
        self.sms: list[SmsEstimate] = []
        self.order: dict[str, int] = {}
        self.journeys: dict[str, _Parsed] = {}
        self.templates: dict[str, _Parsed] = {}
        self.segments: dict[str, _Parsed] = {}
        self.broken_templates: set[str] = set()
        self.broken_segments: set[str] = set()
        self.reported: set[tuple[str, str, str]] = set()

    def run(self) -> CatalogReport:
        if not self.root.is_dir():
            self._add(str(self.root), 0, "", "no such folder: the catalog is a folder of journey YAML files")
            return self._report()
        self._read_approvals()
        self._read_all(self.root, Journey, self.journeys, set())
        self._read_all(self.root / TEMPLATES_DIR, Template, self.templates, self.broken_templates)
        self._read_all(self.root / SEGMENTS_DIR, Segment, self.segments, self.broken_segments)
        for parsed in self.templates.values():
            self._check_template(parsed)
        for parsed in self.segments.values():
            self._check_segment(parsed)
        marketing_topics = {
            parsed.model.topic: parsed.model.journey
            for parsed in self.journeys.values()
            if parsed.model.purpose == Purpose.MARKETING
        }
        for parsed in self.journeys.values():
            self._check_journey(parsed, marketing_topics)
        return self._report()

    def _report(self) -> CatalogReport:
        issues = sorted(self.issues, key=lambda issue: (self.order.get(issue.file, 0), issue.line))
        # A file with an issue of its own is not valid, whatever else in it is.
        broken = {issue.file for issue in issues}

        def valid(parsed: dict[str, _Parsed]) -> dict[str, Any]:
            return {key: p.model for key, p in sorted(parsed.items()) if str(p.source.path) not in broken}

        catalog = Catalog(
            root=self.root,
            journeys=valid(self.journeys),
            templates=valid(self.templates),
            segments=valid(self.segments),
            approvals=self.approvals,
            approve_transactional=self.approve_transactional,
        )
        return CatalogReport(catalog, issues, sorted(self.sms, key=lambda s: (s.template, s.locale)))

    # -- reading ---------------------------------------------------------------------------------

    def _read_all(
        self, folder: Path, model: type[BaseModel], into: dict[str, _Parsed], broken: set[str]
    ) -> None:
        if not folder.is_dir():
            return
        for path in sorted(folder.iterdir()):
            if folder == self.root and path.name == APPROVALS_FILE:
                continue  # not a journey: `_read_approvals` reads it
            if path.suffix == ".yml":
                self._add(str(path), 0, "", "not read: name catalog files `.yaml`")
            if path.suffix != ".yaml" or not path.is_file():
                continue
            self.order.setdefault(str(path), len(self.order))
            parsed = self._read(path, model)
            if parsed is None:
                broken.add(path.stem)
            else:
                into[path.stem] = parsed

    def _read_approvals(self) -> None:
        path = self.root / APPROVALS_FILE
        self.order.setdefault(str(path), len(self.order))
        try:
            self.approvals = read_approvals(path)
        except ApprovalsError as exc:
            self.issues.extend(exc.issues)

    def _read(self, path: Path, model: type[BaseModel]) -> _Parsed | None:
        file = str(path)
        try:
            source = read_source(path)
        except SourceError as exc:
            self._add(file, exc.line, "", exc.message)
            return None
        except (OSError, UnicodeDecodeError) as exc:
            self._add(file, 0, "", f"cannot read the file: {exc}")
            return None
        if not isinstance(source.data, dict):
            kind = model.__name__.lower()
            self._add(
                file, source.line(()), "", f"a {kind} file is a YAML mapping starting with `{kind}: <id>`"
            )
            return None
        for loc, line in source.duplicate_keys():
            self._add(file, line, format_key(loc), "given twice in the same mapping: keep one")
        try:
            instance = model.model_validate(source.data)
        except ValidationError as exc:
            for error in exc.errors():
                self._add_validation_error(source, model, error)
            return None
        id_key = next(iter(type(instance).model_fields))  # `journey`, `template`, `segment`
        if getattr(instance, id_key) != path.stem:
            self._add(
                file,
                source.line((id_key,)),
                id_key,
                f"the id {getattr(instance, id_key)!r} must be the file name: name the file "
                f"{getattr(instance, id_key)}.yaml or the id {path.stem!r}",
            )
            return None
        return _Parsed(source, instance)

    def _add_validation_error(self, source: Source, model: type[BaseModel], error: Any) -> None:
        loc: tuple[str | int, ...] = tuple(error["loc"])
        kind = error["type"]
        line_loc = loc
        if kind in _ANCHORS:
            key_part, line_part = _ANCHORS[kind]
            loc, line_loc = (*loc, key_part), (*loc, line_part)
        message = _message(error, model, loc)
        if kind == "string_pattern_mismatch" and error.get("ctx", {}).get("pattern") in _ID_PATTERNS:
            message = (
                f"{error['input']!r} is not an id: use lowercase letters, digits and '-', "
                "starting with a letter or digit (at most 64)"
            )
        self._add(str(source.path), source.line(line_loc), format_key(loc), message)

    # -- templates -------------------------------------------------------------------------------

    def _check_template(self, parsed: _Parsed) -> None:
        template: Template = parsed.model
        source = parsed.source
        missing = [locale for locale in self.locales if locale not in template.locales]
        if missing:
            self._add(
                str(source.path),
                source.line(("locales",)),
                "locales",
                f"no {', '.join(missing)}: the deployment declares {', '.join(self.locales)} (cdk.json"
                " `locales`), and those contacts would get another language's text",
            )
        if self.require_approval and needs_approval(template, transactional=self.approve_transactional):
            for verdict in self.approvals.review(template):
                if not verdict.approved:
                    where: Loc = ("locales", verdict.locale, verdict.channel)
                    self._add(
                        str(source.path),
                        source.line(where),
                        format_key(where),
                        f"template {template.template}: {verdict.problem()}",
                    )
        for locale, content in template.locales.items():
            for loc, text, html in _template_strings(locale, content):
                tree = self._parse_jinja(source, loc, text, html)
                if tree is None:
                    continue
                for finding in lint.unknown_names(tree):
                    self._add_in_string(source, loc, finding)
                if template.purpose == Purpose.MARKETING and loc[2] == "email" and loc[3] in ("html", "text"):
                    missing = lint.missing_placeholders(tree, lint.MARKETING_EMAIL_PLACEHOLDERS)
                    if missing:
                        shown = " and ".join(f"{{{{ {name} }}}}" for name in missing)
                        self._add(
                            str(source.path),
                            source.line(loc),
                            format_key(loc),
                            f"a marketing email shows {shown} (R-CANSPAM-3, R-MBX-1)",
                        )
                if loc[2] == "sms":
                    self._check_sms(template, source, locale, loc, text)
                    if template.purpose == Purpose.MARKETING and not _OPT_OUT_WORD.search(text):
                        self._add(
                            str(source.path),
                            source.line(loc),
                            format_key(loc),
                            "a marketing SMS says how to opt out in every locale, e.g. 'Reply STOP to opt"
                            " out' or 'Responda SAIR para cancelar' (R-CTIA-5)",
                        )

    def _parse_jinja(self, source: Source, loc: Loc, text: str, html: bool) -> Any:
        tree = lint.parse(text, html=html)
        if isinstance(tree, lint.Finding):
            self._add_in_string(source, loc, tree)
            return None
        return tree

    def _check_sms(self, template: Template, source: Source, locale: str, loc: Loc, text: str) -> None:
        count = lint.estimate_sms(text)
        forcing = tuple(non_gsm_characters(text)) if count.encoding is Encoding.UCS2 else ()
        estimate = SmsEstimate(template.template, locale, count.encoding, count.units, count.parts, forcing)
        self.sms.append(estimate)
        if count.parts > self.sms_max_parts:
            self._add(
                str(source.path),
                source.line(loc),
                format_key(loc),
                f"about {count.parts} SMS parts ({count.encoding}, {count.units} units with typical "
                f"values), over the limit of {self.sms_max_parts} (R-SMS-1)"
                + (f"; {' '.join(forcing)} make it UCS-2" if forcing else ""),
            )

    def _add_in_string(self, source: Source, loc: Loc, finding: lint.Finding) -> None:
        line, node = source.locate(loc)
        if node is not None:
            line = string_start_line(node) + finding.line - 1
        self._add(str(source.path), line, format_key(loc), finding.message)

    # -- segments --------------------------------------------------------------------------------

    def _check_segment(self, parsed: _Parsed) -> None:
        segment: Segment = parsed.model
        for loc, leaf in _leaves(segment.when, ("when",)):
            if not isinstance(leaf, AttributeCondition):
                self._add(
                    str(parsed.source.path),
                    parsed.source.line(loc),
                    format_key(loc),
                    "a segment tests contact attributes only: it has no journey steps to read",
                )

    # -- journeys --------------------------------------------------------------------------------

    def _check_journey(self, parsed: _Parsed, marketing_topics: dict[str | None, str]) -> None:
        journey: Journey = parsed.model
        source = parsed.source
        file = str(source.path)

        def add(loc: Loc, message: str) -> None:
            self._add(file, source.line(loc), format_key(loc), message)

        if len(journey.journey) > MAX_JOURNEY_ID_LENGTH:
            add(
                ("journey",),
                f"at most {MAX_JOURNEY_ID_LENGTH} characters: execution names are the id and 41 more "
                "(R-REL-2), and Step Functions allows 80",
            )
        index_of: dict[str, int] = {}
        for index, step in enumerate(journey.steps):
            if step.id == END:
                add(("steps", index, "id"), "`end` is reserved: it is where a journey finishes")
            elif step.id in index_of:
                add(
                    ("steps", index, "id"),
                    f"step id {step.id!r} is used twice (first at steps[{index_of[step.id]}])",
                )
            else:
                index_of[step.id] = index

        if len(index_of) == len(journey.steps):  # with duplicate ids the step graph is ambiguous
            self._check_graph(journey, index_of, add)

        for index, step in enumerate(journey.steps):
            if step.branch is not None:
                for number, case in enumerate(step.branch.cases):
                    self._check_condition(
                        journey, index, case.when, ("steps", index, "branch", "cases", number, "when"), add
                    )
            if step.send is not None:
                self._check_send(journey, index, add)

        for index in [n for n, step in enumerate(journey.steps) if step.split is not None][1:]:
            add(
                ("steps", index, "split"),
                "a journey splits at most once: a run has one variant, the one its conversions count for",
            )

        if journey.trigger.segment is not None:
            segment = journey.trigger.segment
            if segment not in self.segments and segment not in self.broken_segments:
                known = ", ".join(sorted(self.segments)) or "none"
                add(("trigger", "segment"), f"no segment {segment!r} in {SEGMENTS_DIR}/ (known: {known})")
        if journey.purpose == Purpose.TRANSACTIONAL and journey.topic in marketing_topics:
            add(
                ("topic",),
                f"topic {journey.topic!r} is a marketing topic (journey {marketing_topics[journey.topic]}): "
                "a transactional journey cannot use it (R-CANSPAM-4)",
            )

    def _check_graph(self, journey: Journey, index_of: dict[str, int], add: _Add) -> None:
        for edge in graph.edges(journey):
            if edge.loc and edge.target != END and edge.target not in index_of:
                add(("steps", edge.source, *edge.loc), _nowhere(edge.target, list(index_of)))
        reachable = graph.reachable(journey)
        for index, step in enumerate(journey.steps):
            if index not in reachable:
                add(("steps", index), f"step {step.id!r} is unreachable: no step leads to it")
        for members, closing in graph.loops_without_wait(journey):
            names = " -> ".join(journey.steps[index].id for index in members)
            add(
                ("steps", closing.source, *closing.loc),
                f"the loop {names} has no wait: it would run again at once (put a wait in it)",
            )

    def _check_condition(
        self, journey: Journey, index: int, condition: Condition, prefix: Loc, add: _Add
    ) -> None:
        for loc, leaf in _leaves(condition, tuple(prefix)):
            match leaf:
                case Delivered():
                    refs = [((*loc, "delivered"), leaf.delivered, "send")]
                case ChannelUsed():
                    refs = [((*loc, "channel_used", "step"), leaf.channel_used.step, "send")]
                case EventReceived():
                    refs = [((*loc, "event_received"), leaf.event_received, "wait for an event")]
                case HandoffOutcome():
                    refs = [((*loc, "handoff_outcome", "step"), leaf.handoff_outcome.step, "handoff")]
                case _:
                    refs = []
            for ref_loc, ref, needed in refs:
                target = next((n for n, step in enumerate(journey.steps) if step.id == ref), None)
                if target is None:
                    add(ref_loc, f"no step {ref!r} in this journey")
                    continue
                if target >= index:
                    add(
                        ref_loc, f"step {ref!r} does not come before this branch: its result is not known yet"
                    )
                    continue
                step = journey.steps[target]
                kind_ok = {
                    "send": step.send is not None,
                    "wait for an event": step.wait is not None and step.wait.event is not None,
                    "handoff": step.handoff is not None,
                }[needed]
                if not kind_ok:
                    add(ref_loc, f"step {ref!r} is a {step.kind}, not a {needed}")
                elif isinstance(leaf, ChannelUsed) and step.send is not None:
                    channel = leaf.channel_used.is_
                    if channel not in step.send.channels:
                        sent = ", ".join(step.send.channels)
                        add(
                            (*loc, "channel_used", "is"),
                            f"step {ref!r} sends on {sent} only: channel_used {channel} is never true",
                        )

    def _check_send(self, journey: Journey, index: int, add: _Add) -> None:
        send = journey.steps[index].send
        assert send is not None
        loc = ("steps", index, "send")
        if send.template in self.broken_templates:
            return  # its own file's issues say why
        parsed = self.templates.get(send.template)
        if parsed is None:
            add((*loc, "template"), _nowhere(send.template, list(self.templates), what="template"))
            return
        template: Template = parsed.model
        if template.purpose != journey.purpose:
            add(
                (*loc, "template"),
                f"template {template.template!r} is {template.purpose}, this journey is {journey.purpose}: "
                "use a template of the same purpose (R-CANSPAM-4)",
            )
        for number, channel in enumerate(send.channels):
            if getattr(template.locales["en"], channel) is None:
                add(
                    (*loc, "channels", number),
                    f"template {template.template!r} has no {channel} content in en, the last fallback",
                )
            for locale, content in template.locales.items():
                missing = (template.template, locale, channel)
                if locale != "en" and getattr(content, channel) is None and missing not in self.reported:
                    self.reported.add(missing)  # once per template, locale and channel
                    source = parsed.source
                    self._add(
                        str(source.path),
                        source.line(("locales", locale)),
                        format_key(("locales", locale)),
                        f"no {channel} content, which journey {journey.journey} (step "
                        f"{journey.steps[index].id}) sends: {locale} contacts would get another "
                        "locale's text",
                    )

    # -- issues ----------------------------------------------------------------------------------

    def _add(self, file: str, line: int, key: str, message: str) -> None:
        self.order.setdefault(file, len(self.order))
        self.issues.append(CatalogIssue(file, line, key, message))


def _template_strings(locale: str, content: Any) -> Iterator[tuple[tuple[str | int, ...], str, bool]]:
    """(loc, text, is_html) of every template string of one locale."""
    base = ("locales", locale)
    for channel in ("email", "sms", "voice", "whatsapp", "webhook"):
        part = getattr(content, channel)
        match part:
            case EmailContent():
                yield (*base, channel, "subject"), part.subject, False
                if part.html is not None:
                    yield (*base, channel, "html"), part.html, True
                yield (*base, channel, "text"), part.text, False
            case TextContent():
                yield (*base, channel, "text"), part.text, False
            case WebhookContent():
                for key, value in part.body.items():
                    yield (*base, channel, "body", key), value, False


def _leaves(condition: Condition, loc: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Every leaf condition with its loc (keys as written in YAML)."""
    match condition:
        case AllOf():
            for number, inner in enumerate(condition.all):
                yield from _leaves(inner, (*loc, "all", number))
        case AnyOf():
            for number, inner in enumerate(condition.any):
                yield from _leaves(inner, (*loc, "any", number))
        case NotOf():
            yield from _leaves(condition.not_, (*loc, "not"))
        case _:
            yield loc, condition


def _nowhere(target: str, known: list[str], *, what: str = "step") -> str:
    close = difflib.get_close_matches(target, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    where = "in journeys/templates/" if what == "template" else "in this journey (or `end`)"
    return f"no {what} {target!r} {where}{hint}"


# -- pydantic errors in the bard's words ----------------------------------------------------------


def _message(error: Any, model: type[BaseModel], loc: Sequence[str | int]) -> str:
    kind = error["type"]
    context = error.get("ctx") or {}
    value = error.get("input")
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        unknown = str(loc[-1])
        close = difflib.get_close_matches(unknown, allowed, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        listed = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return f"unknown key {unknown!r}{hint}{listed}"
    if kind == "value_error":
        return str(context.get("error", error["msg"]))
    message = str(error["msg"])
    if isinstance(value, str | int | float | bool) and not isinstance(value, dict):
        message += f" (got {value!r})"
    return message


def _allowed_keys(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The keys the mapping at `loc` accepts, following the models (for `unknown key` messages)."""
    current: Any = model
    for part in loc:
        if isinstance(part, str) and part in CONDITION_MODEL_OF_TAG:
            current = CONDITION_MODEL_OF_TAG[part]
            continue
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel) and isinstance(part, str):
            info = next(
                (info for name, info in current.model_fields.items() if (info.alias or name) == part), None
            )
            if info is None:
                return []
            current = info.annotation
        elif get_origin(current) in (list, dict):
            current = get_args(current)[-1]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [info.alias or name for name, info in current.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation
