"""Contacts imported per second through the local stack: `POST /v1/contacts:import` over HTTP
(the synthesized template on moto, handlers in-process) for files of 1,000 and 10,000 new
contacts, a file imported again (every row unchanged), a file whose every row carries an email
consent with its proof, and the same contacts one `PUT /v1/contacts/{id}` at a time for
comparison. Prints counts, rates, seconds per part (do later parts slow down as the tables
grow?) and ratios. Run: `make bench`."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass

from baton.imports.models import ImportFormat
from infra.http_client import LocalClient
from infra.imports import CONTENT_TYPES, IMPORT_PATH, parts_of
from infra.local.stack import LocalStack

SIZES = (1_000, 10_000)
# moto deep-copies the consent table once per action of a TransactWriteItems (its rollback
# backup), two per consent: the rate falls as the ledger grows, so a few hundred show it.
CONSENTED = 500
ONE_BY_ONE = 200
PROOF = {"consent_channels": "email", "consent_topics": "news", "text_version": "news-2026-01"}


@dataclass(frozen=True)
class Run:
    rows: int
    seconds: float
    part_seconds: list[float]
    counts: dict[str, int]

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


def _file(prefix: str, count: int, consent: bool = False) -> str:
    lines = []
    for n in range(count):
        row: dict[str, object] = {
            "contact_id": f"{prefix}-{n:06d}",
            "email": f"{prefix}.{n}@example.com",
            "phone": f"+1425555{n % 10_000:04d}",
            "first_name": f"Person {n}",
            "timezone": "America/New_York",
            "attributes": {"plan": "gold" if n % 3 == 0 else "basic", "n": n},
        }
        if consent:
            row |= PROOF | {"actor": "bench", "obtained_at": "2026-01-05T10:00:00Z"}
        lines.append(json.dumps(row))
    return "\n".join(lines) + "\n"


def _import(client: LocalClient, text: str) -> Run:
    counts = {"created": 0, "updated": 0, "unchanged": 0, "consents_recorded": 0}
    part_seconds = []
    began = time.perf_counter()
    rows = 0
    for part in parts_of(text, ImportFormat.JSONL):
        started = time.perf_counter()
        answer = client.post(
            IMPORT_PATH, data=part.body(), headers={"Content-Type": CONTENT_TYPES[ImportFormat.JSONL]}
        )
        part_seconds.append(time.perf_counter() - started)
        if answer.status != 200:
            raise RuntimeError(f"import refused: {answer.status} {answer.text[:500]}")
        for name in counts:
            counts[name] += answer.json()[name]
        rows += part.rows
    return Run(rows, time.perf_counter() - began, part_seconds, counts)


def _one_by_one(client: LocalClient, count: int) -> float:
    began = time.perf_counter()
    for n in range(count):
        body = {"email": f"put.{n}@example.com", "first_name": f"Person {n}", "attributes": {"n": n}}
        answer = client.put(f"/v1/contacts/put-{n:06d}", json_body=body)
        if answer.status != 201:
            raise RuntimeError(f"PUT refused: {answer.status} {answer.text[:500]}")
    return count / (time.perf_counter() - began)


def _line(label: str, run: Run) -> str:
    parts = ", ".join(f"{seconds:.1f}" for seconds in run.part_seconds)
    counts = ", ".join(f"{name} {value:,}" for name, value in run.counts.items())
    figures = f"{run.rows:>7,} rows {run.seconds:7.1f} s {run.rate:8,.0f} rows/s"
    return f"  {label:<34} {figures}  ({counts}; s per part: {parts})"


def main() -> None:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    stack = LocalStack()
    base_url, token = stack.start(port=0)
    client = LocalClient(base_url, token)
    try:
        print(
            "Contact import through the local stack (POST /v1/contacts:import, JSON lines, parts of 5,000):"
        )
        runs = {}
        for size in SIZES:
            runs[size] = _import(client, _file(f"new{size}", size))
            print(_line(f"{size:,} new contacts", runs[size]), flush=True)
        large = SIZES[-1]
        again = _import(client, _file(f"new{large}", large))
        print(_line(f"{large:,} imported again", again), flush=True)
        consented = _import(client, _file("consent", CONSENTED, consent=True))
        print(_line(f"{CONSENTED:,} new, each with a consent", consented), flush=True)
        put_rate = _one_by_one(client, ONE_BY_ONE)
        print(f"  {ONE_BY_ONE:,} contacts one PUT at a time: {put_rate:,.1f} contacts/s", flush=True)
        small = SIZES[0]
        growth = runs[large].rate / runs[small].rate
        print(f"  rows/s at {large:,} / at {small:,}: {growth:.2f} (1.00 is linear)")
        print(f"  import / one PUT at a time, at {small:,}: {runs[small].rate / put_rate:,.1f}x")
        print(f"  re-import / first import, at {large:,}: {again.rate / runs[large].rate:.2f}")
        print(f"  with a consent / without, at {small:,}: {consented.rate / runs[small].rate:.2f}")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
