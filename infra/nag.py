"""cdk-nag (AwsSolutions) as a synth-time validation plugin, and one way to acknowledge a finding.

An unacknowledged finding fails synth. Every acknowledgement sits next to the resource it is
about and says why.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, CfnElement, Stack, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def add_checks(app: App) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one finding (`AwsSolutions-IAM5[Resource::*]`) on `scope` and its children."""
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def logical_id(construct: IConstruct) -> str:
    """The CloudFormation logical id of an L2 construct's resource, as cdk-nag names it in findings."""
    resource = construct.node.default_child
    if not isinstance(resource, CfnElement):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource")
    return str(Stack.of(construct).resolve(resource.logical_id))
