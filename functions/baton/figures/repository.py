"""Where the figures live: one DynamoDB item per (journey, day, step) and per (queue, day).

Keys (`baton.data.tables.FIGURES`): pk `journey#<id>`, sk `<YYYY-MM-DD>#<step>` (`-` for the
journey's own counters: entered, exited, converted); pk `queue#<queue>`, sk `<YYYY-MM-DD>`.
Each counter is a number attribute `<measure>|<channel>|<variant>`, grown with UpdateItem
`ADD` (no read, no condition): one item per write, items of a few hundred bytes, so one write
unit per item written. A journey's 90 days are one Query of a few hundred items (one page).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from baton import aws
from baton.figures.projection import FigureKey

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef

TEMPLATE: Final = "template"  # the step's template, set beside its counters


@dataclass
class Counts:
    """What one write adds to one item: counters and the step's template (if known)."""

    counters: dict[str, int] = field(default_factory=dict)
    template: str | None = None

    def add(self, counter: str, amount: int, template: str | None) -> None:
        self.counters[counter] = self.counters.get(counter, 0) + amount
        if template is not None:
            self.template = template


@dataclass(frozen=True)
class FigureItem:
    key: FigureKey
    counters: Mapping[str, int]
    template: str | None = None


class FiguresRepository(ABC):
    @abstractmethod
    def add(self, key: FigureKey, counts: Counts) -> None:
        """Add `counts` to the item at `key` (made if missing): one write."""

    @abstractmethod
    def items(self, pk: str, first_sk: str, last_sk: str) -> list[FigureItem]:
        """Every item of `pk` whose sk is within [first_sk, last_sk], in sk order."""

    @abstractmethod
    def newest_first(self, pk: str) -> Iterator[FigureItem]:
        """The items of `pk`, newest day first (a descending Query, read a page at a time as
        the caller goes on): the last day something was counted, without a write to keep it."""


class DynamoFiguresRepository(FiguresRepository):
    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: DynamoDBClient = client or aws.client("dynamodb")

    def add(self, key: FigureKey, counts: Counts) -> None:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        adds = []
        for index, (counter, amount) in enumerate(sorted(counts.counters.items())):
            names[f"#c{index}"] = counter
            values[f":c{index}"] = {"N": str(amount)}
            adds.append(f"#c{index} :c{index}")
        expression = f"ADD {', '.join(adds)}"
        if counts.template is not None:
            names["#t"] = TEMPLATE
            values[":t"] = {"S": counts.template}
            expression += " SET #t = :t"
        self._client.update_item(
            TableName=self._table,
            Key={"pk": {"S": key.pk}, "sk": {"S": key.sk}},
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def items(self, pk: str, first_sk: str, last_sk: str) -> list[FigureItem]:
        request: QueryInputTypeDef = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":pk": {"S": pk},
                ":first": {"S": first_sk},
                ":last": {"S": last_sk},
            },
        }
        found: list[FigureItem] = []
        while True:
            page = self._client.query(**request)
            found.extend(_item(item) for item in page.get("Items", []))
            last = page.get("LastEvaluatedKey")
            if not last:
                return found
            request["ExclusiveStartKey"] = last

    def newest_first(self, pk: str) -> Iterator[FigureItem]:
        request: QueryInputTypeDef = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ScanIndexForward": False,
        }
        while True:
            page = self._client.query(**request)
            yield from (_item(item) for item in page.get("Items", []))
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            request["ExclusiveStartKey"] = last


def _item(item: Mapping[str, Any]) -> FigureItem:
    counters = {name: int(value["N"]) for name, value in item.items() if "N" in value and "|" in name}
    template = item.get(TEMPLATE, {}).get("S")
    return FigureItem(FigureKey(item["pk"]["S"], item["sk"]["S"]), counters, template)
