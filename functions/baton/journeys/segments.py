"""Segments (contract): `journeys/segments/<id>.yaml`, attribute conditions over contacts."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from baton.journeys.conditions import Condition
from baton.journeys.models import JOURNEY_ID_PATTERN


class Segment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    segment: Annotated[str, Field(pattern=JOURNEY_ID_PATTERN)]
    owner: EmailStr
    description: Annotated[str, Field(max_length=1000)] | None = None
    when: Condition
