"""SES v2 `GetAccount` for the embedded AWS: moto does not implement it, and Baton reads it before
every email (R-SES-1). While `answering_get_account` is active, every boto3 client made from
then on answers it locally, so the same Baton code path (read, cache, quota, sandbox, pacing)
runs on a laptop as in an account.

The answer is a production account with a new account's limits, whose `SentLast24Hours` is
what moto has sent so far (every send of the run, so never fewer than the last 24 hours'). A
test can make it a sandbox, pause it or use up its quota by changing the `LocalSesAccount`.

The hook is botocore's `before-call` event, registered (last, after any handler a client adds
itself) for every new session the way moto itself hooks in (`botocore.handlers.BUILTIN_HANDLERS`);
moto gives each mock a fresh default session, so the clients Baton makes inside it all carry
the hook. This is the one place it is done.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.handlers import BUILTIN_HANDLERS, REGISTER_LAST
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

EVENT: Final = "before-call.sesv2.GetAccount"
# A new production account's limits in us-east-1 (the local stack's region).
PRODUCTION_QUOTA: Final = 50_000
PRODUCTION_RATE: Final = 14


@dataclass
class LocalSesAccount:
    """What local `GetAccount` answers; mutable, so a test can turn the account into a sandbox."""

    max_24_hour_send: float = PRODUCTION_QUOTA
    max_send_rate: float = PRODUCTION_RATE
    production_access: bool = True
    sending_enabled: bool = True
    sent_before: int = 0  # added to what moto has sent: a test's quota nearly used up

    def answer(self, region: str) -> dict[str, Any]:
        sent = ses_backends[DEFAULT_ACCOUNT_ID][region].sent_message_count + self.sent_before
        return {
            "SendQuota": {
                "Max24HourSend": self.max_24_hour_send,
                "MaxSendRate": self.max_send_rate,
                "SentLast24Hours": float(sent),
            },
            "ProductionAccessEnabled": self.production_access,
            "SendingEnabled": self.sending_enabled,
            "EnforcementStatus": "HEALTHY",
            "DedicatedIpAutoWarmupEnabled": False,
        }


@contextmanager
def answering_get_account(account: LocalSesAccount | None = None) -> Iterator[LocalSesAccount]:
    """Answer `GetAccount` from `account` (a production account by default) for every boto3
    session created while this is active: enter it before `mock_aws` starts."""
    local = account or LocalSesAccount()

    def get_account(context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        parsed = {"ResponseMetadata": {"HTTPStatusCode": 200}, **local.answer(context["client_region"])}
        return AWSResponse("https://email.local/v2/email/account", 200, HTTPHeaders(), None), parsed

    # Last: a test's own answer (botocore's Stubber, a before-call hook) goes first.
    entry = (EVENT, get_account, REGISTER_LAST)
    BUILTIN_HANDLERS.append(entry)
    try:
        yield local
    finally:
        BUILTIN_HANDLERS.remove(entry)
