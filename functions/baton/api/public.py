"""Public routes (web forms and links): sign-up, confirm, preferences, one-click unsubscribe."""

from __future__ import annotations

from functools import lru_cache
from http import HTTPStatus

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from baton.api.exceptions import InvalidField, MalformedRequest
from baton.api.resolver import caller, create_resolver
from baton.bootstrap import services
from baton.subscriptions.models import HtmlPage, SubscriptionRequest
from baton.subscriptions.service import SubscriptionService
from baton.web.exceptions import InvalidForm
from baton.web.forms import is_one_click_unsubscribe, parse_preferences_form
from baton.web.pages import PAGE_HEADERS

router = Router()  # type: ignore[no-untyped-call]


def _subscriptions() -> SubscriptionService:
    return SubscriptionService(services())


def _html(page: HtmlPage) -> Response[str]:
    return Response(status_code=page.status, body=page.html, headers=dict(PAGE_HEADERS))


def _form_body() -> str:
    body = router.current_event.decoded_body or ""
    return body if isinstance(body, str) else body.decode()


@router.post("/v1/subscriptions")
def subscribe(request: SubscriptionRequest) -> Response[str]:
    missing = request.missing_address()
    if missing:
        raise InvalidField(missing, f"{missing} is required for the channels chosen")
    accepted = _subscriptions().subscribe(request, caller(router.current_event))
    return Response(
        status_code=HTTPStatus.ACCEPTED,
        content_type=content_types.APPLICATION_JSON,
        body=accepted.model_dump_json(),
    )


@router.get("/v1/confirm/<token>")
def confirm_page(token: str) -> Response[str]:
    # A GET only offers the button: scanners prefetch links (R-MBX-5).
    return _html(_subscriptions().confirm_page(token))


@router.post("/v1/confirm/<token>")
def confirm(token: str) -> Response[str]:
    return _html(_subscriptions().confirm(token, caller(router.current_event)))


@router.get("/v1/preferences/<token>")
def preferences(token: str) -> Response[str]:
    return _html(_subscriptions().preferences(token))


@router.post("/v1/preferences/<token>")
def save_preferences(token: str) -> Response[str]:
    try:
        choice = parse_preferences_form(_form_body())
    except InvalidForm as exc:
        raise MalformedRequest(f"The preference form is not valid: {exc}") from exc
    return _html(_subscriptions().save_preferences(token, choice, caller(router.current_event)))


@router.get("/v1/unsubscribe/<token>")
def unsubscribe_page(token: str) -> Response[str]:
    return _html(_subscriptions().unsubscribe_page(token))


@router.post("/v1/unsubscribe/<token>")
def unsubscribe(token: str) -> Response[str]:
    # RFC 8058 / R-MBX-2: the body must say List-Unsubscribe=One-Click; then unsubscribe at once.
    if not is_one_click_unsubscribe(_form_body(), router.current_event.headers.get("content-type")):
        raise MalformedRequest("The body must be List-Unsubscribe=One-Click (RFC 8058).")
    return _html(_subscriptions().unsubscribe(token, caller(router.current_event)))


@lru_cache(maxsize=1)
def app() -> APIGatewayRestResolver:
    resolver = create_resolver(services().settings.allowed_origins)
    resolver.include_router(router)
    return resolver
