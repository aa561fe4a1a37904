"""Errors of the contacts package. Field errors are ValueErrors so pydantic reports them per field."""

from __future__ import annotations


class ContactError(Exception):
    """Base of every contacts error."""


class ContactNotFound(ContactError):
    """No contact has this id (the API answers 404)."""

    def __init__(self, contact_id: str) -> None:
        super().__init__(f"Contact {contact_id!r} not found.")
        self.contact_id = contact_id


class ContactConflict(ContactError):
    """The change clashes with stored data (the API answers 409 with `code`)."""

    code = "contact_conflict"


class AddressInUse(ContactConflict):
    """The email or phone already belongs to another contact."""

    code = "address_in_use"

    def __init__(self, field: str) -> None:
        super().__init__(f"This {field} already belongs to another contact.")
        self.field = field


class ContactIdMismatch(ContactConflict):
    """The body names a different contact_id than the path."""

    code = "contact_id_mismatch"

    def __init__(self) -> None:
        super().__init__("contact_id in the body differs from the one in the path.")


class ConcurrentContactUpdate(ContactConflict):
    """Another writer kept changing the contact while this update was retried."""

    code = "concurrent_update"

    def __init__(self, contact_id: str) -> None:
        super().__init__(f"Contact {contact_id!r} changed during the update; try again.")


class InvalidContactField(ValueError):
    """A field value that cannot be normalised; `field` names it, the message says why."""

    field = "contact"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidPhone(InvalidContactField):
    field = "phone"


class InvalidEmail(InvalidContactField):
    field = "email"


class InvalidTimezone(InvalidContactField):
    field = "timezone"


class InvalidLocale(InvalidContactField):
    field = "locale"


class InvalidCountry(InvalidContactField):
    field = "country"


class StaleContact(ContactError):
    """A repository write found a different version than the one read (the service retries)."""

    def __init__(self, contact_id: str) -> None:
        super().__init__(f"Contact {contact_id!r} changed since it was read.")
        self.contact_id = contact_id
