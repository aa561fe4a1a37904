"""Contact models, kept apart: `ContactInput` (what a caller sends), `ContactRecord` (what is
stored) and `Contact` (what is returned, exactly the contract's fields)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from baton.clock import Timestamp
from baton.consent.models import ConsentEntry, ConsentState
from baton.contacts.exceptions import InvalidContactField
from baton.contacts.normalize import (
    Locale,
    normalize_country,
    normalize_email,
    normalize_locale,
    normalize_phone,
    normalize_timezone,
)
from baton.data.documents import FreeMap
from baton.suppression.models import SuppressionEntry
from baton.timeline.models import TimelineEvent

CONTACT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"

# The caller's own id (CRM key) or a generated one; no `@` or spaces, so ids are not addresses;
# no `/`, `%` or leading `.`, so an id in a path is the same id as in a body. The one type for
# both: a path parameter, an event's contact_id and a body's contact_id are checked alike.
ContactId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=CONTACT_ID_PATTERN)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


def _as_field_error(exc: InvalidContactField) -> PydanticCustomError:
    # A custom error type (`invalid_phone`, ...) reads better in the API's details than `value_error`.
    return PydanticCustomError(f"invalid_{exc.field}", exc.message)


def _email(value: str) -> str:
    try:
        return normalize_email(value)
    except InvalidContactField as exc:
        raise _as_field_error(exc) from exc


def _timezone(value: str) -> str:
    try:
        return normalize_timezone(value)
    except InvalidContactField as exc:
        raise _as_field_error(exc) from exc


def _country(value: str) -> str:
    try:
        return normalize_country(value)
    except InvalidContactField as exc:
        raise _as_field_error(exc) from exc


def _locale(value: Any) -> Any:
    if not isinstance(value, str):
        return value  # the Locale type then refuses it with pydantic's own message
    try:
        return normalize_locale(value)
    except InvalidContactField as exc:
        raise _as_field_error(exc) from exc


def phone_in_country(value: str | None, info: ValidationInfo) -> str | None:
    """A `phone` field validator: E.164, a national form read in the model's `country`.

    The model must declare `country` before `phone`: pydantic validates fields in order.
    """
    if value is None:
        return None
    try:
        return normalize_phone(value, info.data.get("country"))
    except InvalidContactField as exc:
        raise _as_field_error(exc) from exc


Email = Annotated[str, StringConstraints(max_length=320), AfterValidator(_email)]
Timezone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_timezone)]
Country = Annotated[str, StringConstraints(max_length=8), AfterValidator(_country)]
LocaleTag = Annotated[Locale, BeforeValidator(_locale)]


class Sales(BaseModel):
    """Sales ownership: an open deal holds marketing off (the journeys' sales hold)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    owner: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    deal_open: bool = False


class ContactInput(BaseModel):
    """A PUT body: every field optional; a field sent replaces the stored one, null clears it.

    `country` is declared before `phone` because it is the phone's default region: pydantic
    validates fields in order, so the phone validator sees the already-normalised country.
    Unknown fields are refused (extra=forbid) so the API can name them in a 422.
    """

    model_config = ConfigDict(extra="forbid")

    contact_id: ContactId | None = None
    country: Country | None = None
    email: Email | None = None
    phone: Annotated[str, StringConstraints(max_length=64)] | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    locale: LocaleTag | None = None
    timezone: Timezone | None = None
    attributes: FreeMap | None = None
    sales: Sales | None = None

    _phone = field_validator("phone")(phone_in_country)


class Contact(BaseModel):
    """A contact as the API returns it: exactly the contract's fields, already normalised."""

    contact_id: str
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    locale: Locale | None = None
    timezone: str | None = None
    country: str | None = None
    attributes: dict[str, JsonValue] = Field(default_factory=dict)
    sales: Sales = Field(default_factory=Sales)


class ContactProfile(Contact):
    """A contact with its bookkeeping dates: what an export (R-GDPR-5) shows as the profile.

    `pending_email` / `pending_phone`: an address a sign-up form named that its owner has not
    confirmed yet (R-MBX-5, R-CTIA-3). It is not the contact's address: nothing but the
    confirmation request goes to it, and it becomes `email` / `phone` only once confirmed.
    """

    created_at: Timestamp
    updated_at: Timestamp
    pending_email: str | None = None
    pending_phone: str | None = None


class ContactRecord(ContactProfile):
    """The stored item. Not re-normalised on read, so a metadata update never hides a contact.

    `version` grows by one per write; a write succeeds only over the version it read.
    `generation` is a random nonce made when the contact is created and gone with it at
    erasure: signed links carry it, so they never work for a later contact with the same id.
    """

    version: int = 0
    generation: str | None = None  # None: stored before contacts had one

    def to_contact(self) -> Contact:
        return Contact.model_validate(self.model_dump(include=set(Contact.model_fields)))

    def to_profile(self) -> ContactProfile:
        return ContactProfile.model_validate(self.model_dump(include=set(ContactProfile.model_fields)))


@dataclass(frozen=True)
class UpsertResult:
    """The contact after an upsert, and whether this call created it (201) or not (200)."""

    contact: Contact
    created: bool


@dataclass(frozen=True)
class PlannedUpsert:
    """One contact of a bulk upsert, decided before anything is written: the stored record
    (`current`), the record to store (`record`, None when nothing changes) and what changes."""

    contact_id: str
    current: ContactRecord | None
    record: ContactRecord | None
    changed: list[str]

    @property
    def outcome(self) -> Literal["created", "updated", "unchanged"]:
        if self.record is None:
            return "unchanged"
        return "created" if self.current is None else "updated"

    @property
    def profile(self) -> ContactRecord:
        """The contact as it will be once stored."""
        record = self.record or self.current
        assert record is not None  # a plan has one or the other
        return record


class ConsentExport(BaseModel):
    states: list[ConsentState]
    entries: list[ConsentEntry]


class ContactExport(BaseModel):
    """Everything Baton holds on a contact (R-GDPR-5, R-LGPD-2): JSON via `model_dump(mode="json")`."""

    format: Literal["baton.contact-export/1"] = "baton.contact-export/1"
    exported_at: Timestamp
    profile: ContactProfile
    consent: ConsentExport
    timeline: list[TimelineEvent]  # newest first
    suppression: list[SuppressionEntry]  # suppressions in force on the contact's addresses


class ErasureReport(BaseModel):
    """What an erasure removed (R-GDPR-5), and the hashes kept so the person stays suppressed."""

    contact_id: str
    contact_removed: bool
    consent_items_removed: int
    timeline_events_removed: int
    suppressed: list[SuppressionEntry]
