"""Campaign messages per second on the local stack, at 1,000 and 10,000 contacts.

The synthesized template on the embedded AWS (handlers in-process): gold customers with email
consent are loaded, then `POST /v1/campaigns` runs the sample `gold-monthly` journey over the
`gold-customers` segment through the campaign state machine (the audience snapshot, the
Distributed Map's batches, the finish); the local server answers once the run has settled, so
the request's time is the run's. Prints messages per second at each size, their ratio (1.00 is
linear: the cost per message does not grow with the audience) and the process's resident
memory after each run and at its peak.

The local SES account is given a warmed-up production rate (10,000 emails a second): the pace
is the question elsewhere (`infra.bench.campaigns`), and on the virtual clock, which stands
still while a task runs, a new account's 14 a second would hold the run until the clock is
moved. Loading the contacts is not timed: moto backs up every table a DynamoDB transaction
writes by copying it whole, so recording 10,000 consents one transaction each would take far
longer than the campaign; while the contacts are loaded that backup is left out (nothing fails
there to roll back).

Run: `make bench`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from infra.http_client import LocalClient
from infra.local.stack import LocalStack, synthesize_template

SIZES = (1_000, 10_000)
PART = 250  # consents a request of the import route records at most
PROOF = {
    "consent_channels": "email",
    "consent_topics": "offers",
    "text_version": "checkout-v2",
    "obtained_at": "2026-01-05T10:00:00Z",
}


def _memory_kib(field: str) -> int:
    """`VmRSS` (resident now) or `VmHWM` (the peak) of this process, in KiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


@contextmanager
def _transactions_without_backup() -> Iterator[None]:
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items
    deepcopy = __import__("copy").deepcopy

    def without_backup(self: Any, transact_items: list[dict[str, Any]]) -> None:
        import moto.dynamodb.models as models

        models.copy.deepcopy = lambda value, *args: value  # type: ignore[attr-defined]
        try:
            original(self, transact_items)
        finally:
            models.copy.deepcopy = deepcopy  # type: ignore[attr-defined]

    DynamoDBBackend.transact_write_items = without_backup  # type: ignore[method-assign]
    try:
        yield
    finally:
        DynamoDBBackend.transact_write_items = original  # type: ignore[method-assign]


def _load(api: LocalClient, count: int) -> None:
    rows = [
        {
            "contact_id": f"gold-{n:06d}",
            "email": f"gold-{n:06d}@example.com",
            "first_name": "Ana",
            "attributes": {"tier": "gold", "bought_this_year": True},
            **PROOF,
        }
        for n in range(count)
    ]
    with _transactions_without_backup():
        for start in range(0, count, PART):
            body = "\n".join(json.dumps(row) for row in rows[start : start + PART])
            answer = api.post(
                "/v1/contacts:import", data=body, headers={"Content-Type": "application/x-ndjson"}
            )
            if answer.status != 200:
                raise SystemExit(f"import failed: HTTP {answer.status}: {answer.text[:300]}")


def _run(template: dict[str, Any], count: int) -> tuple[int, float, int]:
    stack = LocalStack(template)
    stack.ses_account.max_send_rate = 10_000
    stack.ses_account.max_24_hour_send = 10_000_000
    base_url, token = stack.start(port=0)
    try:
        # The campaign's request answers when the run has settled: at 10,000 contacts, minutes.
        api = LocalClient(base_url, token, timeout_s=3600)
        _load(api, count)
        began = time.perf_counter()
        answer = api.post("/v1/campaigns", json_body={"journey": "gold-monthly", "segment": "gold-customers"})
        seconds = time.perf_counter() - began
        if answer.status != 202:
            raise SystemExit(f"campaign not started: HTTP {answer.status}: {answer.text[:300]}")
        view = api.get(f"/v1/campaigns/{answer.json()['run_id']}").json()
        if view["status"] != "completed":
            raise SystemExit(f"the run did not complete: {view}")
        return int(view["sent"]), seconds, _memory_kib("VmRSS")
    finally:
        stack.stop()


def main() -> None:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    template = synthesize_template()
    rates: dict[int, float] = {}
    print("Campaign on the local stack (gold-monthly over gold-customers, batches of 100):")
    for count in SIZES:
        sent, seconds, resident = _run(template, count)
        rates[count] = sent / seconds
        print(
            f"  {count:>7,} contacts: {sent:,} sent in {seconds:.1f} s, {rates[count]:.0f} messages/s;"
            f" resident {resident / 1024:.0f} MiB after the run"
        )
    small, large = SIZES
    print(f"  messages/s at {large:,} / at {small:,}: {rates[large] / rates[small]:.2f} (1.00 is linear)")
    print(f"  peak resident memory of the process: {_memory_kib('VmHWM') / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
