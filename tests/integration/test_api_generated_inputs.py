"""Generated requests over every API route: no answer is a 5xx, and a 4xx writes nothing (the
tables, the messages sent and the executions started are the same after it as before).

Bodies mix well-formed requests with one field replaced, arbitrary JSON, JSON text with numbers
DynamoDB cannot store, NaN and deep nesting, text that is not valid Unicode, and bytes that are
not UTF-8; path ids mix valid ids with arbitrary percent-encoded text.

The suite sends 1,000 requests (under a minute); `make bench` sends 5,200 by setting
BATON_GENERATED_REQUESTS. Both runs are derandomized: the same requests every time.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from baton.settings import Settings
from tests.integration import handler_calls
from tests.integration.handler_calls import Baton

REQUESTS_PER_EXAMPLE = 10
REQUESTS = int(os.environ.get("BATON_GENERATED_REQUESTS", "1000"))
TASK_ID = "task-0123456789abcdef0123456789abcdef"

# Every character, lone surrogates included, with the ones attacks favour made likely.
_CHARS = st.one_of(
    st.characters(exclude_categories=()), st.sampled_from(["\ud800", "\udfff", "%", "/", ".", "\x00"])
)
TEXT = st.one_of(
    st.text(_CHARS, max_size=12),
    st.sampled_from(["", " ", "..", "a%2Fb", "STOP \ud83d", "javascript:alert(1)", "x" * 300, "ana"]),
)
NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=10**38, max_value=10**45),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e-200, 5e-324, 1e126, 9.99e125, 0.1]),
)
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBERS, TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=8,
)
CONTACT_IDS = st.one_of(st.sampled_from(["ana", "bo", "nobody"]), TEXT)
TASK_IDS = st.one_of(st.just(TASK_ID), TEXT)

VALID_BODIES: dict[str, dict[str, Any]] = {
    "contact": {
        "email": "bo@example.com",
        "phone": "+14255550199",
        "first_name": "Bo",
        "attributes": {"plan": "pro"},
    },
    "consent": {"channel": "email", "topic": "news", "status": "granted", "proof": {"note": "on the phone"}},
    "event": {"contact_id": "ana", "type": "order.shipped", "data": {"tracking_url": "https://t.example/1"}},
    "subscription": {
        "email": "cy@example.com",
        "channels": ["email"],
        "topics": ["news"],
        "consent_text": "Yes",
    },
    "completion": {"outcome": "done", "note": "called back"},
    "search": {"text": "your order has shipped. Track it here"},
}


@st.composite
def bodies(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    """A body: valid, with one field set to anything, or anything at all; or raw text."""
    valid = dict(VALID_BODIES[kind])
    if kind == "event":
        valid["idempotency_key"] = draw(st.sampled_from(["k1", "k2", "k3"]))
    shape = draw(
        st.sampled_from(["valid", "field", "field", "extra", "any", "raw", "bytes", "deep", "number"])
    )
    if shape == "valid":
        return {"body": valid}
    if shape == "field":
        valid[draw(st.sampled_from(sorted(valid)))] = draw(JSON_VALUES)
        return {"body": valid}
    if shape == "extra":
        return {"body": {**valid, "data": draw(JSON_VALUES), "attributes": draw(JSON_VALUES)}}
    if shape == "any":
        return {"body": draw(JSON_VALUES)}
    if shape == "bytes":
        return {"raw": draw(st.binary(max_size=40)) + b"\xff"}
    if shape == "deep":
        levels = draw(st.integers(min_value=15, max_value=1200))
        return {
            "raw": json.dumps({**valid, "data": {"x": 0}}).replace(
                '"x": 0', '"x": ' + "[" * levels + "]" * levels
            )
        }
    if shape == "number":
        number = draw(
            st.sampled_from(["1e308", "1e400", "-1e-200", "NaN", "-Infinity", "1" * 40, "1e-131", "7" * 5000])
        )
        field = "attributes" if kind == "contact" else "data"
        return {"raw": json.dumps({**valid, field: {"n": 0}}).replace('"n": 0', f'"n": {number}')}
    return {"raw": draw(st.text(_CHARS, max_size=30))}


def _id(value: str) -> str:
    # Percent-encoded as a browser would, a lone surrogate as the bytes it would have in UTF-8.
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


@st.composite
def requests(draw: st.DrawFn) -> tuple[int, str, str, dict[str, Any]]:
    """(route number, method, path, call keywords) for one of the API's routes."""
    contact = _id(draw(CONTACT_IDS))
    token = _id(draw(TEXT))
    route = draw(st.integers(min_value=0, max_value=20))
    options: dict[int, tuple[str, str, str | None]] = {
        0: ("PUT", f"/v1/contacts/{contact}", "contact"),
        1: ("GET", f"/v1/contacts/{contact}", None),
        2: ("DELETE", f"/v1/contacts/{contact}", None),
        3: ("GET", f"/v1/contacts/{contact}/export", None),
        4: ("GET", f"/v1/contacts/{contact}/timeline", None),
        5: ("POST", f"/v1/contacts/{contact}/consents", "consent"),
        6: ("POST", "/v1/events", "event"),
        7: ("GET", "/v1/journeys", None),
        8: ("GET", f"/v1/journeys/{_id(draw(st.one_of(st.just('welcome'), TEXT)))}", None),
        9: ("GET", "/v1/tasks", None),
        10: ("POST", f"/v1/tasks/{_id(draw(TASK_IDS))}/complete", "completion"),
        11: ("POST", "/v1/subscriptions", "subscription"),
        12: ("GET", f"/v1/confirm/{token}", None),
        13: ("GET", f"/v1/preferences/{token}", None),
        14: ("POST", f"/v1/preferences/{token}", None),
        15: ("POST", f"/v1/unsubscribe/{token}", None),
        16: ("POST", f"/v1/confirm/{token}", None),
        17: ("GET", f"/v1/unsubscribe/{token}", None),
        18: ("GET", f"/v1/messages/{token}", None),
        19: ("GET", "/v1/messages", None),
        20: ("POST", "/v1/messages/search", "search"),
    }
    method, path, kind = options[route]
    call: dict[str, Any] = draw(bodies(kind)) if kind else {}
    if route in (14, 15, 16):
        call = {"raw": draw(st.one_of(st.just("List-Unsubscribe=One-Click"), st.text(_CHARS, max_size=30)))}
        call["headers"] = {"Content-Type": "application/x-www-form-urlencoded"}
    if route == 4:
        call["query"] = draw(st.fixed_dictionaries({}, optional={"limit": TEXT, "cursor": TEXT}))
    if route == 9:
        call["query"] = draw(st.fixed_dictionaries({}, optional={"queue": TEXT}))
    if route == 19:
        call["query"] = draw(st.fixed_dictionaries({}, optional={"text": TEXT}))
    return route, method, path, call


