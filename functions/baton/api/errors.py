"""The one place where exceptions become HTTP responses in the contract's error shape.

Every error body is `{"error": {"code": str, "message": str, "details": [...]}}`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import ValidationError

from baton.api.exceptions import ApiError
from baton.campaigns.exceptions import CampaignConflict, CampaignInvalid, CampaignNotFound
from baton.consent.exceptions import ConsentConflict, InvalidAddress, ProofMissing
from baton.contacts.exceptions import ContactConflict, ContactNotFound, InvalidContactField
from baton.data.once import InProgress
from baton.do_not_contact.exceptions import (
    InvalidListEntries,
    ListNotLoaded,
    LoadCommitted,
    LoadIncomplete,
    LoadSuperseded,
    PartConflict,
    UnknownList,
    UnknownLoad,
)
from baton.figures.exceptions import InvalidSpan
from baton.handoffs.exceptions import TaskConflict, TaskNotFound
from baton.imports.exceptions import InvalidRows, TooManyConsents, TooManyRows, UnsupportedFormat
from baton.inventory.exceptions import TemplateNotFound
from baton.settings import get_settings
from baton.timeline.exceptions import InvalidCursor
from baton.tokens.exceptions import TokenError
from baton.tracing.exceptions import MessageNotFound
from baton.triggers.exceptions import JourneyClosed, JourneyNotFound
from baton.web.pages import PAGE_HEADERS, Page, render_page

logger = Logger(child=True)

# Where pydantic puts the request part; the first element of `loc` names it.
_LOCATION_PREFIXES = ("body", "query", "path", "header")


def error_body(code: str, message: str, details: Sequence[dict[str, Any]] = ()) -> str:
    return json.dumps({"error": {"code": code, "message": message, "details": list(details)}})


def error_response(
    status: int, code: str, message: str, details: Sequence[dict[str, Any]] = ()
) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=error_body(code, message, details),
    )


def validation_details(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic errors as `{field, message, type}`, the field a dotted path without the request part."""
    details = []
    for err in errors:
        loc = [str(part) for part in err.get("loc", ())]
        if loc and loc[0] in _LOCATION_PREFIXES:
            loc = loc[1:]
        details.append(
            {"field": ".".join(loc) or "body", "message": err.get("msg", ""), "type": err.get("type")}
        )
    return details


def _request_validation(exc: RequestValidationError) -> Response[str]:
    errors = exc.errors()
    if any(err.get("type") == "json_invalid" for err in errors):
        return error_response(HTTPStatus.BAD_REQUEST, "malformed_json", "The request body is not valid JSON.")
    details = validation_details(errors)
    fields = ", ".join(sorted({d["field"] for d in details}))
    return error_response(
        HTTPStatus.UNPROCESSABLE_ENTITY, "invalid_field", f"Invalid field(s): {fields}", details
    )


def _pydantic_validation(exc: ValidationError) -> Response[str]:
    details = validation_details(exc.errors())
    fields = ", ".join(sorted({d["field"] for d in details}))
    return error_response(
        HTTPStatus.UNPROCESSABLE_ENTITY, "invalid_field", f"Invalid field(s): {fields}", details
    )


def _api_error(exc: ApiError) -> Response[str]:
    return error_response(exc.status, exc.code, exc.message, exc.details)


def _in_progress(exc: InProgress) -> Response[str]:
    # The same idempotency key is being handled right now: the caller retries and gets the answer.
    return error_response(
        HTTPStatus.CONFLICT, "in_progress", "The same request is being handled; retry shortly."
    )


def _not_found(
    exc: ContactNotFound
    | JourneyNotFound
    | TemplateNotFound
    | TaskNotFound
    | UnknownList
    | ListNotLoaded
    | UnknownLoad
    | CampaignNotFound
    | MessageNotFound,
) -> Response[str]:
    return error_response(HTTPStatus.NOT_FOUND, "not_found", str(exc))


def _conflict(exc: ConsentConflict | ContactConflict) -> Response[str]:
    return error_response(HTTPStatus.CONFLICT, exc.code, str(exc))


def _task_conflict(exc: TaskConflict) -> Response[str]:
    return error_response(HTTPStatus.CONFLICT, exc.code, str(exc))


def _invalid(field: str, message: str) -> Response[str]:
    """422 naming the one field that is wrong (the contract's error shape)."""
    details = [{"field": field, "message": message}]
    return error_response(
        HTTPStatus.UNPROCESSABLE_ENTITY, "invalid_field", f"Invalid field(s): {field}", details
    )


def _journey_closed(exc: JourneyClosed) -> Response[str]:
    details = [{"field": "journey", "message": str(exc)}]
    return error_response(HTTPStatus.CONFLICT, "journey_closed", str(exc), details)


def _campaign_conflict(exc: CampaignConflict) -> Response[str]:
    return error_response(HTTPStatus.CONFLICT, f"campaign_{exc.status}", str(exc))


def _campaign_invalid(exc: CampaignInvalid) -> Response[str]:
    return _invalid(exc.field, str(exc))


def _invalid_span(exc: InvalidSpan) -> Response[str]:
    return _invalid(exc.field, str(exc))


def _invalid_address(exc: InvalidAddress) -> Response[str]:
    return _invalid("address", str(exc))


def _invalid_contact_field(exc: InvalidContactField) -> Response[str]:
    return _invalid(exc.field, exc.message)


