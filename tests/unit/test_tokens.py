"""Signed link tokens: a forged, altered, expired or misused token is refused; a genuine one reads back."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from baton.consent.vocabulary import Channel
from baton.tokens import (
    BadSignature,
    ExpiredToken,
    MalformedToken,
    Scope,
    TokenClaims,
    TokenError,
    WrongScope,
    sign,
    verify,
)
from baton.tokens.binding import address_binding, reached
from baton.tokens.signer import MAX_TOKEN_LENGTH
from tests.tokens import signed_by_hand

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=30)
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _claims(**overrides: object) -> TokenClaims:
    values: dict[str, object] = {
        "contact_id": "c-123",
        "scope": Scope.PREFERENCES,
        "expires_at": LATER,
        "generation": "g3n-nonce",
        "channel": Channel.EMAIL,
        "request": "req-nonce",
    }
    values.update(overrides)
    return TokenClaims(**values)  # type: ignore[arg-type]


def _flip(text: str, index: int) -> str:
    """The same text with one base64url character replaced by another."""
    replacement = B64URL[(B64URL.index(text[index]) + 1) % len(B64URL)]
    return text[:index] + replacement + text[index + 1 :]


def test_genuine_token_reads_back_every_claim() -> None:
    token = sign(_claims(), KEY, NOW)

    claims = verify(token, Scope.PREFERENCES, KEY, NOW + timedelta(days=1))

    assert claims == _claims(issued_at=NOW)


def test_token_with_only_the_required_claims_reads_back() -> None:
    token = sign(TokenClaims("c-1", Scope.CONFIRM, LATER), KEY, NOW)

    claims = verify(token, Scope.CONFIRM, KEY, NOW)

    assert (claims.contact_id, claims.generation, claims.channel, claims.request) == ("c-1", None, None, None)


def test_token_is_url_safe_and_needs_no_escaping() -> None:
    token = sign(_claims(contact_id="crm:Ação-42"), KEY, NOW)

    assert quote(token, safe="") == token


def test_token_payload_holds_only_ids_and_nonces() -> None:
    token = sign(_claims(), KEY, NOW)

    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))

    assert set(payload) == {"v", "sub", "scp", "iat", "exp", "gen", "ch", "req"}


def test_an_unsubscribe_link_sent_before_the_upgrade_still_verifies_without_its_address() -> None:
    old = signed_by_hand(
        {
            "v": 1,
            "sub": "c-1",
            "scp": "unsubscribe",
            "iat": int(NOW.timestamp()),
            "exp": int(LATER.timestamp()),
            "ch": "email",
            "adr": "ana@example.com",
        },
        KEY,
    )

    claims = verify(old, Scope.UNSUBSCRIBE, KEY, NOW)

    assert (claims.contact_id, claims.channel, claims.generation) == ("c-1", Channel.EMAIL, None)
    assert "ana@example.com" not in repr(claims)


def test_forged_token_signed_with_another_key_is_refused() -> None:
    forged = sign(_claims(), OTHER_KEY, NOW)

    with pytest.raises(BadSignature):
        verify(forged, Scope.PREFERENCES, KEY, NOW)


def test_token_with_claims_rewritten_by_hand_is_refused() -> None:
    payload, signature = sign(_claims(), KEY, NOW).split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["sub"] = "someone-else"
    rewritten = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()

    with pytest.raises(BadSignature):
        verify(f"{rewritten}.{signature}", Scope.PREFERENCES, KEY, NOW)


def test_flipping_one_character_in_the_payload_is_a_bad_signature() -> None:
    token = sign(_claims(), KEY, NOW)

    with pytest.raises(BadSignature):
        verify(_flip(token, 5), Scope.PREFERENCES, KEY, NOW)


def test_flipping_one_character_in_the_signature_is_refused() -> None:
    token = sign(_claims(), KEY, NOW)
    middle_of_signature = token.index(".") + 10

    with pytest.raises(BadSignature):
        verify(_flip(token, middle_of_signature), Scope.PREFERENCES, KEY, NOW)


def test_flipping_any_single_character_anywhere_is_refused() -> None:
    token = sign(_claims(), KEY, NOW)

    for index, char in enumerate(token):
        if char == ".":
            continue
        with pytest.raises((BadSignature, MalformedToken)):
            verify(_flip(token, index), Scope.PREFERENCES, KEY, NOW)


def test_changing_only_the_unused_bits_of_the_last_character_is_refused() -> None:
    # 32 signature bytes take 43 characters; the last one carries 2 unused bits. A lenient
    # decoder would read the altered text as the same signature.
    token = sign(_claims(), KEY, NOW)
    last = B64URL.index(token[-1])
    same_bytes_other_char = B64URL[last ^ 0b01]

    with pytest.raises(MalformedToken):
        verify(token[:-1] + same_bytes_other_char, Scope.PREFERENCES, KEY, NOW)


def test_expired_token_is_refused_from_its_expiry_second_on() -> None:
    token = sign(_claims(), KEY, NOW)

    verify(token, Scope.PREFERENCES, KEY, LATER - timedelta(seconds=1))
    with pytest.raises(ExpiredToken):
        verify(token, Scope.PREFERENCES, KEY, LATER)


def test_token_for_another_scope_is_refused() -> None:
    confirm_token = sign(_claims(scope=Scope.CONFIRM), KEY, NOW)

    with pytest.raises(WrongScope):
        verify(confirm_token, Scope.UNSUBSCRIBE, KEY, NOW)


def test_verifier_may_accept_several_scopes() -> None:
    token = sign(_claims(scope=Scope.UNSUBSCRIBE), KEY, NOW)

    claims = verify(token, {Scope.PREFERENCES, Scope.UNSUBSCRIBE}, KEY, NOW)

    assert claims.scope == Scope.UNSUBSCRIBE


def test_scope_is_checked_before_expiry_so_an_old_confirm_link_never_unsubscribes() -> None:
    token = sign(_claims(scope=Scope.CONFIRM), KEY, NOW)

    with pytest.raises(WrongScope):
        verify(token, Scope.UNSUBSCRIBE, KEY, LATER + timedelta(days=1))


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b.c",
        "with space.abc",
        "pay+load.sig/nature",
        "payload.",
        ".signature",
        "a" * (MAX_TOKEN_LENGTH + 1),
    ],
)
def test_malformed_token_is_refused_before_any_crypto(token: str) -> None:
    with pytest.raises(MalformedToken):
        verify(token, Scope.PREFERENCES, KEY, NOW)


def test_links_signed_before_a_key_rotation_still_verify_with_the_previous_key() -> None:
    old_token = sign(_claims(), OTHER_KEY, NOW)

    assert verify(old_token, Scope.PREFERENCES, [KEY, OTHER_KEY], NOW).contact_id == "c-123"
    with pytest.raises(BadSignature):
        verify(old_token, Scope.PREFERENCES, [KEY], NOW)


def test_every_refusal_is_a_token_error_so_the_api_answers_one_403() -> None:
    assert all(
        issubclass(kind, TokenError) for kind in (MalformedToken, BadSignature, WrongScope, ExpiredToken)
    )


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        sign(_claims(), b"short", NOW)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sign(_claims(), KEY, datetime(2026, 5, 1, 9, 0))


def test_a_token_cannot_be_signed_already_expired() -> None:
    with pytest.raises(ValueError, match="after now"):
        sign(_claims(expires_at=NOW), KEY, NOW)


LINK_KEY = b"l" * 32


def test_a_link_bound_to_an_address_carries_only_a_keyed_hash_of_it() -> None:
    binding = address_binding(LINK_KEY, Channel.SMS, "+5511912345678")
    token = sign(_claims(channel=Channel.SMS, address=binding), KEY, NOW)

    payload = base64.urlsafe_b64decode(token.split(".")[0] + "==").decode()
    claims = verify(token, Scope.PREFERENCES, KEY, NOW)

    assert "5511912345678" not in payload
    assert reached(claims, LINK_KEY, Channel.SMS, "+55 11 91234-5678")  # any common form
    assert not reached(claims, LINK_KEY, Channel.SMS, "+5511988887777")  # another number
    assert not reached(claims, LINK_KEY, Channel.EMAIL, "+5511912345678")  # another channel
    assert not reached(claims, OTHER_KEY, Channel.SMS, "+5511912345678")  # hashed under another key


def test_a_version_1_links_own_address_is_not_taken_for_a_binding() -> None:
    old = signed_by_hand(
        {
            "v": 1,
            "sub": "c-1",
            "scp": "preferences",
            "iat": int(NOW.timestamp()),
            "exp": int(LATER.timestamp()),
            "ch": "email",
            "adr": "ana@example.com",
            "ah": address_binding(LINK_KEY, Channel.EMAIL, "ana@example.com"),
        },
        KEY,
    )

    claims = verify(old, Scope.PREFERENCES, KEY, NOW)

    assert claims.address is None
    assert not reached(claims, LINK_KEY, Channel.EMAIL, "ana@example.com")


def test_a_webhook_or_an_empty_address_binds_nothing() -> None:
    assert address_binding(LINK_KEY, Channel.WEBHOOK, "c-123") is None
    assert address_binding(LINK_KEY, Channel.EMAIL, "") is None
    assert address_binding(LINK_KEY, Channel.EMAIL, None) is None
