"""`baton trace`: an id is looked up as one, a text (or an id no message has) is searched by the
POST, and the answer reads as what, to whom, why and whose."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from infra import trace

TRACE: dict[str, Any] = {
    "message_id": "m-1",
    "contact_id": "c-1",
    "channel": "sms",
    "purpose": "transactional",
    "sent_at": "2026-05-04T09:00:00Z",
    "provider": "sns",
    "provider_message_id": "p-1",
    "journey": "order-shipped",
    "step": "notify",
    "variant": None,
    "template": "order-shipped",
    "content_version": "sha256:0000000000000000000000000000000000000000000000000000000000000000",
    "content_current": False,
    "trigger": {"event_type": "order.shipped", "event_id": "ship-1", "started_at": "2026-05-04T09:00:00Z"},
    "owners": {"journey": "ops@example.com", "template": "ops@example.com"},
    "approval": {"approved_by": None},
    "deliveries": [],
}
MATCHES = {
    "matches": [
        {
            "template": "order-shipped",
            "locale": "en",
            "channel": "sms",
            "part": "text",
            "score": 31,
            "owner": "ops@example.com",
            "approval": {"approved_by": None},
            "used_by": [{"journey": "order-shipped", "step": "notify"}],
        }
    ]
}


@dataclass
class Answer:
    status: int
    body: Any

    def json(self) -> Any:
        return self.body


@dataclass
class FakeApi:
    messages: dict[str, Any]
    asked: list[tuple[str, str, Any]] = field(default_factory=list)

    def get(self, path: str, **kwargs: Any) -> Answer:
        self.asked.append(("GET", path, None))
        found = self.messages.get(path.rsplit("/", 1)[-1])
        if found is None:
            return Answer(404, {"error": {"code": "not_found", "message": "No message", "details": []}})
        return Answer(200, found)

    def post(self, path: str, **kwargs: Any) -> Answer:
        self.asked.append(("POST", path, kwargs.get("json_body")))
        return Answer(200, MATCHES)


def test_an_id_prints_the_journey_trigger_owners_and_whether_the_words_changed() -> None:
    printed: list[str] = []
    assert trace.show(FakeApi({"p-1": TRACE}), "p-1", out=printed.append) == 0
    (text,) = printed
    assert "journey     order-shipped, step notify" in text
    assert "order.shipped event ship-1" in text
    assert "the template has changed since" in text
    assert "owners      journey ops@example.com, template ops@example.com" in text


def test_a_text_goes_in_the_body_of_the_search_never_in_a_url() -> None:
    api = FakeApi({})
    printed: list[str] = []
    assert trace.show(api, "your order 42 has shipped", out=printed.append) == 0
    assert api.asked == [("POST", "/v1/messages/search", {"text": "your order 42 has shipped"})]
    assert "31  order-shipped [en sms text]" in printed[0]
    assert "used by order-shipped/notify" in printed[0]


def test_an_id_no_message_has_is_searched_as_text_and_json_is_printed_as_it_is() -> None:
    api = FakeApi({})
    printed: list[str] = []
    assert trace.show(api, "Shipped", as_json=True, out=printed.append) == 0
    assert [method for method, _, _ in api.asked] == ["GET", "POST"]
    assert json.loads(printed[0]) == MATCHES