def _proof_missing(exc: ProofMissing) -> Response[str]:
    return _invalid(exc.field, exc.message)


def _invalid_list_entries(exc: InvalidListEntries) -> Response[str]:
    """Each refused number by its place in `numbers` (the value is not echoed: it is personal)."""
    details = [{"field": f"numbers.{entry.index}", "message": entry.message} for entry in exc.entries]
    return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, "invalid_field", str(exc), details)


def _load_superseded(exc: LoadSuperseded) -> Response[str]:
    return error_response(HTTPStatus.CONFLICT, "load_superseded", str(exc))


def _load_committed(exc: LoadCommitted) -> Response[str]:
    return error_response(HTTPStatus.CONFLICT, "load_committed", str(exc))


def _part_conflict(exc: PartConflict) -> Response[str]:
    return error_response(
        HTTPStatus.CONFLICT, "part_conflict", str(exc), [{"field": "numbers", "message": str(exc)}]
    )


def _load_incomplete(exc: LoadIncomplete) -> Response[str]:
    """The missing (or unannounced) parts, or the count the parts do not match, by commit field."""
    details = [{"field": shortfall.field, "message": shortfall.message} for shortfall in exc.shortfalls]
    message = f"{exc} " + " ".join(shortfall.message for shortfall in exc.shortfalls)
    return error_response(HTTPStatus.CONFLICT, "load_incomplete", message, details)


def _invalid_rows(exc: InvalidRows) -> Response[str]:
    """Each refused value of an import by the line of the file and its field (column or key)."""
    details = [
        {"line": error.line, "field": error.field, "message": error.message, "type": error.type}
        for error in exc.reported
    ]
    return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, "invalid_field", str(exc), details)


def _too_many_rows(exc: TooManyRows | TooManyConsents) -> Response[str]:
    return error_response(
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        "payload_too_large",
        str(exc),
        [{"field": "body", "message": str(exc)}],
    )


def _unsupported_format(exc: UnsupportedFormat) -> Response[str]:
    return error_response(
        HTTPStatus.BAD_REQUEST,
        "unsupported_media_type",
        str(exc),
        [{"field": "Content-Type", "message": str(exc)}],
    )


def _invalid_cursor(exc: InvalidCursor) -> Response[str]:
    return error_response(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "invalid_field",
        "Invalid cursor.",
        [{"field": "cursor", "message": str(exc)}],
    )


def _error_page(status: int, accept_language: str | None) -> Response[str]:
    settings = get_settings()
    locale = "pt-BR" if (accept_language or "").lower().startswith("pt") else "en"
    html = render_page(Page.ERROR, locale, brand=settings.brand_name, support_url=settings.support_url)
    return Response(status_code=status, body=html, headers=dict(PAGE_HEADERS))


def register(app: APIGatewayRestResolver) -> None:
    """Attach every error mapping to a resolver."""
    app.exception_handler(RequestValidationError)(_request_validation)
    app.exception_handler(ValidationError)(_pydantic_validation)
    app.exception_handler(ApiError)(_api_error)
    app.exception_handler(
        [
            ContactNotFound,
            JourneyNotFound,
            TemplateNotFound,
            TaskNotFound,
            UnknownList,
            ListNotLoaded,
            UnknownLoad,
            CampaignNotFound,
            MessageNotFound,
        ]
    )(_not_found)
    app.exception_handler(InProgress)(_in_progress)
    app.exception_handler(JourneyClosed)(_journey_closed)

    @app.exception_handler(TokenError)  # type: ignore[untyped-decorator]
    def _invalid_token(exc: TokenError) -> Response[str]:
        # One answer for forged, altered, expired and wrong-scope tokens: no oracle for forgers.
        logger.info("Rejected token", extra={"reason": type(exc).__name__})
        event = app.current_event
        if event.http_method == "GET":  # a person followed a link: show a page, not JSON
            return _error_page(HTTPStatus.FORBIDDEN, event.headers.get("accept-language"))
        return error_response(HTTPStatus.FORBIDDEN, "invalid_token", "This link is invalid or has expired.")

    app.exception_handler([ConsentConflict, ContactConflict])(_conflict)
    # Hand-offs: task_already_completed, task_expired (the message says it expired).
    app.exception_handler(TaskConflict)(_task_conflict)
    app.exception_handler(InvalidAddress)(_invalid_address)
    app.exception_handler(ProofMissing)(_proof_missing)
    app.exception_handler(InvalidContactField)(_invalid_contact_field)
    app.exception_handler(InvalidCursor)(_invalid_cursor)
    app.exception_handler(InvalidListEntries)(_invalid_list_entries)  # R-BR-1
    app.exception_handler(LoadSuperseded)(_load_superseded)
    app.exception_handler(LoadCommitted)(_load_committed)
    app.exception_handler(PartConflict)(_part_conflict)
    app.exception_handler(LoadIncomplete)(_load_incomplete)
    app.exception_handler(CampaignConflict)(_campaign_conflict)
    app.exception_handler(CampaignInvalid)(_campaign_invalid)
    app.exception_handler(InvalidSpan)(_invalid_span)
    app.exception_handler(InvalidRows)(_invalid_rows)
    app.exception_handler([TooManyRows, TooManyConsents])(_too_many_rows)
    app.exception_handler(UnsupportedFormat)(_unsupported_format)

    @app.not_found
    def _route_not_found(_: Exception) -> Response[str]:
        return error_response(HTTPStatus.NOT_FOUND, "not_found", "No such route.")
