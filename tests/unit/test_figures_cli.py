"""`baton figures`: the route's answer as a table a marketer reads, or as JSON."""

from __future__ import annotations

import json
from typing import Any

from infra import figures

ANSWER: dict[str, Any] = {
    "journey": "spring-sale",
    "from": "2026-05-01",
    "to": "2026-05-30",
    "totals": {"entered": 300, "sent": 210, "delivered": 180, "skipped.no_consent": 30, "completed": 210},
    "rates": {"delivered": 180 / 210, "bounced": None},
    "steps": [
        {"step": "-", "template": None, "totals": {"entered": 300}, "channels": {}},
        {
            "step": "note",
            "template": "sale-note",
            "totals": {"sent": 210, "delivered": 180, "skipped.no_consent": 30, "completed": 210},
            "channels": {"email": {"sent": 210}},
        },
    ],
    "channels": {"email": {"sent": 210, "delivered": 180, "skipped.no_consent": 30}},
    "days": [],
    "variants": [
        {
            "variant": "short",
            "entered": 100,
            "converted": 45,
            "conversion_rate": 0.45,
            "lift": 0.5,
            "p_value": 0.02846,
            "test": "two-proportion z-test",
        }
    ],
    "holdout": {"variant": "holdout", "entered": 100, "converted": 30, "conversion_rate": 0.3},
}


class Answer:
    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self._body = body

    def json(self) -> Any:
        return self._body


class Api:
    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.paths: list[str] = []

    def get(self, path: str, **_: Any) -> Answer:
        self.paths.append(path)
        return self.answer


def test_the_table_shows_the_funnel_by_step_the_reasons_and_the_variants_against_the_holdout() -> None:
    printed: list[str] = []
    api = Api(Answer(200, ANSWER))

    assert figures.show(api, "spring-sale", "2026-05-01", None, out=printed.append) == 0

    assert api.paths == ["/v1/journeys/spring-sale/figures?from=2026-05-01"]
    text = printed[0]
    assert "note [sale-note]" in text
    assert "skipped by reason: no_consent 30" in text
    assert "delivered 85.7%" in text
    assert "short" in text
    assert "lift +50.0%" in text
    assert "p 0.028" in text


def test_json_prints_the_routes_answer_and_an_error_names_the_field() -> None:
    printed: list[str] = []
    assert (
        figures.show(Api(Answer(200, ANSWER)), "spring-sale", None, None, as_json=True, out=printed.append)
        == 0
    )
    assert json.loads(printed[0]) == ANSWER
    refused = {
        "error": {"code": "invalid_field", "message": "from is not a date", "details": [{"field": "from"}]}
    }
    assert figures.show(Api(Answer(422, refused)), "spring-sale", "x", None, out=printed.append) == 1
    assert printed[-1] == "baton figures: from is not a date (from)"
