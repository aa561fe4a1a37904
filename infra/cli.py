"""`baton`: the command line. `baton local` serves the API over the embedded AWS until stopped."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from infra.demo import DemoFailed, run_demo
from infra.local.stack import DEFAULT_PORT, LocalStack

ROOT = Path(__file__).resolve().parent.parent
# `make setup` installs Node 22 here when the system Node is older; jsii (synth) needs a Node.
_PROJECT_NODE = ROOT / ".tools" / "node22" / "node_modules" / ".bin"


def _prefer_project_node() -> None:
    if (_PROJECT_NODE / "node").exists() and str(_PROJECT_NODE) not in os.environ.get("PATH", ""):
        os.environ["PATH"] = f"{_PROJECT_NODE}{os.pathsep}{os.environ.get('PATH', '')}"


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _local(args: argparse.Namespace) -> int:
    if args.template is not None:
        template = json.loads(args.template.read_text(encoding="utf-8"))
        stack = LocalStack(template)
    else:
        _prefer_project_node()
        print("Synthesizing the CDK app ...", flush=True)
        stack = LocalStack(outdir=ROOT / "cdk.out")
    try:
        base_url, token = stack.start(port=args.port)
    except OSError as exc:
        print(f"baton local: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    times = stack.times
    took = (f"synth {times.synth_s:.1f} s, " if times and times.synth_s is not None else "") + (
        f"deploy {times.deploy_s:.1f} s" if times else ""
    )
    print(
        f"Baton local API on {base_url} ({took})\n"
        f"Private routes need:  Authorization: Bearer {token}\n"
        f"  curl -H 'Authorization: Bearer {token}' {base_url}/v1/contacts/c-1\n"
        f"Outbox: {base_url}/_local/outbox   Inbound SMS: POST {base_url}/_local/sms-inbound\n"
        "Ctrl-C to stop.",
        flush=True,
    )
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        stack.wait()
    except KeyboardInterrupt:
        print("\nStopping.", flush=True)
    finally:
        stack.stop()
    return 0


def _demo(args: argparse.Namespace) -> int:
    _prefer_project_node()
    # The handlers' structured logs and metrics would bury the story: keep warnings only.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    print("Synthesizing the CDK app and deploying it into the embedded AWS ...", flush=True)
    stack = LocalStack(outdir=ROOT / "cdk.out")
    base_url, token = stack.start(port=args.port)
    print(f"Local API on {base_url}", flush=True)
    try:
        run_demo(base_url, token)
    except DemoFailed as exc:
        print(f"\nDemo failed: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="baton", description="Baton: consent-first customer messaging on AWS."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    local = commands.add_parser(
        "local",
        help="serve the API over the embedded AWS until stopped",
        description="Synthesize the CDK app, deploy it into moto in this process and serve the API.",
    )
    local.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port on 127.0.0.1 (default {DEFAULT_PORT})"
    )
    local.add_argument(
        "--template",
        type=Path,
        help="deploy this synthesized template (e.g. cdk.out/Baton.template.json) instead of synthesizing",
    )
    local.add_argument("-v", "--verbose", action="store_true", help="log every request and invocation")
    local.set_defaults(run=_local)
    demo = commands.add_parser(
        "demo",
        help="run the sample scenario over HTTP on the embedded AWS",
        description="Start the local stack on a free port and run the sample scenario against it.",
    )
    demo.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
