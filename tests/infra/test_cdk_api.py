"""The REST API: the contract's routes, their auth, CORS, throttling, logging and tracing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import assertions

from infra.names import HANDLERS, ROUTES, Access, Route
from infra.synth import cdk_json_context

METHOD = "AWS::ApiGateway::Method"
PUBLIC_ROUTES = [r for r in ROUTES if r.access is Access.PUBLIC]
PRIVATE_ROUTES = [r for r in ROUTES if r.access is Access.PRIVATE]


def _route_id(route: Route) -> str:
    return f"{route.method} {route.path}"


def _resource_paths(template_json: dict[str, Any]) -> dict[str, str]:
    """Logical id of every API Gateway resource -> its full path (`/v1/contacts/{contact_id}`)."""
    resources = {
        logical_id: r["Properties"]
        for logical_id, r in template_json["Resources"].items()
        if r["Type"] == "AWS::ApiGateway::Resource"
    }

    def path_of(logical_id: str) -> str:
        properties = resources[logical_id]
        parent = properties["ParentId"]
        prefix = path_of(parent["Ref"]) if "Ref" in parent else ""
        return f"{prefix}/{properties['PathPart']}"

    return {logical_id: path_of(logical_id) for logical_id in resources}


def _methods(template_json: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(verb, path) -> the method's properties."""
    paths = _resource_paths(template_json)
    return {
        (r["Properties"]["HttpMethod"], paths[r["Properties"]["ResourceId"]["Ref"]]): r["Properties"]
        for r in template_json["Resources"].values()
        if r["Type"] == METHOD
    }


def _function_of(template_json: dict[str, Any], method: dict[str, Any]) -> str:
    """The handler of the function a proxy integration invokes."""
    uri_parts = method["Integration"]["Uri"]["Fn::Join"][1]
    (function_logical_id,) = [
        p["Fn::GetAtt"][0] for p in uri_parts if isinstance(p, dict) and "Fn::GetAtt" in p
    ]
    handler: str = template_json["Resources"][function_logical_id]["Properties"]["Handler"]
    return handler


@pytest.mark.parametrize("route", ROUTES, ids=_route_id)
def test_contract_route_proxies_to_its_function(template_json: dict[str, Any], route: Route) -> None:
    # given the contract route, when the API is synthesized, then one method proxies it to its handler
    method = _methods(template_json)[(route.method, route.path)]

    assert method["Integration"]["Type"] == "AWS_PROXY"
    assert _function_of(template_json, method) == HANDLERS[route.function]


def test_api_has_no_routes_beyond_the_contract_and_preflights(template_json: dict[str, Any]) -> None:
    non_preflight = {key for key in _methods(template_json) if key[0] != "OPTIONS"}

    assert non_preflight == {(route.method, route.path) for route in ROUTES}


@pytest.mark.parametrize("route", PRIVATE_ROUTES, ids=_route_id)
def test_private_routes_require_iam_signatures(template_json: dict[str, Any], route: Route) -> None:
    assert _methods(template_json)[(route.method, route.path)]["AuthorizationType"] == "AWS_IAM"


@pytest.mark.parametrize("route", PUBLIC_ROUTES, ids=_route_id)
def test_public_routes_take_no_credentials(template_json: dict[str, Any], route: Route) -> None:
    assert _methods(template_json)[(route.method, route.path)]["AuthorizationType"] == "NONE"


@pytest.mark.parametrize("path", sorted({r.path for r in PUBLIC_ROUTES}))
def test_public_resources_answer_cors_preflight_for_configured_origins(
    template_json: dict[str, Any], path: str
) -> None:
    # given allowed origins in cdk.json, when a browser sends a preflight, then the origin is allowed
    (origin,) = cdk_json_context()["baton"]["allowedOrigins"]
    preflight = _methods(template_json)[("OPTIONS", path)]
    headers = preflight["Integration"]["IntegrationResponses"][0]["ResponseParameters"]

    assert preflight["AuthorizationType"] == "NONE"
    assert headers["method.response.header.Access-Control-Allow-Origin"] == f"'{origin}'"
    allowed = set(headers["method.response.header.Access-Control-Allow-Methods"].strip("'").split(","))
    assert allowed == {r.method for r in PUBLIC_ROUTES if r.path == path} | {"OPTIONS"}


def test_private_resources_answer_no_cors_preflight(template_json: dict[str, Any]) -> None:
    preflight_paths = {path for verb, path in _methods(template_json) if verb == "OPTIONS"}

    assert preflight_paths.isdisjoint({r.path for r in PRIVATE_ROUTES})


def _stage(template: assertions.Template) -> dict[str, Any]:
    (stage,) = template.find_resources("AWS::ApiGateway::Stage").values()
    properties: dict[str, Any] = stage["Properties"]
    return properties


