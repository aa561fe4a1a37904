"""Deploy settings: the `baton` object of cdk.json's context, validated once at synth time.

CDK itself is imported only where a CDK value is made: `baton validate` checks cdk.json with
this module without starting jsii's Node process.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel, to_snake

from baton.floors import Looser, looser_settings
from baton.inventory.models import InventoryConfig
from baton.journeys.models import JOURNEY_ID_PATTERN
from baton.schedules.expressions import ScheduleExpressionError
from baton.schedules.expressions import validate as validate_schedule
from baton.settings import Settings

if TYPE_CHECKING:
    from aws_cdk import aws_logs as logs
    from constructs import Node

CONTEXT_KEY = "baton"

# CloudWatch Logs accepts only these retention periods (days); CDK names each one.
_RETENTION: dict[int, str] = {
    1: "ONE_DAY",
    3: "THREE_DAYS",
    5: "FIVE_DAYS",
    7: "ONE_WEEK",
    14: "TWO_WEEKS",
    30: "ONE_MONTH",
    60: "TWO_MONTHS",
    90: "THREE_MONTHS",
    120: "FOUR_MONTHS",
    150: "FIVE_MONTHS",
    180: "SIX_MONTHS",
    365: "ONE_YEAR",
    400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS",
    731: "TWO_YEARS",
    1096: "THREE_YEARS",
    1827: "FIVE_YEARS",
    2192: "SIX_YEARS",
    2557: "SEVEN_YEARS",
    2922: "EIGHT_YEARS",
    3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}

NonEmpty = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class Throttle(_Model):
    """API Gateway token bucket: steady requests per second and burst size."""

    rate_limit: Annotated[float, Field(gt=0)]
    burst_limit: Annotated[int, Field(gt=0)]


class QueueConfig(_Model):
    """A hand-off queue: where a new task's email goes (the SNS topic is always made)."""

    email: EmailStr | None = None


class CampaignsConfig(_Model):
    """Campaign runs: how a run fans out over its audience snapshot, and how long snapshots stay."""

    # Batches (child executions of the Distributed Map) in flight at once: Step Functions takes
    # 1..10,000; Baton stops at 1,000 so one run cannot take every Lambda of the account.
    # 200: at about 7 messages a second per batch (a send's calls in the region), enough to
    # keep a 1,000 emails/s account at its rate (`make bench` simulates it).
    max_concurrency: Annotated[int, Field(ge=1, le=1000)] = 200
    # A batch paces its sends (R-EUM-1, R-SES-1), so it needs more than an API function's 29 s;
    # Lambda's own ceiling is 900 s. A batch out of time goes on where it stopped.
    batch_timeout_seconds: Annotated[int, Field(ge=1, le=900)] = 300
    # Snapshots hold contact ids: S3 expires them (`campaigns/` objects) after this many days.
    snapshot_retention_days: Annotated[int, Field(ge=1)] = 30
    # The share of each origination identity's rate (and SES's) a campaign may take in any
    # second; the rest stays free for transactional sends, which never queue behind a campaign.
    # 0.97: 30 of every 1,000 units a second stay free for transactional sends.
    rate_share: Annotated[float, Field(gt=0, le=1)] = 0.97
    # How long a campaign send waits for the next second with room before its batch stops and
    # is retried (a journey task waits at most 1 s).
    pacing_wait_seconds: Annotated[float, Field(ge=0, le=10)] = 5.0


class DashboardsConfig(_Model):
    """The dashboard and the failure-rate alarm of each journey (`infra/constructs/dashboards.py`)."""

    # The share of a journey's messages failed in an hour at which its alarm goes off.
    failure_rate: Annotated[float, Field(gt=0, le=1)] = 0.05
    # Fewer messages than this in an hour are no rate: the alarm stays quiet.
    min_messages: Annotated[int, Field(ge=1)] = 20


# A DNS name of letters, digits and hyphens (what SES takes as a custom redirect domain).
_HOSTNAME = r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"


