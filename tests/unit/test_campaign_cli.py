"""`baton campaign`: the progress it prints while a run goes on, and its answers to refusals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra import campaign


@dataclass
class _Answer:
    status: int
    body: Any

    def json(self) -> Any:
        return self.body


class _Api:
    """Answers GET with the next of `views`, as the run moves on."""

    def __init__(self, views: list[dict[str, Any]], post: _Answer | None = None) -> None:
        self.views = views
        self.posted: list[tuple[str, Any]] = []
        self._post = post

    def get(self, path: str, **_: Any) -> _Answer:
        return _Answer(200, self.views.pop(0) if len(self.views) > 1 else self.views[0])

    def post(self, path: str, **kwargs: Any) -> _Answer:
        self.posted.append((path, kwargs.get("json_body")))
        return self._post or _Answer(202, {"run_id": "run-1", "status": "scheduled", "path": "batch"})


def _view(status: str, sent: int, audience: int | None = 1000, **extra: Any) -> dict[str, Any]:
    return {
        "status": status,
        "audience": audience,
        "sent": sent,
        "skipped": 0,
        "failed": 0,
        "handed_on": 0,
        **extra,
    }


def test_status_prints_a_line_each_time_the_figures_change_until_the_run_ends() -> None:
    api = _Api(
        [
            _view("scheduled", 0, audience=None),
            _view("running", 400, rate_per_second=12.5),
            _view("running", 400, rate_per_second=12.5),
            _view("completed", 990, skipped=10, skipped_by_reason={"no_consent": 10}),
        ]
    )
    written: list[str] = []
    naps: list[float] = []

    code = campaign.follow(api, "run-1", tty=False, write=written.append, sleep=naps.append)

    assert code == 0
    lines = "".join(written).splitlines()
    assert lines[0].startswith("[audience not taken yet]")
    assert lines[1].startswith("[############..................] 400/1,000  sent 400")
    assert "12.5/s" in lines[1]
    assert lines[2].startswith("[##############################] 1,000/1,000  sent 990  skipped 10")
    assert lines[3] == "skipped by reason: no_consent 10"
    assert len(naps) == 3  # asked again after each reading until the end


def test_on_a_terminal_the_progress_line_is_redrawn_in_place() -> None:
    api = _Api([_view("running", 10), _view("completed", 1000)])
    written: list[str] = []

    campaign.follow(api, "run-1", tty=True, write=written.append, sleep=lambda _: None)

    assert all(text.startswith("\r\x1b[2K") for text in written[:2])
    assert written[-1] == "\n"


def test_a_refused_start_says_which_field_and_starts_nothing() -> None:
    refusal = _Answer(
        422,
        {
            "error": {
                "code": "invalid_field",
                "message": "No segment 'vip' in the catalog.",
                "details": [{"field": "segment"}],
            }
        },
    )
    said: list[str] = []

    run_id = campaign.start(_Api([], post=refusal), "gold-monthly", "vip", None, out=said.append)

    assert run_id is None
    assert said == ["baton campaign: not started: No segment 'vip' in the catalog. (segment)"]


def test_a_start_sends_the_journey_segment_and_time() -> None:
    api = _Api([])

    assert (
        campaign.start(api, "gold-monthly", "gold-customers", "2027-01-04T09:00:00Z", out=lambda _: None)
        == "run-1"
    )
    assert api.posted == [
        (
            "/v1/campaigns",
            {"journey": "gold-monthly", "segment": "gold-customers", "at": "2027-01-04T09:00:00Z"},
        )
    ]
