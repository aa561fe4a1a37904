"""`baton figures JOURNEY [--from D] [--to D] [--json]`: a journey's figures from the private
API as a table (the funnel by step, by channel, the variants against the holdout), or the
route's JSON as it is."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlencode

from infra.campaign import _error as error_text

FUNNEL = ("entered", "sent", "delivered", "skipped", "failed", "completed")


class FiguresApi(Protocol):
    def get(self, path: str, **kwargs: Any) -> Any: ...


def show(
    client: FiguresApi,
    journey: str,
    first: str | None,
    last: str | None,
    *,
    as_json: bool = False,
    out: Callable[[str], None] = print,
) -> int:
    query = {name: value for name, value in (("from", first), ("to", last)) if value}
    path = f"/v1/journeys/{journey}/figures" + (f"?{urlencode(query)}" if query else "")
    answer = client.get(path)
    if answer.status != 200:
        out(f"baton figures: {error_text(answer)}")
        return 1
    figures = answer.json()
    out(json.dumps(figures, indent=2) if as_json else table(figures))
    return 0


def _skipped(counts: dict[str, int]) -> int:
    return sum(amount for name, amount in counts.items() if name.startswith("skipped."))


def _row(label: str, counts: dict[str, int]) -> str:
    cells = [counts.get(name, 0) if name != "skipped" else _skipped(counts) for name in FUNNEL]
    return f"  {label:<24}" + "".join(f"{cell:>11,}" for cell in cells)


def table(figures: dict[str, Any]) -> str:
    """The figures as a reader scans them: one row per step, then channels, then variants."""
    lines = [f"Figures of {figures['journey']}, {figures['from']} to {figures['to']} (UTC days)"]
    lines.append(f"  {'':<24}" + "".join(f"{name:>11}" for name in FUNNEL))
    lines.append(_row("(journey)", figures["totals"]))
    for step in figures["steps"]:
        if step["step"] == "-":
            continue
        label = f"{step['step']}" + (f" [{step['template']}]" if step.get("template") else "")
        lines.append(_row(label, step["totals"]))
        reasons = {n.split(".", 1)[1]: a for n, a in step["totals"].items() if n.startswith("skipped.")}
        if reasons:
            lines.append(
                f"  {'':<24}skipped by reason: " + ", ".join(f"{r} {a:,}" for r, a in sorted(reasons.items()))
            )
    if figures["channels"]:
        lines.append("By channel:")
        lines.extend(_row(channel, counts) for channel, counts in figures["channels"].items())
    rates = {name: rate for name, rate in figures["rates"].items() if rate is not None}
    if rates:
        lines.append("Rates: " + ", ".join(f"{name} {rate:.1%}" for name, rate in rates.items()))
    holdout = figures.get("holdout")
    if figures["variants"] or holdout:
        against = "the holdout" if holdout else "the other variants"
        lines.append(f"Variants (conversion; lift and p-value against {against}, two-proportion z-test):")
        for variant in [*figures["variants"], *([holdout] if holdout else [])]:
            rate = variant["conversion_rate"]
            parts = [
                f"  {variant['variant']:<24}{variant['converted']:,}/{variant['entered']:,}",
                f"{rate:.1%}" if rate is not None else "-",
            ]
            if variant.get("lift") is not None:
                parts.append(f"lift {variant['lift']:+.1%}")
            if variant.get("p_value") is not None:
                parts.append(f"p {variant['p_value']:.3f}")
            lines.append("  ".join(parts))
    return "\n".join(lines)
