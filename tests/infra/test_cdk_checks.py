"""Checks on the whole app: cdk-nag at synth, cfn-lint on the template, no credentials needed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_sqs as sqs
from cfnlint.api import ManualArgs, lint_file  # type: ignore[import-untyped]

from infra.synth import build_app

# cfn-lint warnings that CDK itself produces, each with the reason it is accepted.
ACCEPTED_WARNINGS = {
    # lambda.Function depends on its role and the role's default policy; the role is also
    # referenced by GetAtt. The DependsOn on the policy is what matters (no invocation before
    # the permissions exist); the redundant one on the role is CDK's and harmless.
    "W3005",
}


def test_every_cdk_nag_finding_is_acknowledged(cloud_assembly: Path, template_json: dict[str, Any]) -> None:
    # given the session synth succeeded with AwsSolutions checks on, then its report lists no violation
    report = json.loads((cloud_assembly / "validation-report.json").read_text())

    violations = [v for plugin in report["pluginReports"] for v in plugin.get("violations", [])]
    assert violations == []


def test_an_unacknowledged_cdk_nag_finding_fails_synth(tmp_path: Path) -> None:
    # given a resource that breaks an AwsSolutions rule without an acknowledgement
    app = build_app(outdir=str(tmp_path), bundling=False)
    stack = app.node.find_child("Baton")
    assert isinstance(stack, Stack)
    sqs.Queue(stack, "UnencryptedQueue", encryption=sqs.QueueEncryption.UNENCRYPTED)

    # when the app is synthesized, then synth fails and the report names the rule
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = (tmp_path / "validation-report.json").read_text()
    assert "AwsSolutions-SQS" in report
    assert "UnencryptedQueue" in report


def test_template_passes_cfn_lint(cloud_assembly: Path, template_json: dict[str, Any]) -> None:
    matches = lint_file(cloud_assembly / "Baton.template.json", config=ManualArgs(regions=["us-east-1"]))

    problems = [f"{m.rule.id} {m.message}" for m in matches if m.rule.id not in ACCEPTED_WARNINGS]
    assert problems == []


def test_stack_is_environment_agnostic_so_synth_needs_no_credentials(tmp_path: Path) -> None:
    app = build_app(outdir=str(tmp_path), bundling=False)
    stack = app.node.find_child("Baton")

    assert isinstance(stack, Stack)
    assert stack.environment == "aws://unknown-account/unknown-region"
