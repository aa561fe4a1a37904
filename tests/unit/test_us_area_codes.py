"""The shipped area-code table is what phonenumbers' geocoder says today (R-TCPA-2 states)."""

from __future__ import annotations

from baton.delivery import us_area_codes
from baton.delivery.zones import number_region
from infra import area_codes


def test_the_shipped_table_matches_the_phonenumbers_release_in_use() -> None:
    # A failure means phonenumbers changed an answer: run `python -m infra.area_codes`.
    assert area_codes.build() == us_area_codes.AREA_CODE_STATES


def test_a_us_number_is_placed_in_its_state_and_others_are_not() -> None:
    assert number_region("+13055550100") == "US-FL"  # Miami
    assert number_region("+12125550100") == "US-NY"
    assert number_region("+12025550100") == "US-DC"
    assert number_region("+18005550100") is None  # toll-free: no state
    assert number_region("+14165550100") is None  # Toronto: not the US
    assert number_region("+5511912345678") is None
