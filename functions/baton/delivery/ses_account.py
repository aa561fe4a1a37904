"""The SES account's limits (R-SES-1): its sending quota, maximum send rate, sandbox and paused
states, read with SES v2 `GetAccount`, and which recipients a sandbox account may mail
(`GetEmailIdentity`). Both are cached for `CACHE_FOR` per cold start. `SesLimits` applies them
before every email:

| the account                          | the email                                             |
|--------------------------------------|-------------------------------------------------------|
| sending disabled                     | held (`ProviderHeld`, `sending_paused`), rechecked     |
| 24-hour quota used up                | held (`ProviderHeld`, `sending_quota`), rechecked      |
| sandbox, recipient not verified      | rejected (`SandboxRecipientNotVerified`), not retried  |
| maximum send rate reached            | paced: waits for the next second, or throttled         |

Why a minute: `GetAccount` is a control-plane call every Lambda would make, and SES limits its
request rate per account, so it cannot be read per send; a count of sends a minute old is
still safe because the pacer holds the whole account to `MaxSendRate` (see
`baton.delivery.pacing`): since the read, at most `MaxSendRate` emails per second (plus the
window under way) can have gone out, and `admit` counts that many as sent. A longer cache would
hold more of the quota back; a shorter one would call `GetAccount` more often for little.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from baton.aws import is_retryable_aws_error
from baton.clock import Clock
from baton.delivery.exceptions import ProviderHeld, ProviderRejected, ProviderUnavailable
from baton.delivery.gate import Reason
from baton.delivery.pacing import Pacer
from baton.delivery.throughput import Rate

if TYPE_CHECKING:
    from mypy_boto3_sesv2.client import SESV2Client

CACHE_FOR = timedelta(minutes=1)
# A refresh that fails (GetAccount throttled, SES unreachable) keeps the last read this long,
# counted with its growing margin, before sends wait for a fresh one.
STALE_FOR = timedelta(minutes=10)
UNLIMITED = -1  # `Max24HourSend` of an account without a daily quota
ACCOUNT_UNREADABLE = "AccountLimitsUnreadable"
SANDBOX_RECIPIENT_NOT_VERIFIED = "SandboxRecipientNotVerified"
# A held email is decided again this much later. SES frees quota as the sends of 24 hours ago
# age out (a rolling window), and a paused account resumes when AWS or the operator says so:
# neither gives a time, so Baton looks again a while later rather than every few seconds.
RECHECK_AFTER = timedelta(minutes=15)
# Every account sends as one lane: the maximum send rate is the account's, whatever the sender.
ACCOUNT_LANE = "account"
# Verified-or-not answers kept per cold start (a sandbox mails few addresses; a bound all the same).
_MAX_VERIFIED_ANSWERS = 1024
_NOT_FOUND = "NotFoundException"


@dataclass(frozen=True, slots=True)
class AccountLimits:
    """`GetAccount`'s answer, as read at `read_at`."""

    max_24_hour_send: float
    max_send_rate: float
    sent_last_24_hours: float
    production_access: bool
    sending_enabled: bool
    read_at: datetime


class Verdict(StrEnum):
    SEND = "send"
    PAUSED = "sending_paused"  # SES has disabled sending for the account
    QUOTA = "sending_quota"  # the 24-hour quota is used up


def admit(limits: AccountLimits, now: datetime) -> Verdict:
    """May one more email go out now? Sent counts the emails the read shows plus every one the
    paced account can have sent since (`max_send_rate` per second, and the window under way)."""
    if not limits.sending_enabled:
        return Verdict.PAUSED
    if limits.max_24_hour_send == UNLIMITED:
        return Verdict.SEND
    elapsed = max(0.0, (now - limits.read_at).total_seconds())
    since_read = math.ceil(limits.max_send_rate * (elapsed + 1))
    if limits.sent_last_24_hours + since_read + 1 > limits.max_24_hour_send:
        return Verdict.QUOTA
    return Verdict.SEND


