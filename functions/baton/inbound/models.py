"""The two-way SMS message that SNS (or End User Messaging) delivers for every inbound text."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class InboundSms(BaseModel):
    """The JSON in the SNS notification's `Message` (two-way SMS format)."""

    # One that does not parse fails the invocation, and Lambda logs the error: never the text.
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, hide_input_in_errors=True)

    origination_number: Annotated[str, Field(alias="originationNumber"), StringConstraints(min_length=1)]
    destination_number: Annotated[str | None, Field(alias="destinationNumber")] = None
    message_keyword: Annotated[str | None, Field(alias="messageKeyword")] = None
    message_body: Annotated[str, Field(alias="messageBody")] = ""
    inbound_message_id: Annotated[str, Field(alias="inboundMessageId"), StringConstraints(min_length=1)]
    previous_published_message_id: Annotated[str | None, Field(alias="previousPublishedMessageId")] = None
