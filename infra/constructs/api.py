"""The REST API: the contract's routes (`infra.names.ROUTES`) as Lambda proxy integrations.

Public routes take no credentials, answer CORS preflights for the configured origins and are
throttled tighter than the stage; private routes need SigV4 (AWS_IAM). Bodies are JSON or form
posts: API Gateway caps payloads at 10 MB, the handler enforces BATON_MAX_BODY_BYTES (413).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from aws_cdk import Aws, Duration, Fn
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import nag
from infra.config import BatonConfig
from infra.names import ROUTES, Access, Route

_ERROR_TEMPLATE = '{"error": {"code": "CODE", "message": $context.error.messageString, "details": []}}'
# API Gateway's own error responses -> the contract's error code (snake_case, as the handlers use).
_GATEWAY_ERRORS: dict[str, tuple[apigateway.ResponseType, str]] = {
    "Throttled": (apigateway.ResponseType.THROTTLED, "too_many_requests"),
    "RequestTooLarge": (apigateway.ResponseType.REQUEST_TOO_LARGE, "payload_too_large"),
    "AccessDenied": (apigateway.ResponseType.ACCESS_DENIED, "forbidden"),
    # Also what API Gateway answers for an unknown path: no route leaks which paths exist.
    "MissingAuthenticationToken": (apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN, "forbidden"),
    "InvalidSignature": (apigateway.ResponseType.INVALID_SIGNATURE, "forbidden"),
    "ExpiredToken": (apigateway.ResponseType.EXPIRED_TOKEN, "forbidden"),
    "Default4xx": (apigateway.ResponseType.DEFAULT_4_XX, "bad_request"),
    "Default5xx": (apigateway.ResponseType.DEFAULT_5_XX, "internal_error"),
}


def _method_key(route: Route) -> str:
    """A stage `method_options` key: the resource path, then the verb."""
    return f"{route.path}/{route.method}"


class Api(Construct):
    """Built in two steps: the API and stage first (functions need its URL), then `add_routes`."""

    def __init__(self, scope: Construct, construct_id: str, *, config: BatonConfig) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self.access_logs = logs.LogGroup(self, "AccessLogs", retention=config.log_retention)
        public_throttle = apigateway.MethodDeploymentOptions(
            throttling_rate_limit=config.public_throttle.rate_limit,
            throttling_burst_limit=config.public_throttle.burst_limit,
        )
        self.rest_api = apigateway.RestApi(
            self,
            "RestApi",
            rest_api_name=f"{config.stack_name}-api",
            description="Baton: public subscription/preference routes and the private contacts API.",
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            # The account-wide CloudWatch role is an account setting, not this stack's to own.
            cloud_watch_role=False,
            deploy_options=apigateway.StageOptions(
                stage_name=config.stage_name,
                tracing_enabled=True,
                metrics_enabled=True,
                throttling_rate_limit=config.api_throttle.rate_limit,
                throttling_burst_limit=config.api_throttle.burst_limit,
                method_options={
                    _method_key(route): public_throttle for route in ROUTES if route.access is Access.PUBLIC
                },
                access_log_destination=apigateway.LogGroupLogDestination(self.access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
            ),
        )
        self._add_contract_error_responses()
        self._acknowledge_api_findings()

    def _add_contract_error_responses(self) -> None:
        """Errors API Gateway answers itself (throttling, missing signature, oversize) in the
        contract's `{"error": {...}}` shape, like the handlers' own errors."""
        for response_id, (response_type, code) in _GATEWAY_ERRORS.items():
            self.rest_api.add_gateway_response(
                response_id,
                type=response_type,
                # messageString is already a quoted JSON string.
                templates={"application/json": _ERROR_TEMPLATE.replace("CODE", code)},
            )

    @property
    def execute_api_url(self) -> str:
        """The stage's base URL, built from the API id: referencing the Stage would be a cycle
        (stage -> deployment -> methods -> functions -> this URL)."""
        return Fn.join(
            "",
            [
                "https://",
                self.rest_api.rest_api_id,
                ".execute-api.",
                Aws.REGION,
                ".",
                Aws.URL_SUFFIX,
                "/",
                self._config.stage_name,
            ],
        )

    def add_routes(self, functions: Mapping[str, lambda_.IFunction]) -> None:
        """One method per contract route, proxied to the function the route names."""
        integrations = {
            function_id: apigateway.LambdaIntegration(function, proxy=True, allow_test_invoke=False)
            for function_id, function in functions.items()
        }
        public_methods: dict[str, list[str]] = defaultdict(list)
        for route in ROUTES:
            resource = self.rest_api.root.resource_for_path(route.path)
            method = resource.add_method(
                route.method,
                integrations[route.function],
                authorization_type=(
                    apigateway.AuthorizationType.NONE
                    if route.access is Access.PUBLIC
                    else apigateway.AuthorizationType.IAM
                ),
            )
            if route.access is Access.PUBLIC:
                public_methods[route.path].append(route.method)
                self._acknowledge_public(method)
            else:
                nag.acknowledge(
                    method,
                    "AwsSolutions-COG4",
                    "Private routes are for back-office systems and use IAM (SigV4), not Cognito users.",
                )
        for path, methods in public_methods.items():
            self._add_cors(self.rest_api.root.resource_for_path(path), methods)

    def _add_cors(self, resource: apigateway.IResource, methods: list[str]) -> None:
        if not self._config.origins:
            return
        resource.add_cors_preflight(
            allow_origins=self._config.origins,
            allow_methods=[*methods, "OPTIONS"],
            allow_headers=["Content-Type"],
            max_age=Duration.hours(1),
        )

    @staticmethod
    def _acknowledge_public(method: apigateway.Method) -> None:
        reason = (
            "Public by contract: web forms and links in messages call it without credentials;"
            " a signed token (or nothing, for sign-up) authorizes it, and the method is throttled."
        )
        nag.acknowledge(method, "AwsSolutions-APIG4", reason)
        nag.acknowledge(method, "AwsSolutions-COG4", reason)

    def _acknowledge_api_findings(self) -> None:
        nag.acknowledge(
            self.rest_api,
            "AwsSolutions-APIG2",
            "Bodies are validated by the handlers' pydantic models, which answer the contract's"
            " 422 with the field named; API Gateway's validator would answer 400 in another shape.",
        )
        nag.acknowledge(
            self.rest_api,
            "AwsSolutions-APIG3",
            "No WAF by default (cost, per-account rules); the stage and public methods are throttled."
            " Associate a web ACL with the stage where the operator runs one.",
        )
        nag.acknowledge(
            self.rest_api,
            "AwsSolutions-APIG6",
            "Execution logging needs the account-wide API Gateway CloudWatch role, which this stack"
            " does not own; access logs and the functions' own logs record every request.",
        )
