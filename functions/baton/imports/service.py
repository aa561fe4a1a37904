"""Import contacts in bulk: every row validated before anything is written, then written in bulk.

1. Read the rows (`rows.read_rows`) and validate each with the models the single-contact routes
   use: `ContactInput` (E.164 phones, email-validator, IANA zones), `RowConsent`, `ConsentProof`
   and the consent service's own proof rule (`recording.checked_proof`: R-TCPA-1, R-GDPR-2).
2. Plan every upsert from one bulk read (`ContactService.plan_many`, the merge rule of `upsert`)
   and check what the stored data decides: an email that is another contact's, a grant over a
   suppression or the person's own opt-out (`recording.check_grant`).
3. Only when no row was refused, and the consents are within MAX_CONSENTS: the contacts and
   their timeline entries in bulk (`ContactService.store_many`), then the grants in bulk through
   `recording.record_grants`, the consent route's own recording (the SMS opt-in's one
   confirmation text included, R-CTIA-3), and each revocation through `record_consent`.

Idempotent: a file imported again plans no change, and a grant already in force with the same
proof (`recording.grant_in_force`) or a revocation already on record writes no entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from baton.consent.commands import RecordConsent
from baton.consent.exceptions import AddressSuppressed, InvalidAddress, ProofMissing, TransitionNotAllowed
from baton.consent.models import ConsentProof
from baton.consent.recording import (
    CheckedGrant,
    check_grant,
    checked_proof,
    grant_in_force,
    record_consent,
    record_grants,
)
from baton.consent.vocabulary import Channel, ConsentStatus, Source
from baton.contacts.models import ContactInput, PlannedUpsert
from baton.imports.exceptions import InvalidRows, RowError, TooManyConsents, UnsupportedFormat
from baton.imports.models import (
    CONSENT_FIELDS,
    CONTACT_FIELDS,
    MAX_CONSENTS,
    MEDIA_TYPES,
    PROOF_FIELDS,
    ImportFormat,
    ImportResult,
    RowConsent,
)
from baton.imports.rows import RawRow, read_rows

if TYPE_CHECKING:
    from baton.bootstrap import Services

M = TypeVar("M", bound=BaseModel)

# Where `checked_proof` names a field, as a column of the row.
_PROOF_COLUMN = {"basis": "consent_basis", "source": "consent_basis"}


@dataclass(frozen=True)
class ValidRow:
    """A row that passed every check that needs no stored data."""

    line: int
    contact_id: str
    contact: ContactInput
    consents: list[RecordConsent]


def import_format(media_type: str | None) -> ImportFormat:
    """The format a Content-Type names (parameters such as `charset` aside); `UnsupportedFormat`."""
    essence = (media_type or "").split(";", 1)[0].strip().lower()
    if essence not in MEDIA_TYPES:
        raise UnsupportedFormat(media_type, sorted(MEDIA_TYPES))
    return MEDIA_TYPES[essence]


def import_contacts(services: Services, body: str, fmt: ImportFormat, actor: str | None) -> ImportResult:
    """Import every row of `body`, or none: `InvalidRows` names each refused value by line and
    field, `TooManyRows` / `TooManyConsents` a body over a limit. `actor` (the authenticated
    caller) is who recorded a row's consent unless the row names its own `actor`."""
    now = services.clock.now()
    errors: list[RowError] = []
    valid: list[ValidRow] = []
    for raw in read_rows(body, fmt):
        row, problems = validate_row(raw, actor, now)
        errors += problems
        if row is not None:
            valid.append(row)
    errors += _repeated(valid)
    if errors:
        raise InvalidRows(errors)
    consents = sum(len(row.consents) for row in valid)
    if consents > MAX_CONSENTS:
        raise TooManyConsents(consents, MAX_CONSENTS)

    planned = services.contacts.plan_many([(row.contact_id, row.contact) for row in valid])
    errors += [
        RowError(
            valid[position].line, "email", "this email already belongs to another contact", "address_in_use"
        )
        for position in services.contacts.emails_in_use(planned)
    ]
    grants: list[CheckedGrant] = []
    revocations: list[tuple[str, RecordConsent]] = []
    for row, plan in zip(valid, planned, strict=True):
        for command in row.consents:
            if command.status == ConsentStatus.REVOKED:
                revocations.append((row.contact_id, command))  # always allowed (R-TCPA-3)
            elif not _in_force(services, row, plan, command):
                checked = _checked_grant(services, row, plan, command)
                if isinstance(checked, RowError):
                    errors.append(checked)
                else:
                    grants.append(checked)
    if errors:
        raise InvalidRows(errors)

    services.contacts.store_many(planned)
    recorded = sum(change.entry is not None for change in record_grants(services, grants))
    # One by one, as the consent route records them: a revocation's scope (R-TCPA-6) is the
    # channel's every topic, which only the contact's whole consent shows.
    recorded += sum(
        record_consent(services, contact_id, command, actor).entry is not None
        for contact_id, command in revocations
    )
    outcomes = [plan.outcome for plan in planned]
    return ImportResult(
        rows=len(valid),
        created=outcomes.count("created"),
        updated=outcomes.count("updated"),
        unchanged=outcomes.count("unchanged"),
        consents_recorded=recorded,
    )


