"""Names shared by the CDK app, the local stack and tests: construct ids, handlers, routes, env vars."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from baton.settings import METRICS_NAMESPACE, SERVICE_NAME

# Constructs under the stack (one per concern).
DATA_PLANE: Final = "DataPlane"
SECRETS: Final = "Secrets"
API: Final = "Api"
DELIVERY: Final = "Delivery"
OBSERVABILITY: Final = "Observability"
DASHBOARDS: Final = "Dashboards"
JOURNEYS: Final = "Journeys"
HANDOFFS: Final = "Handoffs"  # the hand-off queues' topics
SCHEDULES: Final = "Schedules"  # EventBridge Scheduler schedules of scheduled journeys
EVENTS: Final = "Events"  # the Baton event bus and its rule
FEEDBACK: Final = "Feedback"  # delivery receipts, bounces and complaints
CAMPAIGNS: Final = "Campaigns"  # the campaign state machine, its function and snapshot bucket

# The Lambda functions: construct id -> handler.
PUBLIC_API_FUNCTION: Final = "PublicApiFunction"
PRIVATE_API_FUNCTION: Final = "PrivateApiFunction"
SMS_INBOUND_FUNCTION: Final = "SmsInboundFunction"
# Every task of every journey's state machine (one function for all); created by `Journeys`.
JOURNEY_STEP_FUNCTION: Final = "JourneyStepFunction"
# EventBridge Scheduler's target: starts a scheduled journey for its segment.
SCHEDULE_FUNCTION: Final = "ScheduleFunction"
# Events from other systems on the Baton bus (EventBridge), like POST /v1/events.
EVENTS_FUNCTION: Final = "EventsFunction"
# SES, End User Messaging and SNS delivery feedback (receipts, bounces, complaints).
FEEDBACK_FUNCTION: Final = "FeedbackFunction"
# Every task of the campaign state machine: snapshot the audience, send a batch, finish, fail.
CAMPAIGN_FUNCTION: Final = "CampaignFunction"
HANDLERS: Final[dict[str, str]] = {
    PUBLIC_API_FUNCTION: "baton.handlers.public_api.handler",
    PRIVATE_API_FUNCTION: "baton.handlers.private_api.handler",
    SMS_INBOUND_FUNCTION: "baton.handlers.sms_inbound.handler",
    JOURNEY_STEP_FUNCTION: "baton.handlers.journey_step.handler",
    SCHEDULE_FUNCTION: "baton.handlers.schedule.handler",
    EVENTS_FUNCTION: "baton.handlers.bus_events.handler",
    FEEDBACK_FUNCTION: "baton.handlers.feedback.handler",
    CAMPAIGN_FUNCTION: "baton.handlers.campaign.handler",
}

# Secrets (construct ids under `Secrets`).
SIGNING_KEY: Final = "TokenSigningKey"
SUPPRESSION_SALT: Final = "SuppressionSalt"

# Environment variables: `baton.settings.Settings` reads BATON_<FIELD>.
ENV_PREFIX: Final = "BATON_"


def settings_env(field: str) -> str:
    """The env var that fills `Settings.<field>`."""
    return f"{ENV_PREFIX}{field.upper()}"


def table_construct_id(table_id: str) -> str:
    """A table's construct id under the data plane (`do_not_contact` -> DoNotContactTable)."""
    return "".join(part.title() for part in table_id.split("_")) + "Table"


def table_env(table_id: str) -> str:
    """The env var holding a table's name (`contacts` -> BATON_CONTACTS_TABLE)."""
    return settings_env(f"{table_id}_table")


