"""An in-memory figures table for tests: the same `ADD` semantics as DynamoDB's, and writes counted."""

from __future__ import annotations

from collections.abc import Iterator

from baton.figures.projection import FigureKey
from baton.figures.repository import Counts, FigureItem, FiguresRepository


class InMemoryFiguresRepository(FiguresRepository):
    def __init__(self, failures: int = 0) -> None:
        self.items_by_key: dict[FigureKey, FigureItem] = {}
        self.writes = 0
        self._failures = failures  # how many writes fail before the next succeeds

    def add(self, key: FigureKey, counts: Counts) -> None:
        if self._failures:
            self._failures -= 1
            raise ConnectionError("figures table unreachable")
        self.writes += 1
        old = self.items_by_key.get(key)
        counters = dict(old.counters) if old is not None else {}
        for name, amount in counts.counters.items():
            counters[name] = counters.get(name, 0) + amount
        template = counts.template or (old.template if old is not None else None)
        self.items_by_key[key] = FigureItem(key, counters, template)

    def items(self, pk: str, first_sk: str, last_sk: str) -> list[FigureItem]:
        return [
            item
            for key, item in sorted(self.items_by_key.items())
            if key.pk == pk and first_sk <= key.sk <= last_sk
        ]

    def newest_first(self, pk: str) -> Iterator[FigureItem]:
        for key, item in sorted(self.items_by_key.items(), reverse=True):
            if key.pk == pk:
                yield item