def test_public_routes_are_throttled_tighter_than_the_stage(template: assertions.Template) -> None:
    # given the throttles in cdk.json, then each public method has its own, lower limit
    config = cdk_json_context()["baton"]
    settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in _stage(template)["MethodSettings"]}
    stage_wide = settings[("/*", "*")]

    for route in PUBLIC_ROUTES:
        escaped = route.path.replace("/", "~1")
        method = settings[(f"/{escaped}", route.method)]
        assert method["ThrottlingRateLimit"] == config["publicThrottle"]["rateLimit"]
        assert method["ThrottlingBurstLimit"] == config["publicThrottle"]["burstLimit"]
        assert method["ThrottlingRateLimit"] < stage_wide["ThrottlingRateLimit"]
        assert method["ThrottlingBurstLimit"] < stage_wide["ThrottlingBurstLimit"]


def test_stage_writes_access_logs_and_traces_requests(template: assertions.Template) -> None:
    stage = _stage(template)

    assert stage["TracingEnabled"] is True
    log_group_id = stage["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"][0]
    log_group = template.find_resources("AWS::Logs::LogGroup")[log_group_id]
    assert log_group["Properties"]["RetentionInDays"] == cdk_json_context()["baton"]["logRetentionDays"]


@pytest.mark.parametrize(
    ("response_type", "code"),
    [
        ("THROTTLED", "too_many_requests"),
        ("REQUEST_TOO_LARGE", "payload_too_large"),
        ("MISSING_AUTHENTICATION_TOKEN", "forbidden"),
        ("DEFAULT_5XX", "internal_error"),
    ],
)
def test_api_gateways_own_errors_use_the_contract_error_shape(
    template: assertions.Template, response_type: str, code: str
) -> None:
    # given API Gateway answers before any handler runs (e.g. a throttled form post),
    # then the body is still {"error": {"code", "message", "details"}}
    (response,) = template.find_resources(
        "AWS::ApiGateway::GatewayResponse", {"Properties": {"ResponseType": response_type}}
    ).values()
    body = response["Properties"]["ResponseTemplates"]["application/json"]
    rendered = json.loads(body.replace("$context.error.messageString", '"Too Many Requests"'))

    assert rendered == {"error": {"code": code, "message": "Too Many Requests", "details": []}}


@pytest.mark.parametrize("path", ["/v1/confirm/{token}", "/v1/unsubscribe/{token}"])
def test_a_link_in_a_message_opens_its_page_by_get_and_acts_by_post_without_credentials(
    template_json: dict[str, Any], path: str
) -> None:
    # R-MBX-5, R-CANSPAM-1, R-MBX-2: a click is a GET (the page), its button and the one-click
    # header are a POST; neither may ask for credentials (API Gateway would answer 403).
    methods = _methods(template_json)

    for verb in ("GET", "POST"):
        assert methods[(verb, path)]["AuthorizationType"] == "NONE"


_LISTS = "/v1/do-not-contact/{list_name}"


@pytest.mark.parametrize(
    ("verb", "path"),
    [
        ("PUT", _LISTS),
        ("GET", _LISTS),
        ("POST", f"{_LISTS}/loads"),
        ("PUT", f"{_LISTS}/loads/{{load_id}}/parts/{{part}}"),
        ("POST", f"{_LISTS}/loads/{{load_id}}/commit"),
    ],
)
def test_r_br_1_the_do_not_contact_list_routes_are_private_and_reach_the_private_function(
    template_json: dict[str, Any], verb: str, path: str
) -> None:
    # an operator loads a list, whole or in parts, and reads its status; nobody without IAM
    # credentials may
    method = _methods(template_json)[(verb, path)]

    assert method["AuthorizationType"] == "AWS_IAM"
    assert _function_of(template_json, method) == HANDLERS["PrivateApiFunction"]


def test_the_contact_import_route_is_private_and_reaches_the_private_function(
    template_json: dict[str, Any],
) -> None:
    # a file of contacts with their consent: only the back office, signed with IAM, may send one
    method = _methods(template_json)[("POST", "/v1/contacts:import")]

    assert method["AuthorizationType"] == "AWS_IAM"
    assert method["Integration"]["Type"] == "AWS_PROXY"
    assert _function_of(template_json, method) == HANDLERS["PrivateApiFunction"]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/journeys/{journey_id}/figures",
        "/v1/queues/{queue}/figures",
        "/v1/inventory",
        "/v1/templates",
        "/v1/templates/{template_id}",
    ],
)
def test_the_figures_and_inventory_routes_are_private_gets_that_reach_the_private_function(
    template_json: dict[str, Any], path: str
) -> None:
    # counts, every automated message and its templates: for the back office, signed with IAM,
    # read only
    methods = _methods(template_json)
    method = methods[("GET", path)]

    assert method["AuthorizationType"] == "AWS_IAM"
    assert method["Integration"]["Type"] == "AWS_PROXY"
    assert _function_of(template_json, method) == HANDLERS["PrivateApiFunction"]
    assert {verb for verb, at in methods if at == path} == {"GET"}