ENV_TOKEN_SECRET_ARN: Final = settings_env("token_secret_arn")
ENV_SUPPRESSION_SALT_SECRET_ARN: Final = settings_env("suppression_salt_secret_arn")
ENV_PUBLIC_BASE_URL: Final = settings_env("public_base_url")
ENV_BRAND_NAME: Final = settings_env("brand_name")
ENV_SUPPORT_URL: Final = settings_env("support_url")
ENV_POSTAL_ADDRESS: Final = settings_env("postal_address")
ENV_SENDER_EMAIL: Final = settings_env("sender_email")
ENV_SES_CONFIGURATION_SET: Final = settings_env("ses_configuration_set")
ENV_DEFAULT_TOPICS: Final = settings_env("default_topics")
ENV_TOPICS: Final = settings_env("topics")
ENV_TOKEN_TTL_DAYS: Final = settings_env("token_ttl_days")
ENV_CONFIRM_TTL_DAYS: Final = settings_env("confirm_ttl_days")
ENV_MAX_BODY_BYTES: Final = settings_env("max_body_bytes")
ENV_ALLOWED_ORIGINS: Final = settings_env("allowed_origins")
ENV_JOURNEYS_DIR: Final = settings_env("journeys_dir")
ENV_STATE_MACHINE_ARN_PREFIX: Final = settings_env("state_machine_arn_prefix")
ENV_SMS_MAX_PARTS: Final = settings_env("sms_max_parts")
ENV_CAMPAIGNS_BUCKET: Final = settings_env("campaigns_bucket")
ENV_CAMPAIGN_STATE_MACHINE_ARN: Final = settings_env("campaign_state_machine_arn")

# The catalog folder inside the Lambda asset, next to `baton/` (relative to the task root).
ASSET_JOURNEYS_DIR: Final = "journeys"


def state_machine_name(stack_name: str, journey_id: str) -> str:
    """A journey's state machine: `<stackName>-<journey id>` (the triggers add the journey id to
    BATON_STATE_MACHINE_ARN_PREFIX, which ends in `<stackName>-`)."""
    return f"{stack_name}-{journey_id}"


def digest_schedule_name(stack_name: str) -> str:
    """The review digest's schedule: `<stackName>-ReviewDigest`. The capital letters keep it
    apart from every scheduled journey's `<stackName>-<journey id>` (journey ids are lowercase)."""
    return f"{stack_name}-ReviewDigest"


def campaign_state_machine_name(stack_name: str) -> str:
    """The stack's one campaign state machine: `<stackName>-Campaigns`. The capital letter keeps
    it apart from every journey's `<stackName>-<journey id>` (journey ids are lowercase)."""
    return f"{stack_name}-Campaigns"


def event_bus_name(stack_name: str) -> str:
    """The custom bus other systems put Baton events on (`baton` for the `Baton`
    stack; one bus per stack, so two stacks in an account do not share one)."""
    return stack_name.lower()


POWERTOOLS_SERVICE_NAME: Final = SERVICE_NAME
POWERTOOLS_METRICS_NAMESPACE: Final = METRICS_NAMESPACE


class Access(StrEnum):
    PUBLIC = "public"  # web forms and links: no credentials, CORS, tighter throttling
    PRIVATE = "private"  # CRM and back office: IAM (SigV4) in AWS, a bearer token locally


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    access: Access


