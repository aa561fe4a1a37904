"""Runtime settings: one pydantic model, read from the environment once per cold start."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    sms_frequency: str = "Up to 4 msgs/month"
    sender_email: str = "hello@example.com"
    ses_configuration_set: str = ""
    default_topics: list[str] = Field(default_factory=lambda: ["news"])  # a form that names none
    topics: list[str] = Field(default_factory=lambda: ["news"])  # offered on the preference page
    token_ttl_days: int = 60  # preference and unsubscribe links: R-CASL-3 asks 60 days, R-CANSPAM-1 30
    confirm_ttl_days: int = 7
    max_body_bytes: int = 16_384
    allowed_origins: list[str] = Field(default_factory=list)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
