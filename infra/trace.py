"""`baton trace TEXT_OR_ID [--json]`: where a message came from, asked of the private API.

An argument that can be a message id (Baton's or the provider's) is looked up as one first; a
text, or an id no message has, is searched among the templates by `POST /v1/messages/search`
(the text in a body: it stays out of URLs and access logs)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import quote

from infra.campaign import _error as error_text

# As `baton.tracing.models.MessageId`: what a message id can be.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:=+@-]{0,255}$")


class TraceApi(Protocol):
    def get(self, path: str, **kwargs: Any) -> Any: ...
    def post(self, path: str, **kwargs: Any) -> Any: ...


def show(
    client: TraceApi, text_or_id: str, *, as_json: bool = False, out: Callable[[str], None] = print
) -> int:
    if _ID.match(text_or_id):
        answer = client.get(f"/v1/messages/{quote(text_or_id, safe='')}")
        if answer.status == 200:
            trace = answer.json()
            out(json.dumps(trace, indent=2) if as_json else message(trace))
            return 0
        if answer.status != 404:
            out(f"baton trace: {error_text(answer)}")
            return 1
    answer = client.post("/v1/messages/search", json_body={"text": text_or_id})
    if answer.status != 200:
        out(f"baton trace: {error_text(answer)}")
        return 1
    found = answer.json()
    out(json.dumps(found, indent=2) if as_json else matches(found))
    return 0 if found["matches"] else 1


def message(trace: dict[str, Any]) -> str:
    """A sent message as a reader asks about it: what, to whom, when, why, whose."""
    trigger = trace.get("trigger")
    owners, approval = trace["owners"], trace["approval"]
    current = {True: "the template's current words", False: "the template has changed since", None: "unknown"}
    lines = [
        f"Message {trace.get('message_id') or '-'}"
        f" ({trace.get('channel') or '-'}, {trace.get('purpose') or '-'})",
        f"  sent        {trace['sent_at']} to contact {trace['contact_id']}"
        f" via {trace.get('provider') or '-'} {trace.get('provider_message_id') or ''}".rstrip(),
        f"  journey     {trace.get('journey') or '-'}, step {trace.get('step') or '-'}"
        + (f", variant {trace['variant']}" if trace.get("variant") else ""),
        f"  template    {trace.get('template') or '-'}, content {trace.get('content_version') or '-'}"
        f" ({current[trace.get('content_current')]})",
        "  trigger     "
        + (
            f"{trigger['event_type']} event {trigger['event_id']}, started {trigger.get('started_at') or '-'}"
            if trigger
            else "- (not found)"
        ),
        f"  owners      journey {owners.get('journey') or '-'}, template {owners.get('template') or '-'}",
        f"  approved by {_approval(approval)}",
    ]
    if len(trace.get("deliveries") or []) > 1:
        lines.append(f"  handed to the provider {len(trace['deliveries'])} times:")
        lines.extend(
            f"    {d['sent_at']} {d.get('provider')} {d.get('provider_message_id')}"
            for d in trace["deliveries"]
        )
    return "\n".join(lines)


def matches(found: dict[str, Any]) -> str:
    """Templates that could have printed the text, best first."""
    if not found["matches"]:
        return "No template prints this text (or too little of it is the template's own words)."
    lines = ["Templates that could have printed this text, best first (characters matched):"]
    for match in found["matches"]:
        uses = ", ".join(f"{use['journey']}/{use['step']}" for use in match["used_by"]) or "no journey"
        where = f"{match['locale']} {match['channel']} {match['part']}"
        approver = _approval(match["approval"])
        lines.append(
            f"  {match['score']:>5}  {match['template']} [{where}]"
            f"  owner {match['owner']}, approved by {approver}; used by {uses}"
        )
    return "\n".join(lines)


def _approval(approval: dict[str, Any]) -> str:
    """Who approved the words, when, and whether the approval still holds."""
    by, at, status = approval.get("approved_by"), approval.get("approved_at"), approval.get("status")
    if status == "unapproved":
        return "- (these words have no approval on record)"
    if status == "changed":
        return f"{by or '-'} on {str(at or '-')[:10]} (edited since: not approved as it is now)"
    if status == "approved":
        return f"{by} on {str(at)[:10]}"
    return f"{by or '-'} (no content approval needed)"
