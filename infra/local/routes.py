"""The REST API of the template as a route table: resources, methods, integrations, and the
matching API Gateway does (a literal path part beats `{param}`, which beats `{proxy+}`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import unquote

from infra.local.exceptions import TemplateError
from infra.local.intrinsics import intrinsic, references

REST_API: Final = "AWS::ApiGateway::RestApi"
RESOURCE: Final = "AWS::ApiGateway::Resource"
METHOD: Final = "AWS::ApiGateway::Method"
STAGE: Final = "AWS::ApiGateway::Stage"
FUNCTION: Final = "AWS::Lambda::Function"
DEFAULT_STAGE: Final = "prod"

_HEADER_PARAMETER: Final = "method.response.header."
# CDK's preflight template for several origins echoes the request's Origin when it is one of them.
_ECHOED_ORIGIN: Final = re.compile(r'\$origin\s*==\s*"([^"]+)"')


@dataclass(frozen=True)
class LambdaProxy:
    """`AWS_PROXY` to a Lambda function of the template."""

    function: str  # logical id


@dataclass(frozen=True)
class MockResponse:
    """A `MOCK` integration (CDK's CORS preflight): a fixed status and headers."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    echoed_origins: frozenset[str] = frozenset()

    def headers_for(self, origin: str | None) -> list[tuple[str, str]]:
        headers = list(self.headers)
        if origin is not None and origin in self.echoed_origins:
            headers = [(k, v) for k, v in headers if k.lower() != "access-control-allow-origin"]
            headers.append(("Access-Control-Allow-Origin", origin))
        return headers


@dataclass(frozen=True)
class UnsupportedIntegration:
    kind: str


Integration = LambdaProxy | MockResponse | UnsupportedIntegration


@dataclass(frozen=True)
class ApiMethod:
    logical_id: str
    http_method: str  # upper case; "ANY" matches every verb
    authorization: str  # NONE | AWS_IAM | COGNITO_USER_POOLS | CUSTOM
    integration: Integration

    @property
    def needs_credentials(self) -> bool:
        return self.authorization != "NONE"


@dataclass(frozen=True)
class ApiResource:
    logical_id: str
    path: str  # "/v1/confirm/{token}"
    methods: Mapping[str, ApiMethod] = field(default_factory=dict)

    def method(self, verb: str) -> ApiMethod | None:
        return self.methods.get(verb.upper()) or self.methods.get("ANY")

    @property
    def allowed(self) -> list[str]:
        return sorted(self.methods)


@dataclass(frozen=True)
class RouteMatch:
    resource: ApiResource
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class _Part:
    text: str
    kind: int  # 2 literal, 1 {param}, 0 {greedy+}: the higher wins

    @classmethod
    def parse(cls, text: str) -> _Part:
        if text.startswith("{") and text.endswith("+}"):
            return cls(text[1:-2], 0)
        if text.startswith("{") and text.endswith("}"):
            return cls(text[1:-1], 1)
        return cls(text, 2)


def _segments(path: str) -> list[str]:
    """`/v1/a/` and `/v1/a` are the same resource; the root is no segment at all."""
    trimmed = path.strip("/") if path != "/" else ""
    return trimmed.split("/") if trimmed else []


class RouteTable:
    """Resources of one REST API, matched the way API Gateway matches them."""

    def __init__(
        self,
        resources: Iterable[ApiResource],
        *,
        api_logical_id: str = "",
        stage: str = DEFAULT_STAGE,
        binary_media_types: tuple[str, ...] = (),
    ) -> None:
        self.resources = tuple(resources)
        self.api_logical_id = api_logical_id
        self.stage = stage
        self.binary_media_types = binary_media_types
        self._parsed = [(r, [_Part.parse(s) for s in _segments(r.path)]) for r in self.resources]

    def match(self, path: str) -> RouteMatch | None:
        """The most specific resource for a request path (raw, still percent-encoded)."""
        segments = _segments(path)
        best: tuple[tuple[int, ...], RouteMatch] | None = None
        for resource, parts in self._parsed:
            found = _match_parts(parts, segments)
            if found is None:
                continue
            score, parameters = found
            if best is None or score > best[0]:
                best = (score, RouteMatch(resource, parameters))
        return best[1] if best else None

    def is_binary(self, content_type: str | None) -> bool:
        if not content_type:
            return False
        mime = content_type.split(";", 1)[0].strip().lower()
        for pattern in self.binary_media_types:
            wanted = pattern.replace("~1", "/").lower()
            if wanted in ("*/*", mime) or (wanted.endswith("/*") and mime.startswith(wanted[:-1])):
                return True
        return False

    @classmethod
    def from_template(cls, template: Mapping[str, Any]) -> RouteTable:
        """The template's REST API (at most one); an empty table when it has none."""
        resources: Mapping[str, Any] = template.get("Resources", {})
        apis = [lid for lid, r in resources.items() if r.get("Type") == REST_API]
        if not apis:
            return cls(())
        if len(apis) > 1:
            raise TemplateError(f"the local stack serves one REST API; the template has {len(apis)}: {apis}")
        api_id = apis[0]
        api_props = resources[api_id].get("Properties", {})
        paths = _resource_paths(api_id, resources)
        methods: dict[str, dict[str, ApiMethod]] = {lid: {} for lid in paths}
        for lid, res in resources.items():
            if res.get("Type") != METHOD:
                continue
            props = res.get("Properties", {})
            parent = _parent_of(props.get("ResourceId"), api_id)
            if parent not in paths:
                raise TemplateError(
                    f"method {lid} is on {props.get('ResourceId')!r}, not a resource of {api_id}"
                )
            verb = str(props.get("HttpMethod", "")).upper()
            methods[parent][verb] = ApiMethod(
                logical_id=lid,
                http_method=verb,
                authorization=str(props.get("AuthorizationType", "NONE")),
                integration=_integration(props.get("Integration", {}), resources),
            )
        return cls(
            (ApiResource(lid, path, methods[lid]) for lid, path in paths.items()),
            api_logical_id=api_id,
            stage=_stage_name(api_id, resources),
            binary_media_types=tuple(api_props.get("BinaryMediaTypes", ())),
        )


def _match_parts(parts: list[_Part], segments: list[str]) -> tuple[tuple[int, ...], dict[str, str]] | None:
    parameters: dict[str, str] = {}
    score: list[int] = []
    for index, part in enumerate(parts):
        if part.kind == 0:
            rest = segments[index:]
            if not rest or index != len(parts) - 1:
                return None
            parameters[part.text] = unquote("/".join(rest))
            score.append(0)
            return tuple(score), parameters
        if index >= len(segments):
            return None
        segment = segments[index]
        if part.kind == 2:
            if segment != part.text:
                return None
        elif not segment:
            return None
        else:
            parameters[part.text] = unquote(segment)
        score.append(part.kind)
    if len(parts) != len(segments):
        return None
    return tuple(score), parameters


def _parent_of(value: Any, api_id: str) -> str:
    """`Ref: <Resource>` -> that resource; `Fn::GetAtt [Api, RootResourceId]` -> the API (root)."""
    call = intrinsic(value)
    if call is not None:
        name, argument = call
        if name == "Ref" and isinstance(argument, str):
            return argument
        if name == "Fn::GetAtt" and argument == [api_id, "RootResourceId"]:
            return api_id
    raise TemplateError(f"cannot tell which API resource {value!r} is")


def _resource_paths(api_id: str, resources: Mapping[str, Any]) -> dict[str, str]:
    parents: dict[str, tuple[str, str]] = {}
    for lid, res in resources.items():
        if res.get("Type") == RESOURCE:
            props = res.get("Properties", {})
            parents[lid] = (_parent_of(props.get("ParentId"), api_id), str(props.get("PathPart", "")))
    paths: dict[str, str] = {api_id: "/"}

    def path_of(lid: str, seen: tuple[str, ...] = ()) -> str:
        if lid in paths:
            return paths[lid]
        if lid not in parents or lid in seen:
            raise TemplateError(f"API resource {lid} does not lead back to {api_id}")
        parent, part = parents[lid]
        paths[lid] = path_of(parent, (*seen, lid)).rstrip("/") + "/" + part
        return paths[lid]

    for lid in parents:
        path_of(lid)
    return paths


def _integration(spec: Mapping[str, Any], resources: Mapping[str, Any]) -> Integration:
    kind = str(spec.get("Type", ""))
    if kind == "AWS_PROXY":
        targets = {
            lid for lid, _ in references(spec.get("Uri")) if resources.get(lid, {}).get("Type") == FUNCTION
        }
        if len(targets) == 1:
            return LambdaProxy(targets.pop())
        return UnsupportedIntegration(f"AWS_PROXY to {spec.get('Uri')!r}")
    if kind == "MOCK":
        return _mock_response(spec)
    return UnsupportedIntegration(kind or "none")


def _mock_response(spec: Mapping[str, Any]) -> MockResponse:
    responses = spec.get("IntegrationResponses") or [{"StatusCode": "200"}]
    default = next((r for r in responses if not r.get("SelectionPattern")), responses[0])
    headers = tuple(
        (name[len(_HEADER_PARAMETER) :], value[1:-1])
        for name, value in default.get("ResponseParameters", {}).items()
        if name.startswith(_HEADER_PARAMETER)
        and isinstance(value, str)
        and len(value) >= 2
        and value[0] == "'"
    )
    templates = " ".join(str(t) for t in default.get("ResponseTemplates", {}).values())
    return MockResponse(
        status=int(default.get("StatusCode", 200)),
        headers=headers,
        echoed_origins=frozenset(_ECHOED_ORIGIN.findall(templates)),
    )


def _stage_name(api_id: str, resources: Mapping[str, Any]) -> str:
    for res in resources.values():
        props = res.get("Properties", {})
        if res.get("Type") == STAGE and props.get("RestApiId") == {"Ref": api_id} and "StageName" in props:
            return str(props["StageName"])
    return DEFAULT_STAGE
