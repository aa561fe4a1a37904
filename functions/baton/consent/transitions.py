"""The consent state machine: which status changes are allowed, by which source. Pure.

Statuses per (contact, channel, topic): none yet, `pending`, `granted`, `revoked`.

| from \\ to | pending                 | granted                                   | revoked          |
|-----------|-------------------------|-------------------------------------------|------------------|
| none      | any source but complaint| confirming or back-office sources         | any source       |
| pending   | any source but complaint| confirming sources only                   | any source       |
| granted   | no-op (stays granted)   | confirming or back-office (a re-grant)    | any source       |
| revoked   | any source but complaint| confirming sources only (R-CTIA-4)        | no-op            |

- Confirming sources are acts of the person on a channel Baton reached them on: the link in a
  confirmation email (`link`), a keyword reply such as YES/START/UNSTOP (`keyword`), the
  preference page opened from a signed link (`preference_page`). Double opt-in (R-MBX-5,
  R-CTIA-3): a pending request is completed only by one of these.
- Back-office sources (`import`, `agent`) assert consent obtained elsewhere, with its proof
  (R-GDPR-2). They may grant where Baton has no record or re-grant (a new purchase renews an
  implied consent, R-CASL-1), but never complete a double opt-in Baton started and never
  override an opt-out: after a revocation only a new opt-in by the person re-subscribes
  (R-CTIA-4).
- `form` never grants directly: a form submission starts a double opt-in (pending).
- `complaint` only revokes (R-SES-3).
- Revoking is always allowed, from any state and by any source (R-TCPA-3, R-GDPR-3/4); a
  revocation with no prior record is kept, so a later import cannot grant over it.
- No-ops write nothing: a repeated request does not downgrade a grant, a repeated revocation
  (a retried one-click unsubscribe) adds no entry.
"""

from __future__ import annotations

from enum import StrEnum

from baton.consent.exceptions import TransitionNotAllowed
from baton.consent.vocabulary import ConsentStatus, Source

CONFIRMING_SOURCES = frozenset({Source.LINK, Source.KEYWORD, Source.PREFERENCE_PAGE})
BACK_OFFICE_SOURCES = frozenset({Source.IMPORT, Source.AGENT})


class Transition(StrEnum):
    APPLY = "apply"  # write an entry and the new state
    NO_OP = "no_op"  # nothing to write: the state already says this


def transition(current: ConsentStatus | None, target: ConsentStatus, source: Source) -> Transition:
    """Decide a change from `current` (None: no record) to `target` made by `source`.

    Raises `TransitionNotAllowed` (a `ConsentConflict`, HTTP 409) when the change is refused.
    """
    if target == ConsentStatus.REVOKED:
        return Transition.NO_OP if current == ConsentStatus.REVOKED else Transition.APPLY

    if source == Source.COMPLAINT:
        raise TransitionNotAllowed(current, target, source, "a complaint only ever revokes (R-SES-3)")

    if target == ConsentStatus.PENDING:
        return Transition.NO_OP if current == ConsentStatus.GRANTED else Transition.APPLY

    # target is GRANTED
    if source in CONFIRMING_SOURCES:
        return Transition.APPLY
    if source == Source.FORM:
        raise TransitionNotAllowed(
            current, target, source, "a form starts a double opt-in; request it as pending"
        )
    if source not in BACK_OFFICE_SOURCES:
        raise TransitionNotAllowed(current, target, source, "this source cannot grant consent")
    if current == ConsentStatus.PENDING:
        raise TransitionNotAllowed(
            current,
            target,
            source,
            "a pending double opt-in is completed only by the person (link or keyword)",
        )
    if current == ConsentStatus.REVOKED:
        raise TransitionNotAllowed(
            current,
            target,
            source,
            "after an opt-out only a new opt-in by the person re-subscribes (R-CTIA-4)",
        )
    return Transition.APPLY
