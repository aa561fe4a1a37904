"""Build the MIME message of an email: multipart/alternative (text, then HTML), with the
headers mailbox providers require of marketing mail (R-MBX-1, RFC 8058)."""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from baton.delivery.message import OutboundMessage

# RFC 5322 allows 998 characters per line. The default of 78 would fold a long
# List-Unsubscribe URL into RFC 2047 encoded words, which mailbox providers do not decode.
MAX_LINE = 998
POLICY = SMTP.clone(max_line_length=MAX_LINE)
ONE_CLICK = "List-Unsubscribe=One-Click"


def build_email(
    message: OutboundMessage,
    *,
    sender: str,
    sent_at: datetime,
    sender_name: str | None = None,
    reply_to: str | None = None,
) -> EmailMessage:
    """The MIME message for `message`. Raises ValueError for values that cannot be headers."""
    if message.subject is None:
        raise ValueError("an email needs a subject")
    _, _, domain = sender.rpartition("@")
    mime = EmailMessage(policy=POLICY)
    mime["From"] = Address(display_name=sender_name or "", addr_spec=sender)
    mime["To"] = message.to
    if reply_to:
        mime["Reply-To"] = reply_to
    mime["Subject"] = message.subject
    mime["Date"] = format_datetime(sent_at)
    mime["Message-ID"] = make_msgid(domain=domain or None)
    if message.unsubscribe_url:
        header = f"<{message.unsubscribe_url}>"
        if len("List-Unsubscribe: ") + len(header) > MAX_LINE:
            raise ValueError("unsubscribe URL too long for one header line")
        # R-MBX-1 / RFC 8058: exactly these two headers, the URL carrying the signed token.
        mime["List-Unsubscribe"] = header
        mime["List-Unsubscribe-Post"] = ONE_CLICK
    mime.set_content(message.text)
    if message.html:
        mime.add_alternative(message.html, subtype="html")
    return mime
