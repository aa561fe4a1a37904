"""What may reach a log: every line Baton writes, or lets a library write, without personal data.

Logs outlive erasure (R-GDPR-5) and are read by people who may not see a contact's profile, so
no address, phone number, name, message text or signed link may be in one. Call sites are
written to log ids, counts, codes, channel, journey and step only; this module is the net under
them, installed once per process by `install()` (every handler through `service_logger()`, and
`baton local`):

- every log record of the process, from any library, has its message, exception text and stack
  text scrubbed when it is made (`scrub`: addresses, phone numbers as written or in E.164, link
  tokens, pydantic's echoed `input_value`);
- Baton's structured (Powertools) lines are redacted as a whole before they are written: a value
  under a personal key (`PERSONAL_KEYS`) is masked wherever it is, every other string scrubbed;
- the loggers that print whole requests (`BODY_LOGGERS`) stay above DEBUG: no pattern can tell a
  name or a message's text from any other string.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.types import LogRecord as StructuredLine

MASK: Final = "[redacted]"

# Keys whose values are personal whatever they hold: extra fields, appended keys, nested dicts.
# Compared lower-cased with '-' read as '_'.
PERSONAL_KEYS: Final = frozenset(
    {
        "address",
        "addresses",
        "attributes",
        "authorization",
        "body",
        "client_ip",
        "consent_text",
        "cookie",
        "data",
        "destination",
        "destination_number",
        "destinationnumber",
        "email",
        "email_address",
        "emailaddress",
        "first_name",
        "from",
        "full_name",
        "html",
        "input",
        "input_value",
        "ip",
        "last_name",
        "message_body",
        "messagebody",
        "name",
        "note",
        "origination_number",
        "originationnumber",
        "page_url",
        "phone",
        "phone_number",
        "preview",
        "proof",
        "recipient",
        "recipients",
        "source_ip",
        "sourceip",
        "subject",
        "text",
        "to",
        "token",
        "user_agent",
        "useragent",
    }
)

# What a pattern can find in free text, in the order they are applied (a token's payload may
# hold an address, so tokens go first).
# A link's path segment, whatever it holds; a route's `{token}` placeholder stays.
_LINK_PATH: Final = re.compile(r"(/(?:confirm|preferences|unsubscribe)/)(?!\{token\})[^/\s?#\"'<>&]+")
# Baton's signed links: base64url claims, '.', a base64url HMAC-SHA256 (43 characters).
_TOKEN: Final = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")
# pydantic repeats the offending input in every error line: `input_value='...', input_type=str`.
_INPUT_VALUE: Final = re.compile(r"input_value=.*?(?=, input_type=)|input_value=[^\]\n]*")
_EMAIL: Final = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+(?:@|%40)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
# E.164, or international as typed: '+', then 7 to 15 digits with spaces, dots, dashes, brackets.
_PHONE_INTERNATIONAL: Final = re.compile(r"(?<![\w+])\+\d(?:[\s().-]{0,2}\d){6,14}(?!\d)")
# National forms as typed: `(11) 91234-5678`, `415-555-2671`, `020 7946 0958`, `4155552671`. Not
# preceded or followed by what ids, ARNs, dates and versions are made of (`-`, `:`, `/`, `.`),
# and not twelve bare digits (an AWS account id).
_PHONE_NATIONAL: Final = re.compile(
    r"(?<![\w+./:-])(?!\d{12}(?!\d))\(?\d{2,4}\)?[\s.-]{0,2}\d{3,5}[\s.-]?\d{4}(?![\w/:-]|\.\d)"
)
_PATTERNS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (_LINK_PATH, r"\1[token]"),
    (_TOKEN, "[token]"),
    (_INPUT_VALUE, f"input_value={MASK}"),
    (_EMAIL, "[email]"),
    (_PHONE_INTERNATIONAL, "[phone]"),
    (_PHONE_NATIONAL, "[phone]"),
)

# Loggers that print whole requests at DEBUG: the SDK's and HTTP's wire logs, and Powertools'
# event handler (every route's validated arguments: the form, the contact, the event's data).
BODY_LOGGERS: Final = ("boto3", "botocore", "s3transfer", "urllib3", "aws_lambda_powertools.event_handler")

# Attributes every LogRecord has; anything else on a record came in through `extra`.
_RECORD_FIELDS: Final = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def scrub(text: str) -> str:
    """`text` with whatever looks like an address, a phone number or a link token masked."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def is_personal_key(key: object) -> bool:
    return str(key).lower().replace("-", "_") in PERSONAL_KEYS