class TrackingConfig(_Model):
    """SES open and click tracking, each off unless turned on here. On, SES adds a tracking
    pixel (opens) or rewrites every link through its tracking domain (clicks), the
    configuration set publishes those events and the feedback rule routes them: the figures
    count them as opened / clicked, and they change nothing else. Why off: README, "Figures"."""

    opens: bool = False
    clicks: bool = False
    # Tracking links on the operator's own subdomain instead of SES's: it must serve HTTPS in
    # front of SES's tracking domain (SES's developer guide), since the links carry who opened.
    redirect_domain: Annotated[str, Field(pattern=_HOSTNAME, max_length=253)] | None = None

    @model_validator(mode="after")
    def _redirect_domain_only_with_tracking(self) -> TrackingConfig:
        if self.redirect_domain is not None and not self.enabled:
            raise ValueError("redirectDomain is used only when opens or clicks is on")
        return self

    @property
    def enabled(self) -> bool:
        return self.opens or self.clicks


class ReviewConfig(_Model):
    """Review dates with teeth (`baton.journeys.review`): a marketing journey overdue for review
    this many days past its `review_by` admits no new contact (those in it finish); a
    transactional one only warns. `closeOverdueMarketing: false` makes marketing only warn too."""

    grace_days: Annotated[int, Field(ge=0, le=365)] = 14
    close_overdue_marketing: bool = True
    # When the weekly review digest goes to the owners (`baton.inventory.digest`): an
    # EventBridge Scheduler expression, in UTC. Default: Mondays at 08:00.
    digest_schedule: NonEmpty = "cron(0 8 ? * MON *)"

    @field_validator("digest_schedule")
    @classmethod
    def _digest_schedule_is_an_expression(cls, value: str) -> str:
        try:
            validate_schedule(value, "UTC")  # the schedule's zone (infra/constructs/schedules.py)
        except ScheduleExpressionError as exc:
            message = f"not an EventBridge Scheduler cron(...) or rate(...) expression: {exc}"
            raise ValueError(message) from None
        return value


class ApprovalsConfig(_Model):
    """Which templates need legal approval bound to their content (`journeys/approvals.yaml`):
    marketing ones always; transactional ones when `transactional` is on."""

    transactional: bool = False


