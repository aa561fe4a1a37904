"""A deployment's send rules may be stricter than the rulebook, never looser: each looser value
is named by its key and the rule it would break, at synth, in `baton validate` and at cold start."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from baton.bootstrap import build
from baton.clock import SystemClock
from baton.delivery import defaults
from baton.floors import looser_settings
from baton.settings import Settings
from infra.cli import main
from infra.config import BatonConfig
from infra.synth import cdk_json_context

ROOT = Path(__file__).resolve().parents[2]


def _found(**values: Any) -> list[str]:
    return [looser.describe() for looser in looser_settings(Settings.model_validate(values))]


def _deploy(**overrides: Any) -> dict[str, Any]:
    baton: dict[str, Any] = {**cdk_json_context()["baton"], **overrides}
    return baton


def test_baton_defaults_meet_every_floor() -> None:
    assert _found() == []


def test_stricter_rules_everywhere_are_accepted() -> None:
    assert (
        _found(
            quiet_hours="09:00-20:00",
            quiet_hours_by_country={"US": "10:00-19:00"},
            calling_windows={"br": {"mon-fri": "10:00-18:00"}, "PT": {"mon-fri": "10:00-17:00"}},
            calling_holidays={"BR": [*defaults.CALLING_HOLIDAYS["BR"], "easter+60"]},
            frequency_caps=[{"purpose": "marketing", "channel": None, "limit": 1, "days": 14}],
            token_ttl_days=365,
            sms_keywords={"optOut": ["PARE"], "help": ["INFO"]},
        )
        == []
    )


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"quiet_hours": "07:30-21:00"}, "quietHours"),
        ({"quiet_hours": "08:00-21:30"}, "quietHours"),
        ({"quiet_hours": "22:00-06:00"}, "quietHours"),
        ({"quiet_hours_by_country": {"US": "08:00-22:00", "US-FL": "08:00-20:00"}}, "quietHoursByCountry.US"),
        ({"quiet_hours": "8am-9pm"}, "quietHours"),
    ],
)
def test_r_tcpa_2_quiet_hours_may_narrow_never_widen(values: dict[str, Any], key: str) -> None:
    (found,) = _found(**values)

    assert found.startswith(f"{key}: ")
    assert found.endswith("(R-TCPA-2)")


@pytest.mark.parametrize(
    "by_place",
    [{}, {"US-FL": "08:00-21:00"}, {"us-fl": "08:00-20:30"}, {"US": "08:00-20:30"}],
)
def test_r_tcpa_2_floridas_2000_end_cannot_be_widened_or_dropped(by_place: dict[str, str]) -> None:
    (found,) = _found(quiet_hours_by_country=by_place)

    assert found.startswith("quietHoursByCountry.US-FL: US-FL would get ")
    assert found.endswith("(R-TCPA-2)")


def test_r_tcpa_2_a_stricter_country_window_covers_florida_too() -> None:
    assert _found(quiet_hours_by_country={"US": "09:00-19:00"}) == []
    assert _found(quiet_hours="09:00-19:30", quiet_hours_by_country={}) == []


@pytest.mark.parametrize(
    "windows",
    [
        {"BR": {"mon-sun": "09:00-21:00"}},  # Sundays
        {"BR": {"mon-fri": "08:00-21:00", "sat": "10:00-16:00"}},  # weekdays from 08:00
        {"BR": {"mon-fri": "09:00-21:00", "sat": "10:00-18:00"}},  # Saturday to 18:00
        {"US": {"mon-fri": "09:00-17:00"}},  # Brazil's window dropped
        {},
    ],
)
def test_r_br_1_a_calling_window_may_narrow_never_widen_or_go(windows: dict[str, Any]) -> None:
    (found,) = _found(calling_windows=windows)

    assert found.startswith("callingWindows.BR: ")
    assert found.endswith("(R-BR-1)")


@pytest.mark.parametrize("holidays", [{"BR": []}, {"br": ["01-01"]}, {}, {"BR": ["easter-48"]}])
def test_r_br_1_the_holiday_list_keeps_every_national_holiday(holidays: dict[str, list[str]]) -> None:
    (found,) = _found(calling_holidays=holidays)

    assert found.startswith("callingHolidays.")
    assert ": leaves out national holidays " in found
    assert found.endswith("(R-BR-1)")


def test_a_holiday_that_is_not_a_date_is_named() -> None:
    found = _found(calling_holidays={"BR": [*defaults.CALLING_HOLIDAYS["BR"], "Good Friday"]})

    assert found == [
        "callingHolidays.BR: 'Good Friday' is not a holiday: use MM-DD, YYYY-MM-DD or easter-N (R-BR-1)"
    ]


@pytest.mark.parametrize("days", [1, 29, 30, 59])
def test_r_casl_3_links_must_work_for_60_days(days: int) -> None:
    (found,) = _found(token_ttl_days=days)

    assert found.startswith("tokenTtlDays: ")
    assert found.endswith("(R-CASL-3)")


@pytest.mark.parametrize(
    "caps",
    [
        [],
        [{"purpose": "marketing", "channel": None, "limit": 4, "days": 7}],
        [{"purpose": "marketing", "channel": None, "limit": 3, "days": 6}],
        [{"purpose": "marketing", "channel": "sms", "limit": 1, "days": 7}],  # email unlimited
        [{"purpose": "transactional", "channel": None, "limit": 3, "days": 7}],
    ],
)
def test_a_frequency_cap_may_be_lowered_never_raised_or_dropped(caps: list[dict[str, Any]]) -> None:
    (found,) = _found(frequency_caps=caps)

    assert found.startswith("frequencyCaps: no cap as strict as 3 marketing messages per 7 days")


@pytest.mark.parametrize(
    ("keywords", "rule"),
    [
        ({"confirm": ["Stop!"]}, "R-CTIA-1"),  # an opt-out must never read as consent
        ({"optIn": ["help"]}, "R-CTIA-2"),
        ({"confirm": ["unstop"]}, "R-CTIA-4"),
        ({"stopWords": ["PARE"]}, "R-CTIA-1"),
        ({"optOut": ["  "]}, "R-CTIA-1"),
    ],
)
def test_keyword_lists_only_grow_and_a_word_keeps_one_meaning(
    keywords: dict[str, list[str]], rule: str
) -> None:
    (found,) = _found(sms_keywords=keywords)

    assert found.startswith("smsKeywords")
    assert found.endswith(f"({rule})")


def test_synth_refuses_a_looser_rule_naming_its_cdk_json_key_and_rule() -> None:
    looser = _deploy(tokenTtlDays=1, delivery={"callingWindows": {"BR": {"mon-sun": "09:00-21:00"}}})

    with pytest.raises(ValidationError) as raised:
        BatonConfig.model_validate(looser)

    message = str(raised.value)
    assert "baton.tokenTtlDays: " in message
    assert "(R-CASL-3)" in message
    assert "baton.delivery.callingWindows.BR: opens outside the allowed hours on sat, sun" in message
    assert "(R-BR-1)" in message


def test_cdk_json_as_shipped_passes_the_floors() -> None:
    config = BatonConfig.model_validate(_deploy())

    assert looser_settings(config.runtime_settings()) == []


def test_baton_validate_checks_cdk_json_and_counts_its_issues(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cdk_json = tmp_path / "cdk.json"
    looser = _deploy(delivery={"callingHolidays": {"BR": []}, "quietHours": "07:00-22:00"})
    cdk_json.write_text(json.dumps({"context": {"baton": looser}}), encoding="utf-8")

    code = main(["validate", str(ROOT / "journeys"), "--config", str(cdk_json)])

    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert (
        f"{cdk_json}: baton.delivery.quietHours: 07:00-22:00 opens outside 08:00-21:00, local time (R-TCPA-2)"
        in lines
    )
    assert any(line.startswith(f"{cdk_json}: baton.delivery.callingHolidays.BR: ") for line in lines)
    assert lines[-1] == "2 issues."


def test_baton_validate_names_a_wrongly_typed_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": {"baton": _deploy(tokenTtlDays="soon")}}), encoding="utf-8")

    assert main(["validate", str(ROOT / "journeys"), "--config", str(cdk_json)]) == 1
    assert any(
        line.startswith(f"{cdk_json}: baton.tokenTtlDays: ") for line in capsys.readouterr().out.splitlines()
    )


def test_a_function_refuses_to_start_with_a_looser_rule() -> None:
    # Settings reach a function through its environment: one edited by hand is caught too.
    with pytest.raises(ValueError, match=r"calling_holidays\.BR: .*\(R-BR-1\)"):
        build(Settings(calling_holidays={"BR": ["01-01"]}), SystemClock())


def test_a_hand_written_sms_frequency_is_refused_for_the_one_the_caps_allow() -> None:
    with pytest.raises(ValidationError, match=r"smsFrequency[\s\S]*frequencyCaps allow"):
        BatonConfig.model_validate(_deploy(smsFrequency="Up to 4 msgs/month"))