def redact(value: Any) -> Any:
    """A copy of a log value fit to write: personal keys masked at any depth, strings scrubbed.

    Numbers, booleans and None stay (counts and flags are what make a line useful); anything
    else (an exception, a datetime, a model) is written as its scrubbed text.
    """
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {scrub(str(key)): _masked(key, item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(item) for item in value]
    return scrub(str(value))


def _masked(key: object, value: Any) -> Any:
    if is_personal_key(key) and value not in (None, "", [], {}):
        return MASK
    return redact(value)


def redact_record(record: logging.LogRecord) -> None:
    """Scrub a record in place: its message (arguments merged in), exception and stack text."""
    if isinstance(record.msg, Mapping) and not record.args:
        record.msg = redact(record.msg)
    else:
        try:
            message = record.getMessage()
        except Exception:  # wrong arguments: logging would print them raw on stderr
            message = f"{record.msg} {record.args!r}"
        record.msg = scrub(message)
    record.args = ()
    if record.exc_info and record.exc_info[0] is not None:
        # Formatters print `exc_text` when it is set; Powertools' own lines are redacted whole.
        record.exc_text = scrub(_FORMATTER.formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = scrub(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)


def redact_extra(record: logging.LogRecord) -> None:
    """Redact in place what came in through `extra`, for every handler after this one."""
    for key in [key for key in vars(record) if key not in _RECORD_FIELDS]:
        setattr(record, key, _masked(key, getattr(record, key)))


_FORMATTER: Final = logging.Formatter()


class RedactingRecordFactory:
    """The process's log record factory: every record is scrubbed as it is made."""

    def __init__(self, make: Callable[..., logging.LogRecord]) -> None:
        self.make = make

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.make(*args, **kwargs)
        redact_record(record)
        return record


class RedactingFilter(logging.Filter):
    """On Baton's log handler: the record's `extra` values are redacted before any handler
    (this one and the root's, which come after it) writes them."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_extra(record)
        return True


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON lines, redacted whole: the message, `extra`, appended keys, the
    exception and its stack trace (whose `value` is the exception's own text)."""

    def serialize(self, log: StructuredLine) -> str:
        line: dict[str, Any] = redact(log)
        return super().serialize(line)


def install() -> None:
    """Make every log record of this process fit to write (idempotent)."""
    current = logging.getLogRecordFactory()
    if not isinstance(current, RedactingRecordFactory):
        logging.setLogRecordFactory(RedactingRecordFactory(current))
    for name in BODY_LOGGERS:
        # Its own level, so a DEBUG root set later does not open it (NOTSET is 0).
        quiet = logging.getLogger(name)
        if quiet.level < logging.INFO:
            quiet.setLevel(logging.INFO)


def service_logger() -> Logger:
    """The handler's Powertools logger (the service's; `Logger(child=True)` in other modules
    writes through its handler), redacting every line it or a child writes."""
    install()
    logger = Logger(logger_formatter=RedactingFormatter())
    _guard(logger.registered_handler)
    return logger


def _guard(handler: logging.Handler) -> None:
    # The service's handler is made once, by whichever Logger came first; make sure it redacts.
    current = handler.formatter
    if not isinstance(current, RedactingFormatter):
        formatter = RedactingFormatter()
        if isinstance(current, LambdaPowertoolsFormatter):
            formatter.append_keys(**current.get_current_keys())  # service, sampling rate, ...
        handler.setFormatter(formatter)
    if not any(isinstance(each, RedactingFilter) for each in handler.filters):
        handler.addFilter(RedactingFilter())