class BatonConfig(_Model):
    """Everything an operator sets per deployment; unknown keys are errors."""

    stack_name: NonEmpty = "Baton"
    brand_name: NonEmpty
    sender_email: EmailStr
    postal_address: NonEmpty
    support_url: AnyHttpUrl
    # No longer set: SMS texts state what `frequencyCaps` allow (R-CTIA-2/3), in each language.
    sms_frequency: str | None = None
    # Empty: links in messages use the API's execute-api URL. Set it when a custom domain fronts the API.
    public_base_url: str = ""
    allowed_origins: list[AnyHttpUrl] = Field(default_factory=list)
    default_topics: list[NonEmpty] = Field(default_factory=lambda: ["news"])
    # Every topic a person may choose on the preference page.
    topics: list[NonEmpty] = Field(default_factory=lambda: ["news"])
    stage_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_]+$")] = "prod"
    # Every route; public routes get the tighter `public_throttle` on top (they take no credentials).
    api_throttle: Throttle = Throttle(rate_limit=100, burst_limit=200)
    public_throttle: Throttle = Throttle(rate_limit=20, burst_limit=40)
    log_retention_days: int = 30
    # Links in messages must keep working: R-CASL-3 asks 60 days, R-CANSPAM-1 30.
    token_ttl_days: Annotated[int, Field(gt=0)] = 60
    confirm_ttl_days: Annotated[int, Field(gt=0)] = 7
    max_body_bytes: Annotated[int, Field(gt=0, le=10 * 1024 * 1024)] = 16_384
    # Lambda sizing: the same for every function (one asset, one cold-start profile).
    memory_mb: Annotated[int, Field(ge=128, le=10_240)] = 512
    timeout_seconds: Annotated[int, Field(ge=1, le=29)] = 15
    # The journeys catalog the compiler reads and the Lambda asset ships: relative to the
    # project root (cdk.json's folder) or absolute. Synth fails if a journey in it is invalid.
    journeys_dir: NonEmpty = "journeys"
    # R-SMS-1: an SMS template longer than this many parts in any locale fails the build.
    sms_max_parts: Annotated[int, Field(ge=1, le=10)] = 3
    # The languages Baton speaks to contacts in: every template must have each one (a missing
    # one fails synth and `baton validate`), so nobody gets another language by fallback.
    locales: list[Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")]] = Field(
        default_factory=lambda: ["en"], min_length=1
    )
    # Channels and the send-time gate: `baton.settings.Settings` fields the stack does not set
    # itself (smsOriginationIdentity, quietHours, frequencyCaps, webhookUrl, ...), camelCase or
    # snake_case; each is checked against the field's type at synth. Unset: Baton's default.
    delivery: dict[str, Any] = Field(default_factory=dict)
    # Hand-off queues: `{<queue>: {email: agents@example.com}}`. Every queue a journey
    # names gets an SNS topic; a queue listed here also gets an email about each new task.
    queues: dict[Annotated[str, Field(pattern=JOURNEY_ID_PATTERN)], QueueConfig] = Field(default_factory=dict)
    campaigns: CampaignsConfig = CampaignsConfig()
    dashboards: DashboardsConfig = DashboardsConfig()
    tracking: TrackingConfig = TrackingConfig()
    review: ReviewConfig = ReviewConfig()
    approvals: ApprovalsConfig = ApprovalsConfig()
    # The inventory: owners and review dates of the built-in messages, known owners, the
    # failing rate (`baton.inventory.models.InventoryConfig`).
    inventory: InventoryConfig = InventoryConfig()

    @field_validator("delivery")
    @classmethod
    def _delivery_settings(cls, value: dict[str, Any]) -> dict[str, Any]:
        return validate_runtime_settings(value)

    @field_validator("sms_frequency")
    @classmethod
    def _frequency_comes_from_the_caps(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError(
                "remove it: SMS confirmations and HELP replies state the frequency that"
                " delivery.frequencyCaps allow, in the contact's language (R-CTIA-2, R-CTIA-3)"
            )
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention_is_supported(cls, value: int) -> int:
        if value not in _RETENTION:
            raise ValueError(f"must be one of {sorted(_RETENTION)}")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _base_url_is_https_without_slash(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL or empty")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _never_looser_than_the_rulebook(self) -> BatonConfig:
        """Quiet hours, calling windows, holidays, caps, link lifetimes and keywords may only
        be made stricter (baton.floors); a looser one fails here, at synth and validate."""
        found = looser_settings(self.runtime_settings())
        if found:
            raise ValueError("\n".join(_described(looser) for looser in found))
        return self

    def runtime_settings(self) -> Settings:
        """The Settings the functions get from this deployment (secrets and tables aside)."""
        values = runtime_settings(self) | {
            "approvals_transactional": self.approvals.transactional,
            "token_ttl_days": self.token_ttl_days,
            "confirm_ttl_days": self.confirm_ttl_days,
            "review_grace_days": self.review.grace_days,
            "review_closes_marketing": self.review.close_overdue_marketing,
        }
        return Settings.model_validate(values)

    @property
    def sender_domain(self) -> str:
        return self.sender_email.rsplit("@", 1)[1]

    @property
    def log_retention(self) -> logs.RetentionDays:
        from aws_cdk import aws_logs  # here, not at the top: see the module docstring

        return aws_logs.RetentionDays[_RETENTION[self.log_retention_days]]

    def journeys_path(self, root: Path) -> Path:
        """The catalog folder, `journeys_dir` resolved against the project root."""
        return (root / self.journeys_dir).resolve()

    @property
    def origins(self) -> list[str]:
        """Allowed origins as the browser sends them (no trailing slash)."""
        return [str(origin).rstrip("/") for origin in self.allowed_origins]


# Settings fields the stack fills from its own resources and the settings above; `delivery`
# may set any other Settings field.
STACK_SETTINGS = frozenset(
    {
        "contacts_table",
        "consent_table",
        "timeline_table",
        "suppression_table",
        "idempotency_table",
        "runs_table",
        "waits_table",  # event waits
        "tasks_table",  # hand-offs
        "receipts_table",  # delivery receipts
        "caps_table",
        "subjects_table",
        "pacing_table",
        "do_not_contact_table",
        "campaigns_table",
        "figures_table",
        "campaigns_bucket",
        "campaign_state_machine_arn",
        # The campaign function's share of each second's sends (`campaigns.rateShare`).
        "pacing_share",
        "pacing_max_wait_seconds",
        # Only the function that erases gets these (`infra.stack.grant_dead_letter_erasure`).
        "sms_inbound_dead_letter_queue",
        "feedback_dead_letter_queue",
        "events_dead_letter_queue",
        "queue_topics",
        "queue_emails",
        "inventory",
        "token_secret_arn",
        "suppression_salt_secret_arn",
        "public_base_url",
        "brand_name",
        "support_url",
        "postal_address",
        "sender_email",
        "ses_configuration_set",
        "default_topics",
        "topics",
        "token_ttl_days",
        "confirm_ttl_days",
        "max_body_bytes",
        "allowed_origins",
        "journeys_dir",
        "state_machine_arn_prefix",
        "sms_max_parts",
        "locales",
        "review_grace_days",  # cdk.json `review`
        "review_closes_marketing",
        "approvals_transactional",
    }
)


def runtime_settings_fields() -> list[str]:
    """The Settings fields `delivery` may set (every field the stack does not set itself)."""
    return [name for name in Settings.model_fields if name not in STACK_SETTINGS]


def validate_runtime_settings(values: dict[str, Any]) -> dict[str, Any]:
    """`delivery` keys (camelCase or snake_case) as Settings field names, each value checked
    against the field's type and bounds; an unknown key or a value of the wrong type or out of
    bounds is an error naming the key as cdk.json spells it."""
    allowed = runtime_settings_fields()
    checked: dict[str, Any] = {}
    for key, raw in values.items():
        name = to_snake(key)
        if name not in allowed:
            raise ValueError(
                f"delivery.{key} is not a setting (known: {', '.join(sorted(map(to_camel, allowed)))})"
            )
        field = Settings.model_fields[name]
        # The bounds (`gt`, `le`, ...) are the field's metadata, not part of its annotation.
        annotation: Any = field.annotation
        if field.metadata:
            annotation = Annotated[(annotation, *field.metadata)]
        try:
            checked[name] = TypeAdapter(annotation).validate_python(raw)
        except ValidationError as exc:
            raise ValueError(f"delivery.{key}: {exc.errors()[0]['msg']}") from exc
    return checked


def runtime_settings(config: BatonConfig) -> dict[str, Any]:
    """Every Settings field `delivery` may set: the configured value, else Baton's default."""
    return {
        name: config.delivery.get(name, Settings.model_fields[name].get_default(call_default_factory=True))
        for name in runtime_settings_fields()
    }


def _described(looser: Looser) -> str:
    """A looser setting as cdk.json names it: `baton.tokenTtlDays`, `baton.delivery.quietHours`."""
    section = CONTEXT_KEY if looser.field in STACK_SETTINGS else f"{CONTEXT_KEY}.delivery"
    return looser.describe(section)


def load_config(node: Node) -> BatonConfig:
    """Read and validate the `baton` context (cdk.json, or `--context`/App(context=...) overrides)."""
    raw: Any = node.try_get_context(CONTEXT_KEY)
    if not isinstance(raw, dict):
        raise ValueError(f"cdk.json context `{CONTEXT_KEY}` is missing or not an object")
    return BatonConfig.model_validate(raw)
