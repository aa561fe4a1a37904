"""Template lint: Jinja syntax, names a template may not use, the CAN-SPAM placeholders, SMS parts.

Works on one template string at a time; the catalog maps findings to file, line and key.
"""

from __future__ import annotations

from dataclasses import dataclass

import jinja2
from jinja2 import meta, nodes

from baton.contacts.models import Contact
from baton.journeys.render import VARIABLES, sandbox
from baton.sms.segments import SegmentCount, count_segments

CONTACT_FIELDS = frozenset(Contact.model_fields)
# R-CANSPAM-3, R-MBX-1: every marketing email shows both.
MARKETING_EMAIL_PLACEHOLDERS = ("unsubscribe_url", "postal_address")

# Typical rendered lengths used to estimate SMS parts (R-SMS-1). A template's own text counts as
# written; each `{{ ... }}` counts as this many GSM-7 characters, chosen by the last name in it.
TYPICAL_LENGTH = {"first_name": 10, "last_name": 12, "brand": 15, "postal_address": 60}
TYPICAL_URL_LENGTH = 40  # a short tracking or preferences link
TYPICAL_OTHER_LENGTH = 10


@dataclass(frozen=True, slots=True)
class Finding:
    """`line` is the line inside the template string (1-based)."""

    line: int
    message: str


def parse(source: str, *, html: bool = False) -> nodes.Template | Finding:
    """The template's syntax tree, or a Finding naming the Jinja syntax error."""
    try:
        return sandbox(html=html).parse(source)
    except jinja2.TemplateSyntaxError as exc:
        return Finding(exc.lineno, f"Jinja syntax error: {exc.message}")


def unknown_names(tree: nodes.Template) -> list[Finding]:
    """Variables outside the contract's list, and `contact.<x>` where x is not a contact field."""
    findings = [
        Finding(
            _first_line(tree, name),
            f"unknown variable `{name}`: a template sees only {', '.join(sorted(VARIABLES))}",
        )
        for name in sorted(meta.find_undeclared_variables(tree) - VARIABLES)
    ]
    for node in tree.find_all(nodes.Getattr):
        if (
            isinstance(node.node, nodes.Name)
            and node.node.name == "contact"
            and node.attr not in CONTACT_FIELDS
        ):
            findings.append(
                Finding(
                    node.lineno,
                    f"contact has no field `{node.attr}` (write contact.attributes.{node.attr} for an "
                    f"attribute; fields: {', '.join(sorted(CONTACT_FIELDS))})",
                )
            )
    return findings


def missing_placeholders(tree: nodes.Template, names: tuple[str, ...]) -> list[str]:
    """Which of `names` the template never prints with `{{ ... }}`."""
    printed = {name.name for output in tree.find_all(nodes.Output) for name in output.find_all(nodes.Name)}
    return [name for name in names if name not in printed]


def estimate_sms(source: str) -> SegmentCount:
    """Parts and encoding of an SMS template with each `{{ ... }}` replaced by a typical value.

    `{% ... %}` tags and comments count as nothing; both arms of an `if` count (an upper bound).
    """
    text: list[str] = []
    names: list[str] = []
    inside: str | None = None
    after_pipe = False  # the name after `|` is a filter, not a value
    for _, kind, value in sandbox(html=False).lex(source):
        if kind == "data" and inside is None:
            text.append(value)
        elif kind in ("variable_begin", "block_begin", "comment_begin"):
            inside, names = kind, []
        elif kind == "name" and inside == "variable_begin":
            if not after_pipe:
                names.append(value)
            after_pipe = False
        elif kind == "operator":
            after_pipe = value == "|"
        elif kind == "variable_end":
            text.append("x" * _typical_length(names))
            inside = None
        elif kind in ("block_end", "comment_end"):
            inside = None
    return count_segments("".join(text).strip())


def _typical_length(names: list[str]) -> int:
    last = next((name for name in reversed(names) if name not in ("contact", "event", "attributes")), "")
    if last.endswith("url"):
        return TYPICAL_URL_LENGTH
    return TYPICAL_LENGTH.get(last, TYPICAL_OTHER_LENGTH)


def _first_line(tree: nodes.Template, name: str) -> int:
    lines = [node.lineno for node in tree.find_all(nodes.Name) if node.name == name]
    return min(lines, default=1)
