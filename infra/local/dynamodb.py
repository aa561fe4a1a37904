"""DynamoDB Query on the embedded AWS at DynamoDB's own cost: a query of a table's partition
reads that partition.

moto answers a Query on a table (not an index) by sorting every item of the table and keeping
those of the asked partition (`Table.query` reads `Table.all_items()`), so each Query costs
the size of the whole table. Baton queries a contact's partition on every send (the timeline's
recent sends for the frequency caps, the consent ledger, the runs): with the tables growing by
each contact of a campaign, a local campaign's cost per message grew with its audience, where in
DynamoDB it does not. While `partition_queries` is active, such a query reads only its
partition's items (moto's own `items[hash key]`); moto does the rest as before (range
conditions, order, filters, limits, pages). A query of an index, which moto answers by reading
every item, is left as it is: Baton's hot paths do not query indexes.

The partition is chosen per call and per thread (the local stack serves requests and runs
executions on several threads), so a Scan, or another thread's query, still reads every item.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table

_asked = threading.local()


def _partition_items(table: Table, hash_key: Any) -> list[Item]:
    """The partition's items in `all_items`'s order (the hash key is the same for all)."""
    partition = table.items.get(hash_key)
    if partition is None:
        return []
    if table.range_key_attr:
        return sorted(partition.values(), key=lambda item: item.range_key)
    return [partition]  # type: ignore[list-item]  # a hash-only table keeps the item itself


@contextmanager
def partition_queries() -> Iterator[None]:
    """Queries of a table's partition read only that partition, until the block ends."""
    original_query = Table.query
    original_all_items = Table.all_items

    def all_items(self: Table) -> list[Item]:
        if getattr(_asked, "table", None) is self:
            return _partition_items(self, _asked.hash_key)
        return original_all_items(self)

    signature = inspect.signature(original_query)

    def query(self: Table, *args: Any, **kwargs: Any) -> Any:
        asked = signature.bind(self, *args, **kwargs).arguments  # moto passes the index by position
        hash_key = asked.get("hash_key")
        if asked.get("index_name") is not None or hash_key is None:
            return original_query(self, *args, **kwargs)
        _asked.table, _asked.hash_key = self, hash_key
        try:
            return original_query(self, *args, **kwargs)
        finally:
            _asked.table = _asked.hash_key = None

    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.query = original_query  # type: ignore[method-assign]
        Table.all_items = original_all_items  # type: ignore[method-assign]
