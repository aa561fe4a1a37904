"""Nothing orphaned: every message in the session stack's outbox (the demo's and every other
end-to-end test's) is traced back to an inventory entry with an owner; then the inventory demo
moves the clock past a review date.

Each message is traced the way a person would: by the provider's message id the outbox shows
(`GET /v1/messages/{id}`), and when no timeline has it (a built-in sent to staff or to a number
with no contact, or an erased contact's message) by its words (`POST /v1/messages/search`)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra.demo import CARLA_PHONE, Demo, InventoryDemo, JourneyDemo, RelayDemo
from infra.http_client import LocalClient

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


def _demo_has_run(api: LocalClient) -> bool:
    """Whether the session already ran the journey demo (Carla's welcome text is in the outbox)."""
    return any(message["to"] == CARLA_PHONE for message in _ok(api.get("/_local/outbox")))


@pytest.mark.ends_session_clock
def test_every_message_in_the_outbox_is_traced_to_an_inventory_entry_with_an_owner(api: LocalClient) -> None:
    # given the demo has run on the session stack (here, when this test runs alone), and the
    # inventory demo moved the clock months on, past welcome's review date, schedules and
    # digests firing on the way
    if not _demo_has_run(api):
        for demo in (Demo, JourneyDemo, RelayDemo):
            demo(api, lambda line: None).run()
    lines: list[str] = []
    InventoryDemo(api, lines.append).run()
    outbox = _ok(api.get("/_local/outbox"))
    inventory = {entry["id"]: entry for entry in _ok(api.get("/v1/inventory"))["items"]}

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
    assert ways == {("id", "journey"), ("id", "builtin"), ("words", "journey"), ("words", "builtin")}

    # and the inventory demo showed a text traced to its owner, an edit refused, a journey closed
    shown = "\n".join(lines)
    assert "Inventory demo finished." in shown
    assert re.search(r"welcome-hello \[pt-BR sms text\]\s+owner growth@example.com", shown)
    assert "content changed after approval by" in shown  # baton validate refuses the edit
    assert "Approved welcome-tip by legal@example.com" in shown  # and passes it re-approved
    assert re.search(r"journey/welcome/hello .* overdue", shown)
    assert re.search(r"journey/welcome/hello .* closed", shown)
    assert "journey.not_admitted" in shown  # Iris was not admitted