@pytest.fixture
def baton(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Baton]:
    stack = handler_calls.start(aws, monkeypatch)
    assert (
        stack.call("PUT", "/v1/contacts/ana", {"email": "ana@example.com", "phone": "+14255550182"}).status
        == 201
    )
    yield stack
    handler_calls.stop()


def test_no_generated_request_to_any_route_answers_5xx_or_writes_on_a_4xx(baton: Baton) -> None:
    statuses: Counter[int] = Counter()
    routes: Counter[int] = Counter()

    @settings(
        max_examples=REQUESTS // REQUESTS_PER_EXAMPLE,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )
    @given(st.lists(requests(), min_size=REQUESTS_PER_EXAMPLE, max_size=REQUESTS_PER_EXAMPLE))
    def every_route(batch: list[tuple[int, str, str, dict[str, Any]]]) -> None:
        for route, method, path, call in batch:
            before = baton.snapshot()
            answer = baton.call(method, path, **call)
            statuses[answer.status] += 1
            routes[route] += 1
            assert answer.status < 500, (method, path, call, answer)
            if 400 <= answer.status < 500:
                assert baton.snapshot() == before, (method, path, call, answer)

    every_route()

    total = sum(statuses.values())
    print(f"\n{total} generated requests by status: {dict(sorted(statuses.items()))}")
    print(f"by route: {dict(sorted(routes.items()))}")
    assert total >= REQUESTS
    assert len(routes) == 21, routes  # every route was called
    assert sum(n for status, n in statuses.items() if status < 300) > 100  # valid requests went through too
