"""Runtime settings: one pydantic model, read from the environment once per cold start."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from baton.delivery import defaults as delivery_defaults
from baton.delivery.throughput import WHATSAPP_MAX_MESSAGES_PER_SECOND, WHATSAPP_MESSAGES_PER_SECOND
from baton.inventory.models import InventoryConfig

SERVICE_NAME = "baton"  # Powertools service name (logs, traces, metrics dimension)
METRICS_NAMESPACE = "Baton"  # CloudWatch namespace of every Baton metric


class Settings(BaseSettings):
    """Everything a Lambda needs to know about its deployment. Env vars are `BATON_<FIELD>`."""

    model_config = SettingsConfigDict(env_prefix="BATON_", extra="ignore", frozen=True)

    contacts_table: str = "baton-contacts"
    consent_table: str = "baton-consent"
    timeline_table: str = "baton-timeline"
    suppression_table: str = "baton-suppression"
    idempotency_table: str = "baton-idempotency"
    token_secret_arn: str = "baton-token-secret"  # noqa: S105 (a secret name, not a secret)
    # Kept apart from the signing key: rotating that key must not orphan suppression hashes.
    suppression_salt_secret_arn: str = "baton-suppression-salt"  # noqa: S105 (a secret name)

    public_base_url: str = "http://127.0.0.1:3000"
    brand_name: str = "Baton"
    support_url: str = "https://example.com/support"
    postal_address: str = "Baton Inc., 1 Example Street, Springfield, USA"
    sender_email: str = "hello@example.com"
    ses_configuration_set: str = ""
    default_topics: list[str] = Field(default_factory=lambda: ["news"])  # a form that names none
    topics: list[str] = Field(default_factory=lambda: ["news"])  # offered on the preference page
    token_ttl_days: int = 60  # preference and unsubscribe links: R-CASL-3 asks 60 days, R-CANSPAM-1 30
    confirm_ttl_days: int = 7
    max_body_bytes: int = 16_384
    allowed_origins: list[str] = Field(default_factory=list)

    # Journeys (triggers and inventory): the runs table, the catalog folder (relative to the task
    # root, where the asset ships `journeys/`; the local stack sets the repo's path) and the ARN
    # of a journey's state machine minus the journey id (`...:stateMachine:<stack>-`).
    runs_table: str = "baton-runs"
    journeys_dir: str = "journeys"
    state_machine_arn_prefix: str = ""  # set by the stack; without it no journey can start
    sms_max_parts: int = 3  # R-SMS-1: the catalog's SMS part ceiling, as synth checked it
    locales: list[str] = Field(default_factory=lambda: ["en"])  # every template has each one
    # Review dates (`baton.journeys.review`, cdk.json `review`): a marketing journey overdue
    # this many days past its review_by admits no new contact, unless closing is turned off.
    review_grace_days: int = Field(default=14, ge=0, le=365)
    review_closes_marketing: bool = True
    # Transactional templates need approval bound to their content too (cdk.json
    # `approvals.transactional`); marketing ones always do. Checked again at every send.
    approvals_transactional: bool = False

    # Hand-offs: the tasks table, and per queue (cdk.json `queues`) the SNS topic that is
    # notified of its new tasks and the address that gets an email about each one.
    tasks_table: str = "baton-tasks"
    queue_topics: dict[str, str] = Field(default_factory=dict)  # queue -> topic ARN
    queue_emails: dict[str, str] = Field(default_factory=dict)  # queue -> staff address

    # The inventory (cdk.json `inventory`): owners and review dates of the built-in messages,
    # the known owners and the failing rate.
    inventory: InventoryConfig = Field(default_factory=InventoryConfig)

    waits_table: str = "baton-waits"  # executions waiting for an event (`wait: {event, timeout}`)
    receipts_table: str = "baton-receipts"  # sends waiting for their delivery receipt
    caps_table: str = "baton-caps"  # the frequency caps' count per contact
    subjects_table: str = "baton-subjects"  # whom each execution is about (erased with the contact)
    pacing_table: str = "baton-pacing"  # sends per origination identity and second (R-EUM-1, R-SES-1)
    do_not_contact_table: str = "baton-do-not-contact"  # operator-loaded lists (R-BR-1)
    # Campaign runs: their counts and batch outcomes (by position, no contact ids), the bucket of
    # their audience snapshots, and the state machine that fans each run out.
    campaigns_table: str = "baton-campaigns"
    figures_table: str = "baton-figures"  # counts per journey, step and day (`baton.figures`)
    campaigns_bucket: str = ""
    campaign_state_machine_arn: str = ""
    # The share of each origination identity's rate (and SES's) this function's sends may take:
    # the campaign function is given less than all of it (cdk.json `campaigns.rateShare`), so the
    # rest of every second stays free for transactional sends and they never queue behind one.
    pacing_share: float = Field(default=1.0, gt=0, le=1)
    # How long a send may wait for the next window with room before it is retried later; a
    # campaign batch, which sends one message after another, waits longer than a journey task.
    pacing_max_wait_seconds: float = Field(default=1.0, ge=0, le=10)

    # The dead-letter queues AWS writes failed deliveries into, whole: erasure deletes what they
    # hold about the person (R-GDPR-5). Only the function that erases is given their URLs;
    # empty: no such queue (nothing to read).
    sms_inbound_dead_letter_queue: str = ""  # inbound texts: the sender's number and words
    feedback_dead_letter_queue: str = ""  # SES and SMS events: the addresses they were about
    events_dead_letter_queue: str = ""  # Baton bus events, as their caller wrote them

    # Delivery and the send-time gate (channels, quiet hours, caps). An empty origination
    # identity, phone number id or URL leaves that channel unconfigured: the gate refuses it
    # (`no_adapter`) and a journey step fails over to its next channel.
    sms_origination_identity: str = ""  # set: SMS through End User Messaging, not SNS
    sms_configuration_set: str = ""
    # R-EUM-1: the type of each origination identity (and, to go slower, its partsPerSecond):
    # {"+12065550100": {"type": "us_10dlc"}, "pool-0a1b": {"type": "us_short_code"}}. A number
    # not listed is paced at the rate its number shows; anything else at 1 part per second.
    origination_identities: dict[str, dict[str, str | float]] = Field(default_factory=dict)
    voice_origination_identity: str = ""  # End User Messaging voice (SendVoiceMessage)
    voice_configuration_set: str = ""
    voice_ids: dict[str, str] = Field(default_factory=lambda: {"en": "JOANNA", "pt-BR": "CAMILA"})
    whatsapp_phone_number_id: str = ""  # End User Messaging Social: `phone-number-id-...`
    whatsapp_meta_api_version: str = "v20.0"
    # Meta's throughput for that number (WhatsApp counts messages, not parts): 80 a second by
    # default; raise it once Meta has upgraded the number, at most to the highest tier, 1,000.
    whatsapp_messages_per_second: float = Field(
        default=WHATSAPP_MESSAGES_PER_SECOND, gt=0, le=WHATSAPP_MAX_MESSAGES_PER_SECOND
    )
    webhook_url: str = ""  # https (http only to a loopback address)
    webhook_secret_arn: str = ""  # empty: a key derived from the token secret (see secrets.py)
    webhook_timeout_seconds: float = 5.0
    quiet_hours: str = delivery_defaults.QUIET_HOURS  # R-TCPA-2; stricter only
    # Per country or US state: {"US": "09:00-20:00", "US-FL": "08:00-20:00"} (stricter only).
    quiet_hours_by_country: dict[str, str] = Field(
        default_factory=lambda: dict(delivery_defaults.QUIET_HOURS_BY_REGION)
    )
    calling_windows: dict[str, dict[str, str]] = Field(
        default_factory=lambda: dict(delivery_defaults.CALLING_WINDOWS)
    )  # R-BR-1
    calling_holidays: dict[str, list[str]] = Field(
        default_factory=lambda: dict(delivery_defaults.CALLING_HOLIDAYS)
    )
    frequency_caps: list[dict[str, str | int | None]] = Field(
        default_factory=lambda: list(delivery_defaults.FREQUENCY_CAPS)
    )
    default_timezone: str = "UTC"  # a step window's zone when the recipient's is unknown
    # Words added to the inbound keyword lists (`optOut`, `help`, `optIn`, `confirm`,
    # `revocationPhrases`): R-CTIA-1's own words always stay (see baton.sms.keywords).
    sms_keywords: dict[str, list[str]] = Field(default_factory=dict)
    # R-TCPA-6: what a revocation covers. "channel" (the default, the conservative reading):
    # all marketing on that channel; "topic": only the programme (topic) it names.
    opt_out_scope: Literal["channel", "topic"] = "channel"


def table_fields() -> list[str]:
    """The fields that name a DynamoDB table (`<id>_table`): every one is exported and erased
    as `baton.privacy.TABLE_COVERAGE` says."""
    return sorted(name for name in Settings.model_fields if name.endswith("_table"))


def dead_letter_queue_fields() -> list[str]:
    """The fields that name a dead-letter queue (`<id>_dead_letter_queue`, a queue URL): erasure
    reads each one (`baton.privacy.erase_contact`)."""
    return sorted(name for name in Settings.model_fields if name.endswith("_dead_letter_queue"))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
