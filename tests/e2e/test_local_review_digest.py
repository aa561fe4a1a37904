"""The weekly review digest on a local stack over HTTP, its clock pinned to March 2027 (the
sample journeys are due for review on 2027-03-01 and 2027-04-15): moving `/_local/clock` past
Monday 08:00 UTC fires the digest's schedule and the outbox has one digest per owner with
exactly their items; later in the same week nothing new; a week later, again.

A stack of its own (another stack name and sender domain, so nothing it creates is the session
stack's): the session stack's clock starts at today's date and only moves forward."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from baton.clock import to_iso
from infra.http_client import LocalClient
from infra.local import LocalStack
from infra.local.clock import VirtualClock
from infra.synth import synthesize

pytestmark = pytest.mark.e2e

SUNDAY = datetime(2027, 3, 7, 12, tzinfo=UTC)
MONDAY = datetime(2027, 3, 8, 8, tzinfo=UTC)  # ISO week 2027-W10
SENDER = "hello@digest.example.com"  # no `fallbackOwner`: the sender answers for the built-ins
GROWTH = "growth@example.com"  # owns `welcome`, due for review on 2027-03-01


@pytest.fixture(scope="module")
def digest_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    # No owners or review dates for the built-ins (the sample's cdk.json names them): the sender
    # answers for them, and they are overdue.
    context = {"baton": {"stackName": "Digest", "senderEmail": SENDER, "inventory": {}}}
    template = synthesize(tmp_path_factory.mktemp("digest-cdk.out"), bundling=False, context=context)
    with LocalStack(template, prefix="digest", stack_name="Digest", clock=VirtualClock(SUNDAY)) as started:
        yield started


@pytest.fixture(scope="module")
def client(digest_stack: LocalStack) -> LocalClient:
    return LocalClient(digest_stack.base_url, digest_stack.token)


def _move_to(client: LocalClient, moment: datetime) -> None:
    resp = client.post("/_local/clock", json_body={"to": to_iso(moment)})
    assert resp.status == 200, resp.text


def _digests(client: LocalClient) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = client.get("/_local/outbox").json()
    return [m for m in messages if str(m["subject"]).startswith("Baton review digest")]


def _listed(message: dict[str, Any]) -> list[str]:
    lines = str(message["body"]).splitlines()
    return [line.split(". ", 1)[1] for line in lines if line[:1].isdigit() and ". " in line]


def test_the_digest_goes_once_a_week_to_each_owner_with_exactly_their_items(
    digest_stack: LocalStack, client: LocalClient
) -> None:
    # just before Monday 08:00 UTC nothing has gone out
    _move_to(client, datetime(2027, 3, 8, 7, 59, tzinfo=UTC))
    assert _digests(client) == []

    # when the clock passes it
    _move_to(client, datetime(2027, 3, 8, 9, tzinfo=UTC))

    # then one digest per owner with something due, of exactly their items
    first = {m["to"]: m for m in _digests(client)}
    assert sorted(first) == [GROWTH, SENDER]  # ops@ and cx-team@ have nothing due
    assert _listed(first[GROWTH]) == ["journey/welcome/hello", "journey/welcome/tip"]
    assert first[GROWTH]["subject"] == "Baton review digest, week 2027-W10: 2 automations need you"
    assert "Review date: 2027-03-01" in first[GROWTH]["body"]
    assert first[GROWTH]["from"] == f"Baton Demo Co <{SENDER}>"  # the brand, from the sender
    built_ins = _listed(first[SENDER])
    assert "builtin/review-digest" in built_ins
    assert all(item.startswith("builtin/") for item in built_ins)

    # moving on within the same week sends nothing new
    _move_to(client, datetime(2027, 3, 14, 23, tzinfo=UTC))
    assert len(_digests(client)) == 2

    # a week later, again
    _move_to(client, datetime(2027, 3, 15, 9, tzinfo=UTC))
    again = _digests(client)[2:]
    assert sorted(m["to"] for m in again) == [GROWTH, SENDER]
    assert all("week 2027-W11" in m["subject"] for m in again)
    assert digest_stack.schedules is not None
    assert digest_stack.schedules.dead_letters == []
