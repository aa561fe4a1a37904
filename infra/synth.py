"""Build and synthesize the CDK app: for `app.py`, the CDK CLI, tests and the local stack.

`bundling=False` skips Lambda bundling (the asset is the `functions/` folder as is): no pip, no
network, a few seconds. cdk-nag runs on every synth; an unacknowledged finding fails it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_cdk import App

from infra import nag
from infra.config import CONTEXT_KEY, load_config
from infra.stack import BatonStack

ROOT = Path(__file__).resolve().parent.parent
CDK_JSON = ROOT / "cdk.json"
# CDK's own switch: the stacks (by path pattern) whose assets are bundled; [] bundles none.
BUNDLING_STACKS = "aws:cdk:bundling-stacks"


def cdk_json_context() -> dict[str, Any]:
    """cdk.json's `context`: the CDK CLI passes it, `python app.py` and tests read it here."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text(encoding="utf-8")).get("context", {})
    return context


def build_app(
    *, outdir: str | None = None, bundling: bool = True, context: dict[str, Any] | None = None
) -> App:
    """The app with Baton's stack and cdk-nag. `context` overrides cdk.json's (its `baton` key
    is merged into cdk.json's `baton`, so a test can change one setting)."""
    merged = cdk_json_context()
    for key, value in (context or {}).items():
        if key == CONTEXT_KEY and isinstance(value, dict):
            merged[key] = {**merged.get(key, {}), **value}
        else:
            merged[key] = value
    app = App(outdir=outdir, context=merged)
    if not bundling:
        # Set on the node, not in `context`: the CDK CLI's own value (from CDK_CONTEXT_JSON) would win.
        app.node.set_context(BUNDLING_STACKS, [])
    config = load_config(app.node)
    BatonStack(app, config.stack_name, config=config, description="Baton: consent-first customer messaging.")
    nag.add_checks(app)
    return app


def synthesize(
    outdir: str | Path, *, bundling: bool = False, context: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Write the cloud assembly to `outdir` and return the stack's CloudFormation template."""
    app = build_app(outdir=str(outdir), bundling=bundling, context=context)
    assembly = app.synth()
    (stack,) = assembly.stacks
    template: dict[str, Any] = stack.template
    return template
