"""The one place that creates Baton's Lambda functions: runtime, asset, tracing, logs, environment."""

from __future__ import annotations

import json
from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from baton.settings import dead_letter_queue_fields
from infra import nag, names
from infra.config import BatonConfig, runtime_settings

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.X86_64


def function_environment(
    config: BatonConfig,
    *,
    table_names: Mapping[str, str],
    token_secret_arn: str,
    suppression_salt_secret_arn: str,
    configuration_set_name: str,
    public_base_url: str,
    state_machine_arn_prefix: str,
) -> dict[str, str]:
    """Every `baton.settings.Settings` field a function reads, plus Powertools' own variables.

    Values may be CloudFormation tokens (table names, ARNs); lists are JSON, as pydantic-settings
    parses them.
    """
    environment = {names.table_env(table_id): name for table_id, name in table_names.items()}
    environment |= {
        names.ENV_TOKEN_SECRET_ARN: token_secret_arn,
        names.ENV_SUPPRESSION_SALT_SECRET_ARN: suppression_salt_secret_arn,
        names.ENV_PUBLIC_BASE_URL: public_base_url,
        names.ENV_BRAND_NAME: config.brand_name,
        names.ENV_SUPPORT_URL: str(config.support_url),
        names.ENV_POSTAL_ADDRESS: config.postal_address,
        names.ENV_SENDER_EMAIL: str(config.sender_email),
        names.ENV_SES_CONFIGURATION_SET: configuration_set_name,
        names.ENV_DEFAULT_TOPICS: json.dumps(config.default_topics),
        names.ENV_TOPICS: json.dumps(config.topics),
        names.ENV_TOKEN_TTL_DAYS: str(config.token_ttl_days),
        names.ENV_CONFIRM_TTL_DAYS: str(config.confirm_ttl_days),
        names.ENV_MAX_BODY_BYTES: str(config.max_body_bytes),
        names.ENV_ALLOWED_ORIGINS: json.dumps(config.origins),
        # The asset ships the catalog next to `baton/`: journeys deploy with the code, read from disk.
        names.ENV_JOURNEYS_DIR: names.ASSET_JOURNEYS_DIR,
        names.ENV_STATE_MACHINE_ARN_PREFIX: state_machine_arn_prefix,
        names.ENV_SMS_MAX_PARTS: str(config.sms_max_parts),
        names.settings_env("locales"): json.dumps(config.locales),
        names.settings_env("review_grace_days"): str(config.review.grace_days),
        names.settings_env("review_closes_marketing"): json.dumps(config.review.close_overdue_marketing),
        names.settings_env("approvals_transactional"): json.dumps(config.approvals.transactional),
        names.settings_env("inventory"): config.inventory.model_dump_json(by_alias=True),
        # Hand-off queues: the stack replaces these with `Handoffs.environment`.
        names.settings_env("queue_topics"): "{}",
        names.settings_env("queue_emails"): "{}",
    }
    # Empty here: the stack gives the queue URLs to the function that erases alone (R-GDPR-5).
    environment |= {names.settings_env(field): "" for field in dead_letter_queue_fields()}
    # Empty here: `Campaigns` names its bucket and state machine to the functions it grants them.
    environment |= {names.ENV_CAMPAIGNS_BUCKET: "", names.ENV_CAMPAIGN_STATE_MACHINE_ARN: ""}
    # Every send may take the whole of each second and waits at most a second for room; the
    # campaign function is given less (`campaigns.rateShare`) and a longer wait.
    environment |= {
        names.settings_env("pacing_share"): "1",
        names.settings_env("pacing_max_wait_seconds"): "1",
    }
    # Channels and the gate: cdk.json's `delivery`, else the defaults, written out so the
    # deployed values are visible in the function's configuration.
    environment |= {
        names.settings_env(name): value if isinstance(value, str) else json.dumps(value)
        for name, value in runtime_settings(config).items()
    }
    environment |= {
        "POWERTOOLS_SERVICE_NAME": names.POWERTOOLS_SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": names.POWERTOOLS_METRICS_NAMESPACE,
    }
    return environment


def baton_function(
    scope: Construct,
    function_id: str,
    *,
    code: lambda_.Code,
    environment: Mapping[str, str],
    config: BatonConfig,
    description: str,
    dead_letter_queue: sqs.IQueue | None = None,
    timeout: Duration | None = None,
) -> lambda_.Function:
    """A function named in `names.HANDLERS`, with its own role, log group and X-Ray tracing.
    `timeout` (default: the API's `timeoutSeconds`) is for functions no API request waits for."""
    log_group = logs.LogGroup(scope, f"{function_id}Logs", retention=config.log_retention)
    # An own role instead of AWSLambdaBasicExecutionRole: it may write to this log group only.
    role = iam.Role(
        scope,
        f"{function_id}Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"Runs {function_id}",
    )
    log_group.grant_write(role)
    function = lambda_.Function(
        scope,
        function_id,
        description=description,
        runtime=RUNTIME,
        architecture=ARCHITECTURE,
        handler=names.HANDLERS[function_id],
        code=code,
        role=role,
        memory_size=config.memory_mb,
        timeout=timeout or Duration.seconds(config.timeout_seconds),
        tracing=lambda_.Tracing.ACTIVE,
        log_group=log_group,
        environment=dict(environment),
        dead_letter_queue=dead_letter_queue,
    )
    nag.acknowledge(
        role,
        "AwsSolutions-IAM5[Resource::*]",
        "X-Ray's PutTraceSegments/PutTelemetryRecords have no resource-level permissions.",
    )
    nag.acknowledge(
        function,
        "AwsSolutions-L1",
        "Pinned to python3.13 on purpose: requirements/lambda.lock and its wheels are built for it;"
        " a runtime upgrade is a deliberate change of RUNTIME, the lock and the wheelhouse together.",
    )
    return function
