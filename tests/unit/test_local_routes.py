"""The local API Gateway's route table: read from a template, matched as API Gateway matches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.local.exceptions import TemplateError
from infra.local.routes import (
    ApiMethod,
    ApiResource,
    LambdaProxy,
    MockResponse,
    RouteTable,
    UnsupportedIntegration,
)

FIXTURE = Path(__file__).parent.parent / "e2e" / "local_stack_fixture" / "template.json"


def _table(*paths: str) -> RouteTable:
    proxy = LambdaProxy("Fn")
    return RouteTable(
        ApiResource(f"R{i}", path, {"GET": ApiMethod(f"M{i}", "GET", "NONE", proxy)})
        for i, path in enumerate(paths)
    )


@pytest.fixture(scope="module")
def fixture_routes() -> RouteTable:
    template: dict[str, Any] = json.loads(FIXTURE.read_text())
    return RouteTable.from_template(template)


@pytest.mark.parametrize(
    ("path", "resource", "parameters"),
    [
        ("/v1/contacts/c-1", "/v1/contacts/{contact_id}", {"contact_id": "c-1"}),
        ("/v1/contacts/c-1/", "/v1/contacts/{contact_id}", {"contact_id": "c-1"}),
        ("/v1/contacts/export", "/v1/contacts/export", {}),
        ("/v1/contacts/c-1/timeline", "/v1/contacts/{contact_id}/timeline", {"contact_id": "c-1"}),
        ("/v1/confirm/a%2Fb%20c", "/v1/confirm/{token}", {"token": "a/b c"}),
        ("/files/a/b/c.txt", "/files/{path+}", {"path": "a/b/c.txt"}),
        ("/", "/", {}),
    ],
)
def test_request_path_matches_the_most_specific_resource(
    path: str, resource: str, parameters: dict[str, str]
) -> None:
    table = _table(
        "/",
        "/v1/contacts/{contact_id}",
        "/v1/contacts/export",
        "/v1/contacts/{contact_id}/timeline",
        "/v1/confirm/{token}",
        "/files/{path+}",
    )

    found = table.match(path)

    assert found is not None
    assert (found.resource.path, found.path_parameters) == (resource, parameters)


@pytest.mark.parametrize(
    "path", ["/v1/contacts", "/v1/contacts/c-1/timeline/more", "/v1/contacts//timeline", "/x"]
)
def test_paths_without_a_resource_do_not_match(path: str) -> None:
    table = _table("/v1/contacts/{contact_id}", "/v1/contacts/{contact_id}/timeline")

    assert table.match(path) is None


def test_a_greedy_parameter_needs_at_least_one_segment() -> None:
    assert _table("/files/{path+}").match("/files") is None


def test_template_resources_become_paths_with_their_methods(fixture_routes: RouteTable) -> None:
    paths = {r.path: sorted(r.methods) for r in fixture_routes.resources}

    assert paths == {
        "/": ["GET"],
        "/echo": [],
        "/echo/{name}": ["GET", "OPTIONS", "POST"],
        "/private": [],
        "/private/{item_id}": ["GET"],
        "/send": ["POST"],
        "/boom": ["GET"],
    }
    assert fixture_routes.stage == "prod"
    assert fixture_routes.api_logical_id == "FixtureApiRestApi4C2D0E11"


def test_proxy_methods_name_their_function_and_authorization(fixture_routes: RouteTable) -> None:
    found = fixture_routes.match("/private/7")
    assert found is not None
    method = found.resource.method("GET")

    assert method is not None
    assert method.integration == LambdaProxy("EchoFunction0A1B2C3D")
    assert method.needs_credentials
    assert found.resource.method("DELETE") is None


def test_cors_mock_method_answers_the_listed_origins() -> None:
    template: dict[str, Any] = json.loads(FIXTURE.read_text())
    mock = RouteTable.from_template(template).match("/echo/x")
    assert mock is not None
    method = mock.resource.method("OPTIONS")
    assert method is not None
    integration = method.integration
    assert isinstance(integration, MockResponse)

    def origin(request_origin: str | None) -> str:
        return dict(integration.headers_for(request_origin))["Access-Control-Allow-Origin"]

    assert integration.status == 204
    assert origin(None) == "https://www.example.com"
    assert origin("https://shop.example.com") == "https://shop.example.com"
    assert origin("https://evil.example.net") == "https://www.example.com"


def test_any_method_serves_every_verb() -> None:
    resource = ApiResource("R", "/x", {"ANY": ApiMethod("M", "ANY", "NONE", LambdaProxy("Fn"))})

    assert resource.method("PATCH") is not None


def test_binary_media_types_come_from_the_rest_api(fixture_routes: RouteTable) -> None:
    assert fixture_routes.is_binary("application/octet-stream")
    assert not fixture_routes.is_binary("application/json; charset=utf-8")
    assert not fixture_routes.is_binary(None)


def test_integration_the_local_stack_cannot_run_is_marked_unsupported() -> None:
    template: dict[str, Any] = json.loads(FIXTURE.read_text())
    method = template["Resources"]["FixtureApisendPOST6A7B8C9D"]["Properties"]
    method["Integration"] = {"Type": "HTTP_PROXY", "Uri": "https://example.com"}

    found = RouteTable.from_template(template).match("/send")

    assert found is not None
    post = found.resource.method("POST")
    assert post is not None
    assert post.integration == UnsupportedIntegration("HTTP_PROXY")


def test_a_template_without_rest_api_has_no_routes() -> None:
    assert RouteTable.from_template({"Resources": {}}).match("/") is None


def test_two_rest_apis_are_refused() -> None:
    api = {"Type": "AWS::ApiGateway::RestApi", "Properties": {}}

    with pytest.raises(TemplateError, match="one REST API"):
        RouteTable.from_template({"Resources": {"A": api, "B": api}})
