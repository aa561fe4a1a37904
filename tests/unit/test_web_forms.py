"""Reading the preference form and the RFC 8058 one-click body (R-CANSPAM-2, R-MBX-2)."""

from __future__ import annotations

import pytest

from baton.consent.vocabulary import Channel
from baton.web import InvalidForm, is_one_click_unsubscribe, parse_preferences_form
from baton.web.forms import MAX_FIELDS

SHOWN = "shown=email%3Anews&shown=email%3Aoffers&shown=sms%3Anews"


def test_checked_pairs_are_granted_and_shown_unchecked_pairs_revoked() -> None:
    choice = parse_preferences_form(f"{SHOWN}&choice=email%3Anews&action=save")

    assert choice.checked == {(Channel.EMAIL, "news")}
    assert choice.granted == {(Channel.EMAIL, "news")}
    assert choice.revoked == {(Channel.EMAIL, "offers"), (Channel.SMS, "news")}
    assert not choice.unsubscribe_all


def test_nothing_checked_revokes_everything_shown() -> None:
    choice = parse_preferences_form(f"{SHOWN}&action=save")

    assert choice.granted == frozenset()
    assert len(choice.revoked) == 3


def test_a_pair_the_page_never_showed_is_neither_granted_nor_revoked() -> None:
    choice = parse_preferences_form("shown=email%3Anews&choice=email%3Anews&choice=sms%3Apromo")

    assert choice.granted == {(Channel.EMAIL, "news")}
    assert choice.revoked == frozenset()


def test_r_canspam_2_the_unsubscribe_all_button_revokes_and_grants_nothing() -> None:
    choice = parse_preferences_form(f"{SHOWN}&choice=email%3Anews&action=unsubscribe_all")

    assert choice.unsubscribe_all
    assert choice.granted == frozenset()
    assert len(choice.revoked) == 3


def test_a_form_without_action_saves() -> None:
    assert not parse_preferences_form(f"{SHOWN}&choice=sms%3Anews").unsubscribe_all


def test_empty_body_changes_nothing() -> None:
    choice = parse_preferences_form("")

    assert (choice.granted, choice.revoked, choice.unsubscribe_all) == (frozenset(), frozenset(), False)


@pytest.mark.parametrize(
    "body",
    [
        "choice=fax%3Anews",  # unknown channel
        "choice=email",  # no topic
        "choice=email%3A",  # empty topic
        "shown=email%3A..%2F..%2Fetc",  # not a topic id
        "action=delete_everything",
        "action=save&action=unsubscribe_all",
    ],
)
def test_a_form_baton_did_not_render_is_invalid(body: str) -> None:
    with pytest.raises(InvalidForm):
        parse_preferences_form(body)


def test_too_many_fields_is_invalid() -> None:
    with pytest.raises(InvalidForm):
        parse_preferences_form("&".join(["shown=email%3Anews"] * (MAX_FIELDS + 1)))


def test_r_mbx_2_one_click_body_urlencoded() -> None:
    assert is_one_click_unsubscribe("List-Unsubscribe=One-Click", "application/x-www-form-urlencoded")
    assert is_one_click_unsubscribe(b"List-Unsubscribe=One-Click", None)


def test_r_mbx_2_one_click_body_multipart_as_rfc_8058_prefers() -> None:
    body = b'--xyz\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--xyz--\r\n'

    assert is_one_click_unsubscribe(body, "multipart/form-data; boundary=xyz")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("", "application/x-www-form-urlencoded"),
        ("List-Unsubscribe=Yes", "application/x-www-form-urlencoded"),
        ("list-unsubscribe=one-click", "application/x-www-form-urlencoded"),
        (b"\xff\xfe", "application/x-www-form-urlencoded"),
        (b"--xyz\r\n\r\nOne-Click\r\n--xyz--\r\n", "multipart/form-data; boundary=xyz"),
        (b"List-Unsubscribe=One-Click", "multipart/form-data; boundary=xyz\r\nX-Evil: 1"),
    ],
)
def test_other_bodies_are_not_one_click(body: str | bytes, content_type: str) -> None:
    assert not is_one_click_unsubscribe(body, content_type)
