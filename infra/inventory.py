"""`baton inventory [--format table|markdown|csv|json] [--stale]`: every automated message from
the private API (`GET /v1/inventory`); the markdown form embeds each journey's Mermaid
flowchart. `baton diagram JOURNEY`: one journey's flowchart, read from the catalog folder."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Protocol

from baton.inventory.diagram import flowchart
from baton.journeys.catalog import Catalog, load_catalog
from infra.campaign import _error as error_text

FORMATS: Final = ("table", "markdown", "csv", "json")
COLUMNS: Final = (
    "id",
    "owner",
    "channels",
    "review_by",
    "last_sent",
    "sent_7d",
    "sent_30d",
    "failed_7d",
    "statuses",
)


class InventoryApi(Protocol):
    def get(self, path: str, **kwargs: Any) -> Any: ...


def show(
    client: InventoryApi,
    fmt: str,
    *,
    stale: bool = False,
    catalog: Catalog | None = None,
    out: Callable[[str], None] = print,
) -> int:
    answer = client.get("/v1/inventory" + ("?stale=true" if stale else ""))
    if answer.status != 200:
        out(f"baton inventory: {error_text(answer)}")
        return 1
    entries: list[dict[str, Any]] = answer.json()["items"]
    if fmt == "json":
        out(json.dumps(entries, indent=2))
    elif fmt == "csv":
        out(as_csv(entries))
    elif fmt == "markdown":
        out(as_markdown(entries, catalog))
    else:
        out(as_table(entries))
    return 0


def row(entry: Mapping[str, Any]) -> dict[str, str]:
    """One entry's cells, as every format shows them."""
    return {
        "id": entry["id"],
        "owner": entry["owner"],
        "channels": " ".join(entry["channels"]),
        "review_by": entry["review_by"] or "-",
        "last_sent": entry["last_sent"] or "never",
        "sent_7d": str(entry["last_7_days"]["sent"]),
        "sent_30d": str(entry["last_30_days"]["sent"]),
        "failed_7d": str(entry["last_7_days"]["failed"]),
        "statuses": " ".join(entry["statuses"]),
    }


def as_table(entries: Sequence[Mapping[str, Any]]) -> str:
    rows = [row(entry) for entry in entries]
    widths = {name: max([len(name), *(len(cells[name]) for cells in rows)]) for name in COLUMNS}
    lines = ["  ".join(name.ljust(widths[name]) for name in COLUMNS).rstrip()]
    lines.extend("  ".join(cells[name].ljust(widths[name]) for name in COLUMNS).rstrip() for cells in rows)
    lines.append(f"{len(rows)} automated message{'s' if len(rows) != 1 else ''} (last sent: UTC day)")
    return "\n".join(lines)


def as_csv(entries: Sequence[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(row(entry) for entry in entries)
    return buffer.getvalue().rstrip("\n")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def as_markdown(entries: Sequence[Mapping[str, Any]], catalog: Catalog | None) -> str:
    lines = ["# Automated messages", ""]
    lines.append("| " + " | ".join(COLUMNS) + " |")
    lines.append("|" + "---|" * len(COLUMNS))
    lines.extend("| " + " | ".join(_cell(row(entry)[name]) for name in COLUMNS) + " |" for entry in entries)
    journeys = list(dict.fromkeys(entry["journey"] for entry in entries if entry.get("journey")))
    if catalog is not None:
        for journey_id in journeys:
            journey = catalog.journeys.get(journey_id)
            if journey is None:
                continue
            lines += ["", f"## {journey_id}", "", "```mermaid", flowchart(journey).rstrip("\n"), "```"]
    return "\n".join(lines)


def diagram(journeys_dir: Path, journey_id: str, out: Callable[[str], None] = print) -> int:
    catalog = load_catalog(journeys_dir)
    journey = catalog.journeys.get(journey_id)
    if journey is None:
        known = ", ".join(sorted(catalog.journeys)) or "none"
        out(f"baton diagram: no journey {journey_id!r} in {journeys_dir} (known: {known})")
        return 1
    out(flowchart(journey).rstrip("\n"))
    return 0
