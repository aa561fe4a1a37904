"""Errors the API raises itself; domain errors from other packages are mapped in `errors.py`."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error with a contract code; `errors.py` turns it into a response."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class MalformedRequest(ApiError):
    status = 400
    code = "malformed_request"


class MalformedJson(ApiError):
    status = 400
    code = "malformed_json"


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"


class InvalidField(ApiError):
    status = 422
    code = "invalid_field"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, [{"field": field, "message": message}])


class InvalidFields(ApiError):
    """Several fields refused at once, each named in `details` (`field`, `message`, `type`)."""

    status = 422
    code = "invalid_field"

    def __init__(self, details: list[dict[str, Any]]) -> None:
        fields = ", ".join(sorted({detail["field"] for detail in details}))
        super().__init__(f"Invalid field(s): {fields}", details)
