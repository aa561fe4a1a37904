"""The lists Baton knows, what a load sends and what a list's status shows (never a number)."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from baton.clock import Timestamp

# One part is one request: 5,000 numbers keep its writes well inside API Gateway's 29 seconds.
MAX_NUMBERS = 5_000
# A request carrying the most numbers, each as long as a number may be written, JSON-quoted.
MAX_LOAD_BYTES = MAX_NUMBERS * 72 + 1024
# Parts a load may have: 50 million numbers, ten times the "Não Me Perturbe" register today.
MAX_PARTS = 10_000
ListName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,64}$")]
# A load is known by the generation it writes (a time-ordered id, `baton.ids`).
LoadId = Annotated[str, StringConstraints(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")]
PartNumber = Annotated[int, Field(ge=1, le=MAX_PARTS)]
# A number as written in the file (`+55 11 91234-5678`, `11912345678`): checked by the service.
_RawNumber = Annotated[str, Field(max_length=64)]


@dataclass(frozen=True, slots=True)
class DoNotContactList:
    """A list the operator loads and whose numbers it holds. Which sends it stops is the gate's
    (`GatePolicy.do_not_contact_channels`: marketing texts and calls)."""

    name: str
    country: str  # ISO 3166 alpha-2: only numbers of this country belong on the list
    rule: str  # the rulebook id a refusal cites


# R-BR-1: Brazil's "Não Me Perturbe" register of numbers that refuse marketing calls and texts.
BR_NAO_ME_PERTURBE = DoNotContactList(name="br_nao_me_perturbe", country="BR", rule="R-BR-1")
LISTS = MappingProxyType({BR_NAO_ME_PERTURBE.name: BR_NAO_ME_PERTURBE})


class ListLoad(BaseModel):
    """`PUT /v1/do-not-contact/{list}` (the whole list, a load of one part) and `PUT
    .../loads/{load_id}/parts/{n}` (one part of a load): at most MAX_NUMBERS numbers."""

    model_config = ConfigDict(extra="forbid")

    numbers: Annotated[list[_RawNumber], Field(min_length=1, max_length=MAX_NUMBERS)]


class LoadCommit(BaseModel):
    """`POST .../loads/{load_id}/commit`: how many parts were sent, and (if known) how many
    numbers they carried in all; the list is switched only if the stored parts say the same."""

    model_config = ConfigDict(extra="forbid")

    parts: PartNumber
    numbers: Annotated[int | None, Field(ge=1)] = None


class LoadBegun(BaseModel):
    """A load begun: its parts go to `.../loads/{load_id}/parts/{n}`; `load_id` is also the
    generation the list shows once the load is committed."""

    model_config = ConfigDict(frozen=True)

    list: str
    load_id: str
    begun_at: Timestamp


@dataclass(frozen=True, slots=True)
class PartRecord:
    """A part stored: how many numbers it carried, how many distinct ones, and a digest of its
    hashes, so a part sent again with other numbers is refused rather than mixed in."""

    part: int
    received: int
    count: int
    digest: str


class PartStored(BaseModel):
    """The answer to a part: which one, how many numbers it carried and how many distinct."""

    model_config = ConfigDict(frozen=True)

    list: str
    load_id: str
    part: int
    received: int
    count: int


class ListStatus(BaseModel):
    """The generation in force: when it was loaded and how many distinct numbers it holds."""

    model_config = ConfigDict(frozen=True)

    list: str
    generation: str
    loaded_at: Timestamp
    count: int