# The API contract (ARCHITECTURE.md) as far as these functions serve it.
ROUTES: Final[tuple[Route, ...]] = (
    Route("POST", "/v1/subscriptions", PUBLIC_API_FUNCTION, Access.PUBLIC),
    Route("GET", "/v1/confirm/{token}", PUBLIC_API_FUNCTION, Access.PUBLIC),
    Route("POST", "/v1/confirm/{token}", PUBLIC_API_FUNCTION, Access.PUBLIC),
    Route("GET", "/v1/preferences/{token}", PUBLIC_API_FUNCTION, Access.PUBLIC),
    Route("POST", "/v1/preferences/{token}", PUBLIC_API_FUNCTION, Access.PUBLIC),
    Route("GET", "/v1/unsubscribe/{token}", PUBLIC_API_FUNCTION, Access.PUBLIC),
    Route("POST", "/v1/unsubscribe/{token}", PUBLIC_API_FUNCTION, Access.PUBLIC),
    Route("PUT", "/v1/contacts/{contact_id}", PRIVATE_API_FUNCTION, Access.PRIVATE),
    # A file of contacts (CSV or JSON lines), imported whole or not at all.
    Route("POST", "/v1/contacts:import", PRIVATE_API_FUNCTION, Access.PRIVATE),
    Route("GET", "/v1/contacts/{contact_id}", PRIVATE_API_FUNCTION, Access.PRIVATE),
    Route("DELETE", "/v1/contacts/{contact_id}", PRIVATE_API_FUNCTION, Access.PRIVATE),
    Route("GET", "/v1/contacts/{contact_id}/export", PRIVATE_API_FUNCTION, Access.PRIVATE),
    Route("GET", "/v1/contacts/{contact_id}/timeline", PRIVATE_API_FUNCTION, Access.PRIVATE),
    Route("POST", "/v1/contacts/{contact_id}/consents", PRIVATE_API_FUNCTION, Access.PRIVATE),
    Route("POST", "/v1/events", PRIVATE_API_FUNCTION, Access.PRIVATE),
    Route("GET", "/v1/journeys", PRIVATE_API_FUNCTION, Access.PRIVATE),
    Route("GET", "/v1/journeys/{journey_id}", PRIVATE_API_FUNCTION, Access.PRIVATE),
    # The inventory of every automated message; the templates and who uses them.
    Route("GET", "/v1/inventory", PRIVATE_API_FUNCTION, Access.PRIVATE),
    Route("GET", "/v1/templates", PRIVATE_API_FUNCTION, Access.PRIVATE),
    Route("GET", "/v1/templates/{template_id}", PRIVATE_API_FUNCTION, Access.PRIVATE),
    # Figures: a journey's funnel over a span of days, a hand-off queue's.
    Route("GET", "/v1/journeys/{journey_id}/figures", PRIVATE_API_FUNCTION, Access.PRIVATE),
    Route("GET", "/v1/queues/{queue}/figures", PRIVATE_API_FUNCTION, Access.PRIVATE),
    # Campaign runs: start one, read it while it runs, steer it.
    Route("POST", "/v1/campaigns", PRIVATE_API_FUNCTION, Access.PRIVATE),
    Route("GET", "/v1/campaigns/{run_id}", PRIVATE_API_FUNCTION, Access.PRIVATE),
    Route("POST", "/v1/campaigns/{run_id}/pause", PRIVATE_API_FUNCTION, Access.PRIVATE),
    Route("POST", "/v1/campaigns/{run_id}/resume", PRIVATE_API_FUNCTION, Access.PRIVATE),
    Route("POST", "/v1/campaigns/{run_id}/cancel", PRIVATE_API_FUNCTION, Access.PRIVATE),
    # Tracing: a sent message by either id, or a text a person saw (POST keeps it out of URLs).
    Route("GET", "/v1/messages", PRIVATE_API_FUNCTION, Access.PRIVATE),
    Route("GET", "/v1/messages/{message_id}", PRIVATE_API_FUNCTION, Access.PRIVATE),
    Route("POST", "/v1/messages/search", PRIVATE_API_FUNCTION, Access.PRIVATE),
    # Hand-offs.
    Route("GET", "/v1/tasks", PRIVATE_API_FUNCTION, Access.PRIVATE),
    Route("POST", "/v1/tasks/{task_id}/complete", PRIVATE_API_FUNCTION, Access.PRIVATE),
    # The operator's do-not-contact lists (R-BR-1): load one whole or in parts (begin, parts,
    # commit), read which load is in force.
    Route("PUT", "/v1/do-not-contact/{list_name}", PRIVATE_API_FUNCTION, Access.PRIVATE),
    Route("GET", "/v1/do-not-contact/{list_name}", PRIVATE_API_FUNCTION, Access.PRIVATE),
    Route("POST", "/v1/do-not-contact/{list_name}/loads", PRIVATE_API_FUNCTION, Access.PRIVATE),
    Route(
        "PUT",
        "/v1/do-not-contact/{list_name}/loads/{load_id}/parts/{part}",
        PRIVATE_API_FUNCTION,
        Access.PRIVATE,
    ),
    Route(
        "POST", "/v1/do-not-contact/{list_name}/loads/{load_id}/commit", PRIVATE_API_FUNCTION, Access.PRIVATE
    ),
)