class SesAccount:
    """Reads and caches the account's limits and the sandbox's verified recipients."""

    provider = "ses"

    def __init__(self, client: SESV2Client, clock: Clock, *, cache_for: timedelta = CACHE_FOR) -> None:
        self._client = client
        self._clock = clock
        self._cache_for = cache_for
        self._limits: AccountLimits | None = None
        self._verified: dict[str, tuple[bool, datetime]] = {}

    def limits(self) -> AccountLimits:
        """The account's limits, read again once the cached read is `cache_for` old. Raises
        `ProviderUnavailable` when they cannot be read (and no recent read stands in)."""
        now = self._clock.now()
        cached = self._limits
        if cached is not None and now - cached.read_at < self._cache_for:
            return cached
        try:
            account = self._client.get_account()
        except (ClientError, BotoCoreError) as exc:
            if cached is not None and now - cached.read_at < STALE_FOR and is_retryable_aws_error(exc):
                return cached
            raise ProviderUnavailable(self.provider, ACCOUNT_UNREADABLE) from exc
        quota = account.get("SendQuota", {})
        self._limits = AccountLimits(
            max_24_hour_send=float(quota.get("Max24HourSend", 0)),
            max_send_rate=float(quota.get("MaxSendRate", 0)),
            sent_last_24_hours=float(quota.get("SentLast24Hours", 0)),
            production_access=bool(account.get("ProductionAccessEnabled", False)),
            sending_enabled=bool(account.get("SendingEnabled", False)),
            read_at=now,
        )
        return self._limits

    def may_receive_in_sandbox(self, address: str) -> bool:
        """A sandbox account mails only verified identities: the address itself, or its domain."""
        domain = address.rpartition("@")[2].lower()
        return self._is_verified(address.lower()) or (bool(domain) and self._is_verified(domain))

    def _is_verified(self, identity: str) -> bool:
        now = self._clock.now()
        cached = self._verified.get(identity)
        if cached is not None and now - cached[1] < self._cache_for:
            return cached[0]
        try:
            answer = self._client.get_email_identity(EmailIdentity=identity)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != _NOT_FOUND:
                raise ProviderUnavailable(self.provider, ACCOUNT_UNREADABLE) from exc
            verified = False
        except BotoCoreError as exc:
            raise ProviderUnavailable(self.provider, ACCOUNT_UNREADABLE) from exc
        else:
            verified = bool(answer.get("VerifiedForSendingStatus", False))
        if len(self._verified) >= _MAX_VERIFIED_ANSWERS:
            self._verified.clear()
        self._verified[identity] = (verified, now)
        return verified


_HOLDS = {Verdict.PAUSED: Reason.SENDING_PAUSED, Verdict.QUOTA: Reason.SENDING_QUOTA}


class SesLimits:
    """What must hold before an email reaches SES (R-SES-1): see the table above."""

    def __init__(self, account: SesAccount, pacer: Pacer, clock: Clock) -> None:
        self._account = account
        self._pacer = pacer
        self._clock = clock

    def before_send(self, address: str) -> None:
        """Return when the email may go to `address` now; raise `ProviderHeld`,
        `ProviderRejected`, `ThroughputReached` or `ProviderUnavailable` when it may not."""
        limits = self._account.limits()
        now = self._clock.now()
        verdict = admit(limits, now)
        if verdict == Verdict.SEND and limits.max_send_rate <= 0:
            verdict = Verdict.PAUSED  # a rate of nothing per second sends nothing
        if verdict != Verdict.SEND:
            raise ProviderHeld(
                SesAccount.provider, _HOLDS[verdict], until=now + RECHECK_AFTER, rule="R-SES-1"
            )
        if not limits.production_access and not self._account.may_receive_in_sandbox(address):
            raise ProviderRejected(SesAccount.provider, SANDBOX_RECIPIENT_NOT_VERIFIED)
        self._pacer.reserve(SesAccount.provider, ACCOUNT_LANE, 1, Rate.per_second(limits.max_send_rate))
