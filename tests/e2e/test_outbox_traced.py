"""Nothing orphaned: every message in the outbox of a local stack that ran the whole demo is
traced back to an inventory entry with an owner.

Each message is traced the way a person would: by the provider's message id the outbox shows
(`GET /v1/messages/{id}`), and when no timeline has it (a built-in sent to staff or to a number
with no contact, or an erased contact's message) by its words (`POST /v1/messages/search`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from infra.demo import START, Demo, FiguresDemo, InventoryDemo, JourneyDemo, RelayDemo
from infra.http_client import LocalClient
from infra.local import LocalStack
from infra.local.clock import VirtualClock

pytestmark = pytest.mark.e2e


def _ok(answer: Any) -> Any:
    assert answer.status == 200, answer.text
    return answer.json()


def _by_words(api: LocalClient, message: dict[str, Any]) -> tuple[str, str] | None:
    """(inventory id, owner) of the best template match of the message's subject or text."""
    for words in (message.get("subject"), message.get("body")):
        if not words:
            continue
        matches = _ok(api.post("/v1/messages/search", json_body={"text": words}))["matches"]
        if matches and matches[0]["inventory_ids"]:
            return matches[0]["inventory_ids"][0], matches[0]["owner"]
    return None


def _traced(api: LocalClient, message: dict[str, Any]) -> tuple[str, str, str] | None:
    """(how, inventory id, owner), or None when the message cannot be traced."""
    answer = api.get(f"/v1/messages/{message['message_id']}")
    if answer.status == 200 and answer.json().get("inventory_id"):
        trace = answer.json()
        return "id", trace["inventory_id"], trace["owner"]
    assert answer.status == 404, answer.text
    found = _by_words(api, message)
    return ("words", *found) if found else None


@pytest.fixture(scope="module")
def api(synthesized_template: dict[str, Any]) -> Iterator[LocalClient]:
    """A stack of its own: its outbox holds the demo's messages and nothing else."""
    with LocalStack(synthesized_template, prefix="traced", clock=VirtualClock(START)) as stack:
        yield LocalClient(stack.base_url, stack.token)


def test_every_message_the_demo_sent_is_traced_to_an_inventory_entry_with_an_owner(api: LocalClient) -> None:
    # given the whole demo has run (sign-ups, journeys, hand-offs, HELP and STOP replies, and
    # the clock moved months on past a review date, schedules firing on the way)
    lines: list[str] = []
    for demo in (Demo, JourneyDemo, RelayDemo, FiguresDemo, InventoryDemo):
        demo(api, lines.append).run()
    shown = "\n".join(lines)
    outbox = _ok(api.get("/_local/outbox"))
    inventory = {entry["id"]: entry for entry in _ok(api.get("/v1/inventory"))["items"]}
    assert len(outbox) >= 15

    # when each message is traced
    untraced, ways = [], set()
    for message in outbox:
        found = _traced(api, message)
        if found is None or found[1] not in inventory:
            untraced.append((message["channel"], message.get("subject"), message["body"][:60], found))
            continue
        how, inventory_id, owner = found
        ways.add((how, inventory_id.split("/")[0]))
        # then it names an owner, the inventory entry's own
        assert owner, inventory_id
        assert owner == inventory[inventory_id]["owner"], inventory_id

    assert untraced == []
    # journey sends by id; built-ins by id on a contact's timeline or by their words
    # and the demo showed a text traced to its owner, an edit refused, a journey closed
    assert "Inventory demo finished." in shown
    assert "content changed after approval by" in shown  # baton validate refuses the edit
    assert "Approved welcome-tip by legal@example.com" in shown  # and passes it re-approved
    assert re.search(r"journey/welcome/hello .* overdue", shown)
    assert re.search(r"journey/welcome/hello .* closed", shown)
    assert "journey.not_admitted" in shown  # Iris was not admitted
    assert ways == {("id", "journey"), ("id", "builtin"), ("words", "journey"), ("words", "builtin")}