def validate_row(raw: RawRow, actor: str | None, now: datetime) -> tuple[ValidRow | None, list[RowError]]:
    """One row checked with the single-contact routes' models and the consent proof rule; no AWS."""
    values = raw.values
    errors: list[RowError] = []
    if not values.get("contact_id"):
        errors.append(RowError(raw.line, "contact_id", "every row names its contact_id", "missing"))
    contact = _model(ContactInput, _part(values, CONTACT_FIELDS), raw.line, errors)
    consents: list[RecordConsent] = []
    consent_values, proof_values = _part(values, CONSENT_FIELDS), _part(values, PROOF_FIELDS)
    if consent_values or proof_values:
        consent = _model(RowConsent, consent_values, raw.line, errors)
        proof = _model(ConsentProof, proof_values, raw.line, errors)
        if consent is not None and proof is not None:
            consents = _commands(consent, proof, actor, now, raw.line, errors)
    if errors or contact is None:
        return None, errors
    return ValidRow(raw.line, str(values["contact_id"]), contact, consents), []


def _part(values: Mapping[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if key in fields}


def _model(model: type[M], values: dict[str, Any], line: int, errors: list[RowError]) -> M | None:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "row"
            errors.append(RowError(line, field, error["msg"], error["type"]))
        return None


def _commands(
    consent: RowConsent,
    proof: ConsentProof,
    actor: str | None,
    now: datetime,
    line: int,
    errors: list[RowError],
) -> list[RecordConsent]:
    """One `RecordConsent` per channel and topic, each proof checked as the consent route checks it."""
    commands = [
        RecordConsent(
            channel=channel,
            topic=topic,
            status=consent.consent_status,
            basis=consent.consent_basis,
            source=Source.IMPORT,
            proof=proof,
        )
        for channel in dict.fromkeys(consent.consent_channels)
        for topic in dict.fromkeys(consent.consent_topics)
    ]
    checked = []
    for command in commands:
        try:
            checked.append(command.model_copy(update={"proof": checked_proof(command, actor, now)}))
        except ProofMissing as exc:
            field = exc.field.removeprefix("proof.")
            errors.append(RowError(line, _PROOF_COLUMN.get(field, field), exc.message, "proof_missing"))
            return []  # one set of proof for the row: said once, not once per channel and topic
    return checked


def _repeated(rows: list[ValidRow]) -> list[RowError]:
    """A contact named twice, or one email given to two contacts: the file contradicts itself."""
    errors = []
    ids: dict[str, int] = {}
    emails: dict[str, int] = {}
    for row in rows:
        first = ids.setdefault(row.contact_id, row.line)
        if first != row.line:
            errors.append(
                RowError(row.line, "contact_id", f"this contact is on line {first} already", "repeated")
            )
            continue
        if row.contact.email:
            owner = emails.setdefault(row.contact.email, row.line)
            if owner != row.line:
                errors.append(
                    RowError(
                        row.line, "email", f"line {owner} gives this email to another contact", "repeated"
                    )
                )
    return errors


def _address(plan: PlannedUpsert, command: RecordConsent) -> str | None:
    """The address a consent covers: the contact's own, as `record_consent` takes it."""
    return plan.profile.email if command.channel == Channel.EMAIL else plan.profile.phone


def _in_force(services: Services, row: ValidRow, plan: PlannedUpsert, command: RecordConsent) -> bool:
    """A grant the ledger already holds with this proof: recording it again would say nothing new."""
    address = _address(plan, command)
    if command.status != ConsentStatus.GRANTED or address is None or plan.current is None:
        return False  # a new contact has no consent on record yet
    state = services.consent.state(row.contact_id, command.channel, command.topic)
    return grant_in_force(state, command, address)


def _checked_grant(
    services: Services, row: ValidRow, plan: PlannedUpsert, command: RecordConsent
) -> CheckedGrant | RowError:
    """The grant as `record_grants` takes it, or why the stored data forbids it, as the row's field."""
    try:
        address = check_grant(services, row.contact_id, command, _address(plan, command))
    except InvalidAddress:
        field = "email" if command.channel == Channel.EMAIL else "phone"
        message = f"a consent on {command.channel.value} needs the contact's {field}"
        return RowError(row.line, field, message, "missing")
    except AddressSuppressed as exc:
        return RowError(row.line, "consent_channels", str(exc), "address_suppressed")
    except TransitionNotAllowed as exc:
        return RowError(row.line, "consent_status", str(exc), "consent_transition_not_allowed")
    return CheckedGrant(row.contact_id, command, address, plan.profile.locale, known=plan.current is not None)
