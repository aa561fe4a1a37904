"""Test-only step for callback_template.json beside this file: `await` stores the task token it is
given (and, with `answer_at_once`, answers it from inside the handler); `answer` answers a token
from inside a handler, as a Baton API call completing a task would; `after` records what the
callback task left at its ResultPath."""

from __future__ import annotations

import json
from typing import Any

import boto3

from baton.clock import process_clock, to_iso

# Every call, oldest first: action, execution, time, event.
CALLS: list[dict[str, Any]] = []
# execution ARN -> the task tokens it was given, oldest first.
TOKENS: dict[str, list[str]] = {}


def calls(action: str, execution: str | None = None) -> list[dict[str, Any]]:
    return [c for c in CALLS if c["action"] == action and execution in (None, c["execution"])]


def token_of(execution: str) -> str:
    return TOKENS[execution][-1]


def step(event: dict[str, Any], context: Any) -> dict[str, Any]:
    now = process_clock().now()
    action = event["action"]
    CALLS.append({"action": action, "execution": event.get("execution"), "at": to_iso(now), "event": event})
    if action == "await":
        TOKENS.setdefault(event["execution"], []).append(event["token"])
        if event.get("answer_at_once"):
            sfn = boto3.client("stepfunctions", region_name="us-east-1")
            sfn.send_task_success(taskToken=event["token"], output=json.dumps({"answered": "at once"}))
        return {"waiting": True}
    if action == "start":
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        payload = json.dumps({"contact_id": f"c-{event['name']}", "steps": {}})
        started = sfn.start_execution(stateMachineArn=event["machine"], name=event["name"], input=payload)
        return {"execution": started["executionArn"]}
    if action == "answer":
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        sfn.send_task_success(taskToken=event["token"], output=json.dumps(event["output"]))
        return {"answered": True}
    return {"ran": action, "at": to_iso(now)}
