"""SMS encoding and billed parts (R-SMS-1)."""

from __future__ import annotations

import pytest

from baton.sms.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    Encoding,
    SegmentCount,
    count_segments,
    encoding_of,
    non_gsm_characters,
)


def test_r_sms_1_gsm7_tables_have_the_3gpp_sizes() -> None:
    assert len(GSM7_BASIC) == 127  # 128 codes, one of them the escape to the extension table
    assert len(GSM7_EXTENSION) == 10


@pytest.mark.parametrize(
    ("length", "parts"),
    [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_r_sms_1_gsm7_holds_160_in_one_part_and_153_per_part_when_split(length: int, parts: int) -> None:
    count = count_segments("a" * length)

    assert (count.encoding, count.units, count.parts) == (Encoding.GSM7, length, parts)


@pytest.mark.parametrize(
    ("length", "parts"),
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3)],
)
def test_r_sms_1_ucs2_holds_70_in_one_part_and_67_per_part_when_split(length: int, parts: int) -> None:
    count = count_segments("ç" * length)

    assert (count.encoding, count.units, count.parts) == (Encoding.UCS2, length, parts)


def test_r_sms_1_one_character_outside_gsm7_makes_the_whole_message_ucs2() -> None:
    text = "a" * 100 + "ã"

    assert count_segments(text) == SegmentCount(Encoding.UCS2, 101, 2)


def test_r_sms_1_gsm7_accented_letters_stay_gsm7() -> None:
    assert encoding_of("Até já, é à ñ ü Ç É") == Encoding.UCS2  # 'á' is not in the table
    assert encoding_of("Até é à ñ ü Ç É") == Encoding.GSM7


def test_r_sms_1_extension_characters_cost_two_septets() -> None:
    assert count_segments("€" * 80).units == 160
    assert count_segments("€" * 80).parts == 1
    assert count_segments("€" * 80 + "a").parts == 2


def test_r_sms_1_an_extension_character_is_never_split_across_parts() -> None:
    # 152 septets, then a two-septet character: it cannot straddle the 153-septet boundary.
    text = "a" * 152 + "€" + "a" * 152

    count = count_segments(text)

    assert count.units == 306
    assert count.parts == 3


def test_r_sms_1_emoji_are_surrogate_pairs_in_ucs2() -> None:
    count = count_segments("😀" * 35)

    assert (count.encoding, count.units, count.parts) == (Encoding.UCS2, 70, 1)
    assert count_segments("😀" * 36).parts == 2


def test_r_sms_1_a_surrogate_pair_is_never_split_across_parts() -> None:
    text = "x" * 66 + "😀" + "x" * 66

    assert count_segments(text).parts == 3


def test_empty_text_is_no_part() -> None:
    assert count_segments("").parts == 0


def test_r_sms_1_lint_names_the_characters_that_force_ucs2() -> None:
    assert non_gsm_characters("Não é possível, ação!") == ["ã", "í", "ç"]
