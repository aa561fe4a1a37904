"""The texts Baton sends on its own behalf (confirmations, HELP and STOP replies), in en and pt-BR."""

from baton.messages.content import EmailContent, SmsContent
from baton.messages.texts import (
    confirmation_email,
    sms_confirmation_request,
    sms_help,
    sms_opt_in_confirmed,
    sms_opt_out_confirmed,
)

__all__ = [
    "EmailContent",
    "SmsContent",
    "confirmation_email",
    "sms_confirmation_request",
    "sms_help",
    "sms_opt_in_confirmed",
    "sms_opt_out_confirmed",
]
