"""The two-way SMS message that SNS (or End User Messaging) delivers for every inbound text."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints


def readable_text(value: Any) -> Any:
    """A text as a person's phone meant it: a half emoji (a lone UTF-16 surrogate, from a
    message split mid-character) becomes U+FFFD, so the rest, a STOP included, is read and
    stored; a missing body is an empty one."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    # Pairs of surrogates become their character; a lone one has no pair and is replaced.
    return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class InboundSms(BaseModel):
    """The JSON in the SNS notification's `Message` (two-way SMS format)."""

    # One that does not parse fails the invocation, and Lambda logs the error: never the text.
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, hide_input_in_errors=True)

    origination_number: Annotated[str, Field(alias="originationNumber"), StringConstraints(min_length=1)]
    destination_number: Annotated[str | None, Field(alias="destinationNumber")] = None
    message_keyword: Annotated[str | None, Field(alias="messageKeyword")] = None
    message_body: Annotated[str, Field(alias="messageBody"), BeforeValidator(readable_text)] = ""
    inbound_message_id: Annotated[str, Field(alias="inboundMessageId"), StringConstraints(min_length=1)]
    previous_published_message_id: Annotated[str | None, Field(alias="previousPublishedMessageId")] = None
