"""No input reaches a 5xx: bodies that are not UTF-8, JSON too deep, numbers DynamoDB cannot
store, NaN, text that is not valid Unicode and ids that are not ids are refused with a 4xx that
names the field, before anything is written, started or sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from baton.settings import Settings
from tests.integration import handler_calls
from tests.integration.handler_calls import Answer, Baton

EVENT = {"contact_id": "ana", "type": "order.shipped", "idempotency_key": "ship-1"}


@pytest.fixture
def baton(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Baton]:
    yield handler_calls.start_with_ana(aws, monkeypatch)
    handler_calls.stop()


def _refused(answer: Answer, status: int, field: str) -> None:
    assert answer.status == status, answer
    assert set(answer.body) == {"error"}
    assert field in answer.fields, answer.body


def _refused_writing_nothing(
    baton: Baton, status: int, field: str, method: str, path: str, **kw: Any
) -> None:
    before = baton.snapshot()

    answer = baton.call(method, path, **kw)

    _refused(answer, status, field)
    assert baton.snapshot() == before, (method, path)


def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


JSON_ROUTES = [
    ("POST", "/v1/events"),
    ("PUT", "/v1/contacts/ana"),
    ("POST", "/v1/contacts/ana/consents"),
    ("POST", "/v1/subscriptions"),
    ("POST", "/v1/tasks/task-0123456789abcdef0123456789abcdef/complete"),
    ("PUT", "/v1/do-not-contact/br_nao_me_perturbe"),
    ("PUT", "/v1/do-not-contact/br_nao_me_perturbe/loads/01M8VY6Y3E0CGKP5DJTTA37EZX/parts/1"),
    ("POST", "/v1/do-not-contact/br_nao_me_perturbe/loads/01M8VY6Y3E0CGKP5DJTTA37EZX/commit"),
]


def test_a_body_that_is_not_utf8_is_400_naming_the_body_and_writes_nothing(baton: Baton) -> None:
    for method, path in [*JSON_ROUTES, ("POST", "/v1/unsubscribe/some-token"), ("GET", "/v1/contacts/ana")]:
        _refused_writing_nothing(baton, 400, "body", method, path, raw=b'{"email": "\xff\xfe@example.com"}')


def test_json_nested_a_thousand_deep_is_413_and_writes_nothing(baton: Baton) -> None:
    for method, path in JSON_ROUTES:
        _refused_writing_nothing(baton, 413, "body", method, path, raw='{"data": ' + _deep(1000) + "}")


def test_nan_and_infinity_are_400_malformed_json_and_start_nothing(baton: Baton) -> None:
    for constant in ("NaN", "Infinity", "-Infinity"):
        raw = json.dumps({**EVENT, "data": {"x": 1}}).replace("1}", f"{constant}}}")
        _refused_writing_nothing(baton, 400, "body", "POST", "/v1/events", raw=raw)
        assert baton.call("POST", "/v1/events", raw=raw).body["error"]["code"] == "malformed_json"


def test_event_data_with_a_number_dynamodb_cannot_store_is_422_naming_it_and_starts_nothing(
    baton: Baton,
) -> None:
    for number in ("1e308", "1e400", "-1e-200", "1234567890123456789012345678901234567890", "5e-324"):
        raw = json.dumps({**EVENT, "data": {"order": {"total": 0}}}).replace(
            '"total": 0', f'"total": {number}'
        )
        _refused_writing_nothing(baton, 422, "data.order.total", "POST", "/v1/events", raw=raw)


def test_an_integer_too_long_to_read_is_400_malformed_json_and_starts_nothing(baton: Baton) -> None:
    raw = json.dumps({**EVENT, "data": {"n": 0}}).replace('"n": 0', '"n": ' + "7" * 5000)
    _refused_writing_nothing(baton, 400, "body", "POST", "/v1/events", raw=raw)


def test_contact_attributes_with_a_number_dynamodb_cannot_store_are_422_naming_it(baton: Baton) -> None:
    raw = '{"attributes": {"score": [1, 2, 99e300]}}'
    _refused_writing_nothing(baton, 422, "attributes.score.2", "PUT", "/v1/contacts/ana", raw=raw)


def test_a_corrected_retry_with_the_same_key_starts_the_journey(baton: Baton) -> None:
    # given an event refused for its data
    raw = json.dumps({**EVENT, "data": {"n": 0}}).replace("0}", "1e308}")
    assert baton.call("POST", "/v1/events", raw=raw).status == 422

    # when the caller fixes the data and retries with the same idempotency key
    answer = baton.call("POST", "/v1/events", {**EVENT, "data": {"n": 1}})

    # then the journey starts, once
    assert answer.status == 202
    assert answer.body == {"journeys_started": ["order-shipped"]}
    assert len(baton.snapshot()["executions"]) == 1


def test_contact_attributes_nested_deeper_than_a_document_holds_are_422_naming_the_path(baton: Baton) -> None:
    nested: dict[str, Any] = {}
    level = nested
    for _ in range(20):
        level["a"] = {}
        level = level["a"]
    before = baton.snapshot()

    answer = baton.call("PUT", "/v1/contacts/ana", {"attributes": {"plan": nested}})

    assert answer.status == 422
    assert any(field.startswith("attributes.plan.a.a") for field in answer.fields), answer.body
    assert baton.snapshot() == before


SURROGATES: list[tuple[str, str, dict[str, Any], str]] = [
    ("POST", "/v1/events", {**EVENT, "data": {"note": "\ud800"}}, "data.note"),
    ("POST", "/v1/events", {**EVENT, "data": {"\udc00": 1}}, "data.[key]"),
    ("PUT", "/v1/contacts/ana", {"attributes": {"tags": ["ok", "\ud83d"]}}, "attributes.tags.1"),
    ("PUT", "/v1/contacts/ana", {"first_name": "An\ud800a"}, "first_name"),
    ("PUT", "/v1/contacts/ana", {"email": "an\udfffa@example.com"}, "email"),
    ("PUT", "/v1/contacts/ana", {"phone": "+1425\ud8005550182"}, "phone"),
    (
        "POST",
        "/v1/contacts/ana/consents",
        {"channel": "email", "topic": "news", "status": "granted", "proof": {"note": "\ud800"}},
        "proof.note",
    ),
    ("POST", "/v1/subscriptions", {"email": "b\ud800@example.com", "channels": ["email"]}, "email"),
    (
        "POST",
        "/v1/tasks/task-0123456789abcdef0123456789abcdef/complete",
        {"outcome": "x", "note": "\udbff"},
        "note",
    ),
]


def test_a_lone_surrogate_in_any_string_is_422_naming_the_field_and_writes_nothing(baton: Baton) -> None:
    for method, path, body, field in SURROGATES:
        _refused_writing_nothing(baton, 422, field, method, path, body=body)


BAD_IDS = ["..", "a%2Fb", "x" * 200, ".hidden", "a%00", "-a"]


def test_a_contact_id_in_the_path_is_checked_like_one_in_a_body(baton: Baton) -> None:
    routes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("PUT", "", {"email": "new@example.com"}),
        ("GET", "", None),
        ("DELETE", "", None),
        ("GET", "/export", None),
        ("GET", "/timeline", None),
        ("POST", "/consents", {"channel": "email", "topic": "news", "status": "revoked"}),
    ]
    for contact_id in BAD_IDS:
        for method, suffix, body in routes:
            path = f"/v1/contacts/{contact_id}{suffix}"
            _refused_writing_nothing(baton, 422, "contact_id", method, path, body=body)


def test_an_event_for_a_contact_id_that_is_not_one_is_422_naming_it(baton: Baton) -> None:
    for contact_id in [*BAD_IDS, "a/b", "a b"]:
        body = {**EVENT, "contact_id": contact_id}
        _refused_writing_nothing(baton, 422, "contact_id", "POST", "/v1/events", body=body)


def test_a_task_id_that_is_not_one_is_422_naming_it(baton: Baton) -> None:
    for task_id in ["..", "task-XYZ", "task-" + "0" * 200, "a%2Fb"]:
        path = f"/v1/tasks/{task_id}/complete"
        _refused_writing_nothing(baton, 422, "task_id", "POST", path, body={"outcome": "done"})
