"""State transitions and Lambda invocations per delivered message, per sample journey, counted
from the execution histories of the journey demo run on the local stack. Run: `make bench`."""

from __future__ import annotations

import os
import time
from collections import Counter, defaultdict
from typing import Any

import boto3

from infra.demo import JourneyDemo
from infra.http_client import LocalClient
from infra.local.stack import LocalStack


def _history(client: Any, execution_arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
    while True:
        page = client.get_execution_history(**kwargs)
        events.extend(page["events"])
        if not page.get("nextToken"):
            return events
        kwargs["nextToken"] = page["nextToken"]


def main() -> None:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    stack = LocalStack()
    base_url, token = stack.start(port=0)
    try:
        started = time.perf_counter()
        JourneyDemo(LocalClient(base_url, token), out=lambda _: None).run()
        demo_s = time.perf_counter() - started
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        totals: dict[str, Counter[str]] = defaultdict(Counter)
        for machine in sfn.list_state_machines()["stateMachines"]:
            journey = machine["name"].split("-", 1)[1]
            for execution in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]:
                events = _history(sfn, execution["executionArn"])
                kinds = Counter(event["type"] for event in events)
                totals[journey]["executions"] += 1
                totals[journey]["transitions"] += sum(
                    n for kind, n in kinds.items() if kind.endswith("StateEntered")
                )
                totals[journey]["invocations"] += kinds["LambdaFunctionScheduled"] + kinds["TaskScheduled"]
                totals[journey]["delivered"] += sum(
                    1
                    for event in events
                    if event["type"] == "LambdaFunctionSucceeded"
                    and '"outcome": "sent"'
                    in event["lambdaFunctionSucceededEventDetails"]["output"].replace(
                        '"outcome":"sent"', '"outcome": "sent"'
                    )
                )
        print(f"Journey demo on the local stack: {demo_s:.1f} s wall time")
        header = ("journey", "runs", "messages", "transitions", "invocations", "per message")
        print(f"{header[0]:<16}{header[1]:>6}{header[2]:>10}{header[3]:>13}{header[4]:>13}{header[5]:>22}")
        for journey, t in sorted(totals.items()):
            per = (
                f"{t['transitions'] / t['delivered']:.1f} tr, {t['invocations'] / t['delivered']:.1f} inv"
                if t["delivered"]
                else "-"
            )
            print(
                f"{journey:<16}{t['executions']:>6}{t['delivered']:>10}{t['transitions']:>13}"
                f"{t['invocations']:>13}{per:>22}"
            )
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
