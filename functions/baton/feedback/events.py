"""Provider events -> `Receipt`: SES through EventBridge, End User Messaging SMS/voice and
WhatsApp through EventBridge, and SNS SMS delivery-status log records.

Events that say nothing about delivery (SES `Send`, an SMS still queued, a voice call ringing)
parse to None: the handler ignores them. SES `Open`/`Click` (published only where cdk.json's
`tracking` turns them on; off by default) parse to an engagement receipt that the figures
count and nothing else uses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from baton.consent.vocabulary import Channel
from baton.delivery.message import MESSAGE_TAG
from baton.feedback.models import Receipt, ReceiptStatus
from baton.messages import builtins

SES_SOURCE: Final = "aws.ses"
SMS_VOICE_SOURCE: Final = "aws.sms-voice"
SOCIAL_SOURCE: Final = "aws.social-messaging"

# SES event publishing to EventBridge (the configuration set's EventBridge destination): the
# detail-type SES gives each event type.
SES_RECEIPT_DETAIL_TYPES: Final = {
    "Delivery": "Email Delivered",
    "Bounce": "Email Bounced",
    "Complaint": "Email Complaint Received",
    "Reject": "Email Rejected",
}
# Published only with open / click tracking on (cdk.json `tracking`, off by default).
SES_ENGAGEMENT_DETAIL_TYPES: Final = {"Open": "Email Opened", "Click": "Email Clicked"}
SES_DETAIL_TYPES: Final = tuple(SES_RECEIPT_DETAIL_TYPES.values())
# End User Messaging SMS and voice (delivered to the default bus by the service itself).
SMS_VOICE_DETAIL_TYPES: Final = (
    "Text Message Delivery Status Updated",
    "Voice Message Delivery Status Updated",
)
WHATSAPP_DETAIL_TYPES: Final = (
    "WhatsApp Message Delivered",
    "WhatsApp Message Failed",
    "WhatsApp Message Undeliverable",
)

TEXT_DELIVERED: Final = frozenset({"TEXT_DELIVERED"})
# Accepted by the carrier: final where the destination sends no handset receipts (`isFinal`).
TEXT_ACCEPTED: Final = "TEXT_SUCCESSFUL"
TEXT_FAILED: Final = frozenset(
    {
        "TEXT_FAILED",
        "TEXT_INVALID",
        "TEXT_INVALID_MESSAGE",
        "TEXT_UNREACHABLE",
        "TEXT_CARRIER_UNREACHABLE",
        "TEXT_BLOCKED",
        "TEXT_CARRIER_BLOCKED",
        "TEXT_SPAM",
        "TEXT_UNKNOWN",
        "TEXT_TTL_EXPIRED",
        "TEXT_PROTECT_BLOCKED",
    }
)
VOICE_DELIVERED: Final = frozenset({"VOICE_COMPLETED"})
VOICE_FAILED: Final = frozenset({"VOICE_BUSY", "VOICE_NO_ANSWER", "VOICE_FAILED", "VOICE_TTL_EXPIRED"})

_ENGAGEMENT: Final = {"Open": ReceiptStatus.OPENED, "Click": ReceiptStatus.CLICKED}

SNS_SUCCESS: Final = "SUCCESS"
SNS_FAILURE: Final = "FAILURE"


def parse_eventbridge(event: Mapping[str, Any]) -> Receipt | None:
    """An EventBridge event from the default bus (SES, End User Messaging), or None if not a receipt."""
    source = event.get("source")
    detail = event.get("detail") or {}
    if not isinstance(detail, Mapping):
        return None
    if source == SES_SOURCE:
        return parse_ses(detail)
    if source == SMS_VOICE_SOURCE:
        return _sms_voice(detail)
    if source == SOCIAL_SOURCE:
        return _whatsapp(str(event.get("detail-type", "")), detail)
    return None


def parse_ses(detail: Mapping[str, Any]) -> Receipt | None:
    """An SES event record (`eventType` with `mail` and the event's own object)."""
    kind = detail.get("eventType") or detail.get("notificationType")
    mail = detail.get("mail") or {}
    message_id = mail.get("messageId")
    if not message_id:
        return None
    common: dict[str, Any] = {
        "provider": "ses",
        "channel": Channel.EMAIL,
        "provider_message_id": message_id,
        "baton_message_id": _ses_tag(mail, MESSAGE_TAG),
        "journey": _ses_tag(mail, "journey"),
        "step": _ses_tag(mail, "step"),
        "variant": _ses_tag(mail, "variant"),
        "builtin": builtins.from_tag(_ses_tag(mail, builtins.TAG)),
    }
    if kind == "Delivery":
        delivery = detail.get("delivery") or {}
        return Receipt(
            **common,
            status=ReceiptStatus.DELIVERED,
            addresses=tuple(delivery.get("recipients") or mail.get("destination") or ()),
            at=_iso(delivery.get("timestamp")),
        )
    if kind == "Bounce":
        bounce = detail.get("bounce") or {}
        bounce_type = str(bounce.get("bounceType", ""))
        return Receipt(
            **common,
            status=ReceiptStatus.BOUNCED if bounce_type == "Permanent" else ReceiptStatus.FAILED,
            addresses=tuple(
                r["emailAddress"] for r in bounce.get("bouncedRecipients") or () if "emailAddress" in r
            ),
            reason=f"{bounce_type}/{bounce.get('bounceSubType', '')}",
            feedback_id=bounce.get("feedbackId"),
            at=_iso(bounce.get("timestamp")),
        )
    if kind == "Complaint":
        complaint = detail.get("complaint") or {}
        return Receipt(
            **common,
            status=ReceiptStatus.COMPLAINED,
            addresses=tuple(
                r["emailAddress"] for r in complaint.get("complainedRecipients") or () if "emailAddress" in r
            ),
            reason=complaint.get("complaintFeedbackType") or "complaint",
            feedback_id=complaint.get("feedbackId"),
            at=_iso(complaint.get("timestamp")),
        )
    if kind in _ENGAGEMENT:
        # Only with open/click tracking on: counted in the figures, final for nothing.
        engagement = detail.get(kind.lower()) or {}
        return Receipt(
            **common,
            status=_ENGAGEMENT[kind],
            addresses=tuple(mail.get("destination") or ()),
            at=_iso(engagement.get("timestamp")),
        )
    if kind == "Reject":
        return Receipt(
            **common,
            status=ReceiptStatus.FAILED,
            addresses=tuple(mail.get("destination") or ()),
            reason=f"Reject/{(detail.get('reject') or {}).get('reason', '')}",
        )
    return None


def _sms_voice(detail: Mapping[str, Any]) -> Receipt | None:
    event_type = str(detail.get("eventType", ""))
    message_id = detail.get("messageId")
    if not message_id:
        return None
    status: ReceiptStatus | None = None
    channel = Channel.VOICE if event_type.startswith("VOICE_") else Channel.SMS
    if (
        event_type in TEXT_DELIVERED
        or event_type in VOICE_DELIVERED
        or (event_type == TEXT_ACCEPTED and detail.get("isFinal") is True)
    ):
        status = ReceiptStatus.DELIVERED
    elif event_type in TEXT_FAILED or event_type in VOICE_FAILED:
        status = ReceiptStatus.FAILED
    if status is None:
        return None  # queued, pending, ringing: not the last word
    destination = detail.get("destinationPhoneNumber")
    return Receipt(
        provider=f"eum-{channel}",
        channel=channel,
        provider_message_id=message_id,
        status=status,
        addresses=(destination,) if destination else (),
        reason=None if status == ReceiptStatus.DELIVERED else event_type,
        at=_epoch_ms(detail.get("eventTimestamp")),
        baton_message_id=_context(detail, MESSAGE_TAG),
        journey=_context(detail, "journey"),
        step=_context(detail, "step"),
        variant=_context(detail, "variant"),
    )


def _whatsapp(detail_type: str, detail: Mapping[str, Any]) -> Receipt | None:
    message_id = detail.get("messageId")
    if not message_id or detail_type not in WHATSAPP_DETAIL_TYPES:
        return None
    delivered = detail_type == "WhatsApp Message Delivered"
    return Receipt(
        provider="social-whatsapp",
        channel=Channel.WHATSAPP,
        provider_message_id=message_id,
        status=ReceiptStatus.DELIVERED if delivered else ReceiptStatus.FAILED,
        reason=None if delivered else str(detail.get("status") or detail_type),
    )


def parse_sns_sms_status(message: str) -> Receipt | None:
    """One SNS SMS delivery-status log record (the CloudWatch Logs line SNS writes per SMS)."""
    try:
        record = json.loads(message)
    except ValueError:
        return None
    if not isinstance(record, Mapping):
        return None
    notification = record.get("notification") or {}
    delivery = record.get("delivery") or {}
    status = record.get("status")
    message_id = notification.get("messageId")
    if not message_id or status not in (SNS_SUCCESS, SNS_FAILURE):
        return None
    destination = delivery.get("destination")
    return Receipt(
        provider="sns-sms",
        channel=Channel.SMS,
        provider_message_id=message_id,
        status=ReceiptStatus.DELIVERED if status == SNS_SUCCESS else ReceiptStatus.FAILED,
        addresses=(destination,) if destination else (),
        reason=None if status == SNS_SUCCESS else str(delivery.get("providerResponse") or status),
    )


def _ses_tag(mail: Mapping[str, Any], name: str) -> str | None:
    """An SES message tag (`mail.tags`: each name with a list of values)."""
    values = (mail.get("tags") or {}).get(name)
    return str(values[0]) if isinstance(values, list) and values else None


def _context(detail: Mapping[str, Any], name: str) -> str | None:
    """An entry of an End User Messaging event's `context` (the send's `Context`, echoed)."""
    context = detail.get("context")
    value = context.get(name) if isinstance(context, Mapping) else None
    return str(value) if value else None


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _epoch_ms(value: Any) -> datetime | None:
    if not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC)
