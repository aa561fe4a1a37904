"""The campaign state machine's Distributed Map on the local stack: its definition as the CDK
app synthesizes it, over a JSON array of batch items in S3 (100 contact ids each), with a
trivial function behind every task. Prints, for 100 and 1,000 items, the run's wall time and
the process's resident memory after it (and its peak), so growth per item shows.
Run: `make bench`."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import boto3

from baton.clock import to_iso
from infra import names

BUCKET_ENV: Final = names.ENV_CAMPAIGNS_BUCKET
HANDLER: Final = "infra.bench.distributed_map.handler"
BATCH_SIZE: Final = 100
SIZES: Final = (100, 1_000)
MACHINE: Final = "Bench-Campaigns"


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A trivial CampaignFunction: the snapshot is already in the bucket; a batch sends nothing."""
    if event["action"] == "snapshot":
        items = int(event["run_id"].rsplit("-", 1)[-1])
        key = f"campaigns/{event['run_id']}/batches.json"
        return {
            "bucket": os.environ[BUCKET_ENV],
            "key": key,
            "audience": items * BATCH_SIZE,
            "batches": items,
        }
    if event["action"] == "batch":
        return {"batch": event["batch"], "sent": len(event["contacts"])}
    return {}


def campaign_template(synthesized: Mapping[str, Any], *, machine_name: str, handler: str) -> dict[str, Any]:
    """The synthesized template cut down to the campaign state machine (its definition as it
    deploys, renamed `machine_name`), its function (running `handler`, told only the bucket)
    and the snapshot bucket."""
    resources = synthesized["Resources"]
    (function_id,) = [
        lid
        for lid, r in resources.items()
        if r["Type"] == "AWS::Lambda::Function"
        and r["Properties"].get("Handler") == names.HANDLERS[names.CAMPAIGN_FUNCTION]
    ]
    (machine_id,) = [
        lid
        for lid, r in resources.items()
        if r["Type"] == "AWS::StepFunctions::StateMachine"
        and json.dumps(r["Properties"]["DefinitionString"]).count(function_id) > 0
    ]
    function = copy.deepcopy(resources[function_id]["Properties"])
    bucket = function["Environment"]["Variables"][BUCKET_ENV]
    return {
        "Resources": {
            bucket["Ref"]: {"Type": "AWS::S3::Bucket", "Properties": {}},
            function_id: {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Handler": handler,
                    "Runtime": function["Runtime"],
                    "Timeout": function["Timeout"],
                    "MemorySize": function.get("MemorySize", 512),
                    "Environment": {"Variables": {BUCKET_ENV: bucket, "POWERTOOLS_SERVICE_NAME": "baton"}},
                },
            },
            machine_id: {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "StateMachineName": machine_name,
                    "StateMachineType": "STANDARD",
                    "DefinitionString": resources[machine_id]["Properties"]["DefinitionString"],
                },
            },
        }
    }


def batch_items(run_id: str, count: int) -> bytes:
    """The snapshot as the Map reads it: `[{"batch": 0, "contacts": [100 ids]}, ...]`."""
    return json.dumps(
        [
            {"batch": n, "contacts": [f"{run_id}-{n * BATCH_SIZE + i:07d}" for i in range(BATCH_SIZE)]}
            for n in range(count)
        ]
    ).encode()


def _kib(field: str) -> int:
    """A `/proc/self/status` figure (VmRSS: resident now, VmHWM: the peak), in KiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    return 0


def _synthesized() -> dict[str, Any]:
    """The app's template, synthesized in a child process: CDK's Python modules would otherwise
    count in this process's memory."""
    with tempfile.TemporaryDirectory(prefix="bench-map-") as outdir:
        code = f"from infra.synth import synthesize; synthesize({outdir!r})"
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)  # noqa: S603
        template: dict[str, Any] = json.loads((Path(outdir) / "Baton.template.json").read_text())
        return template


def main() -> None:
    import logging

    from infra.local import LocalStack

    template = campaign_template(_synthesized(), machine_name=MACHINE, handler=HANDLER)
    with LocalStack(template, prefix="bench-map") as stack:
        # The local runtime logs every handler error; a trivial handler raises none, so quiet is fine.
        logging.getLogger("infra.local").setLevel(logging.WARNING)
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        s3 = boto3.client("s3", region_name="us-east-1")
        machine = stack.deployment.state_machine(MACHINE).arn
        bucket = next(iter(stack.deployment.functions.values())).environment[BUCKET_ENV]
        print(f"local stack up: resident {_kib('VmRSS') / 1024:.0f} MiB")
        for count in SIZES:
            run_id = f"bench-{count}"
            s3.put_object(
                Bucket=bucket, Key=f"campaigns/{run_id}/batches.json", Body=batch_items(run_id, count)
            )
            began = time.perf_counter()
            execution = sfn.start_execution(
                stateMachineArn=machine,
                name=run_id,
                input=json.dumps({"run_id": run_id, "at": to_iso(stack.clock.now())}),
            )["executionArn"]
            seconds = time.perf_counter() - began
            status = sfn.describe_execution(executionArn=execution)["status"]
            print(
                f"{count:>5} batch items ({count * BATCH_SIZE:,} contacts): {status} in {seconds:.1f} s"
                f" ({seconds / count * 1000:.0f} ms per item); resident {_kib('VmRSS') / 1024:.0f} MiB,"
                f" peak {_kib('VmHWM') / 1024:.0f} MiB"
            )


if __name__ == "__main__":
    main()
