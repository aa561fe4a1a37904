"""The local stack serving the synthesized template: routing, the bearer token standing in for
IAM, CORS preflights from the template's MOCK methods, and the `/_local/` helpers."""

from __future__ import annotations

from datetime import datetime

import pytest

from infra.http_client import HttpResponse, LocalClient
from infra.local import LocalStack
from infra.names import ROUTES, Access, Route

pytestmark = pytest.mark.e2e

PRIVATE_ROUTES = [route for route in ROUTES if route.access is Access.PRIVATE]
PUBLIC_PATHS = sorted({route.path for route in ROUTES if route.access is Access.PUBLIC})


def _concrete(path: str) -> str:
    return path.replace("{contact_id}", "c-e2e").replace("{token}", "t0ken")


def _error_code(resp: HttpResponse) -> str:
    payload = resp.json()
    assert set(payload) == {"error"}
    assert set(payload["error"]) == {"code", "message", "details"}
    code: str = payload["error"]["code"]
    return code


def test_unknown_route_is_404_json_error(api: LocalClient) -> None:
    resp = api.get("/v1/nothing-here", auth=False)

    assert resp.status == 404
    assert resp.headers["Content-Type"] == "application/json"
    assert _error_code(resp) == "not_found"


def test_unknown_local_helper_is_404_json_error(api: LocalClient) -> None:
    resp = api.get("/_local/nothing-here")

    assert resp.status == 404
    assert _error_code(resp) == "not_found"


def test_verb_a_route_does_not_have_is_405_naming_the_allowed_ones(api: LocalClient) -> None:
    resp = api.request("PATCH", "/v1/subscriptions", auth=False)

    assert resp.status == 405
    assert _error_code(resp) == "method_not_allowed"
    assert "POST" in resp.headers["Allow"]


@pytest.mark.parametrize("route", PRIVATE_ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_private_route_without_bearer_is_401(api: LocalClient, route: Route) -> None:
    resp = api.request(route.method, _concrete(route.path), auth=False, json_body={})

    assert resp.status == 401
    assert _error_code(resp) == "unauthorized"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_private_route_with_wrong_bearer_is_403(api: LocalClient) -> None:
    resp = api.get("/v1/contacts/c-e2e", auth=False, headers={"Authorization": "Bearer not-the-token"})

    assert resp.status == 403
    assert _error_code(resp) == "forbidden"


def test_private_route_with_other_scheme_is_401(api: LocalClient, local_stack: LocalStack) -> None:
    resp = api.get("/v1/contacts/c-e2e", auth=False, headers={"Authorization": f"Basic {local_stack.token}"})

    assert resp.status == 401


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_cors_preflight_on_public_route_answers_for_configured_origin(api: LocalClient, path: str) -> None:
    origin = "https://www.example.com"  # cdk.json allowedOrigins
    methods = {route.method for route in ROUTES if route.path == path}

    resp = api.request(
        "OPTIONS",
        _concrete(path),
        auth=False,
        headers={"Origin": origin, "Access-Control-Request-Method": sorted(methods)[0]},
    )

    assert resp.status == 204
    assert resp.text == ""
    assert resp.headers["Access-Control-Allow-Origin"] == origin
    assert methods <= set(resp.headers["Access-Control-Allow-Methods"].split(","))


def test_outbox_is_a_json_list(api: LocalClient) -> None:
    resp = api.get("/_local/outbox")

    assert resp.status == 200
    assert isinstance(resp.json(), list)


def test_clock_reports_the_virtual_now_in_utc_iso_8601(api: LocalClient, local_stack: LocalStack) -> None:
    resp = api.get("/_local/clock")

    assert resp.status == 200
    now = resp.json()["now"]
    assert now.endswith("Z")
    # The virtual clock stands still until moved: it reports exactly the stack's own time.
    assert datetime.fromisoformat(now.replace("Z", "+00:00")) == local_stack.clock.now()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": "STOP"}, "from"),
        ({"from": "+14255550182"}, "body"),
        ({"from": "not a number", "body": "x"}, "from"),
    ],
)
def test_inbound_sms_with_missing_or_bad_field_is_422_naming_it(
    api: LocalClient, body: dict[str, str], field: str
) -> None:
    resp = api.post("/_local/sms-inbound", json_body=body)

    assert resp.status == 422
    assert field in {detail["field"] for detail in resp.json()["error"]["details"]}


def test_functions_get_the_local_base_url_for_links(local_stack: LocalStack) -> None:
    functions = local_stack.deployment.functions.values()

    assert {f.environment["BATON_PUBLIC_BASE_URL"] for f in functions} == {local_stack.base_url}
