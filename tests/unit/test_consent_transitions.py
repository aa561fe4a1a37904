"""The consent state machine: which changes are allowed, by which source (baton.consent.transitions)."""

from __future__ import annotations

import pytest

from baton.consent.exceptions import ConsentConflict, TransitionNotAllowed
from baton.consent.transitions import Transition, transition
from baton.consent.vocabulary import ConsentStatus, Source

NONE = None
PENDING = ConsentStatus.PENDING
GRANTED = ConsentStatus.GRANTED
REVOKED = ConsentStatus.REVOKED
EVERY_STATE = [NONE, PENDING, GRANTED, REVOKED]
CONFIRMING = [Source.LINK, Source.KEYWORD, Source.PREFERENCE_PAGE]
BACK_OFFICE = [Source.IMPORT, Source.AGENT]


@pytest.mark.parametrize("current", EVERY_STATE)
@pytest.mark.parametrize("source", list(Source))
def test_revocation_is_allowed_from_any_state_by_any_source_r_tcpa_3(
    current: ConsentStatus | None, source: Source
) -> None:
    expected = Transition.NO_OP if current == REVOKED else Transition.APPLY

    assert transition(current, REVOKED, source) == expected


@pytest.mark.parametrize("current", [NONE, PENDING, REVOKED])
@pytest.mark.parametrize("source", [s for s in Source if s != Source.COMPLAINT])
def test_a_request_makes_consent_pending_unless_granted(
    current: ConsentStatus | None, source: Source
) -> None:
    assert transition(current, PENDING, source) == Transition.APPLY


def test_a_request_on_granted_consent_is_a_no_op_and_never_downgrades() -> None:
    assert transition(GRANTED, PENDING, Source.FORM) == Transition.NO_OP


@pytest.mark.parametrize("current", EVERY_STATE)
@pytest.mark.parametrize("source", CONFIRMING)
def test_the_persons_own_confirmation_grants_from_any_state_r_mbx_5(
    current: ConsentStatus | None, source: Source
) -> None:
    assert transition(current, GRANTED, source) == Transition.APPLY


@pytest.mark.parametrize("source", BACK_OFFICE)
def test_given_pending_double_opt_in_when_back_office_grants_then_refused(source: Source) -> None:
    with pytest.raises(TransitionNotAllowed, match="pending"):
        transition(PENDING, GRANTED, source)


@pytest.mark.parametrize("source", BACK_OFFICE)
def test_given_an_opt_out_when_back_office_grants_then_refused_r_ctia_4(source: Source) -> None:
    with pytest.raises(TransitionNotAllowed, match="R-CTIA-4"):
        transition(REVOKED, GRANTED, source)


@pytest.mark.parametrize("current", [NONE, GRANTED])
@pytest.mark.parametrize("source", BACK_OFFICE)
def test_back_office_grants_where_baton_has_no_record_or_renews_a_grant(
    current: ConsentStatus | None, source: Source
) -> None:
    assert transition(current, GRANTED, source) == Transition.APPLY


@pytest.mark.parametrize("current", EVERY_STATE)
def test_a_form_never_grants_directly_it_starts_a_double_opt_in(current: ConsentStatus | None) -> None:
    with pytest.raises(TransitionNotAllowed, match="double opt-in"):
        transition(current, GRANTED, Source.FORM)


@pytest.mark.parametrize("current", EVERY_STATE)
@pytest.mark.parametrize("target", [PENDING, GRANTED])
def test_a_complaint_only_ever_revokes_r_ses_3(current: ConsentStatus | None, target: ConsentStatus) -> None:
    with pytest.raises(TransitionNotAllowed, match="complaint"):
        transition(current, target, Source.COMPLAINT)


def test_a_refused_transition_is_a_conflict_with_a_code_for_the_api() -> None:
    with pytest.raises(ConsentConflict) as error:
        transition(REVOKED, GRANTED, Source.IMPORT)

    assert error.value.code == "consent_transition_not_allowed"
    assert "revoked" in str(error.value)
