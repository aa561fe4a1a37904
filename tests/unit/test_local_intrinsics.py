"""The local stack's CloudFormation intrinsic resolver: what CDK templates use, and a loud
failure for anything else."""

from __future__ import annotations

from typing import Any

import pytest

from infra.local.exceptions import UnresolvableReference, UnsupportedIntrinsic
from infra.local.intrinsics import Physical, PseudoParameters, Resolver, references

TABLE = "DataPlaneContactsTable8A39B390"
TOPIC = "DeliveryInboundSmsTopic0495E3D1"
TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "BootstrapVersion": {
            "Type": "AWS::SSM::Parameter::Value<String>",
            "Default": "/cdk-bootstrap/hnb659fds/version",
        },
        "Stage": {"Type": "String", "Default": "prod"},
    },
    "Conditions": {
        "InUsEast1": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]},
        "InEurope": {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]},
        "Anywhere": {"Fn::Or": [{"Condition": "InUsEast1"}, {"Condition": "InEurope"}]},
        "Nowhere": {"Fn::And": [{"Condition": "InUsEast1"}, {"Fn::Not": [{"Condition": "Anywhere"}]}]},
    },
    "Mappings": {"Partitions": {"us-east-1": {"suffix": "amazonaws.com"}}},
    "Resources": {
        TABLE: {"Type": "AWS::DynamoDB::Table"},
        TOPIC: {"Type": "AWS::SNS::Topic"},
        "PublicApiFunctionRoleE99D8BB5": {"Type": "AWS::IAM::Role"},
    },
}


@pytest.fixture
def resolver() -> Resolver:
    physical = {
        TABLE: Physical(
            "baton-contacts", {"Arn": "arn:aws:dynamodb:us-east-1:123456789012:table/baton-contacts"}
        ),
        TOPIC: Physical(
            "arn:aws:sns:us-east-1:123456789012:inbound",
            {"TopicArn": "arn:aws:sns:us-east-1:123456789012:inbound"},
        ),
    }
    pseudo = PseudoParameters(region="us-east-1", account_id="123456789012", stack_name="Baton")
    return Resolver.for_template(TEMPLATE, physical=physical, pseudo=pseudo)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": TABLE}, "baton-contacts"),
        ({"Ref": "AWS::Region"}, "us-east-1"),
        ({"Ref": "AWS::AccountId"}, "123456789012"),
        ({"Ref": "AWS::URLSuffix"}, "amazonaws.com"),
        ({"Ref": "AWS::Partition"}, "aws"),
        ({"Ref": "AWS::StackName"}, "Baton"),
        ({"Ref": "Stage"}, "prod"),
        ({"Fn::GetAtt": [TABLE, "Arn"]}, "arn:aws:dynamodb:us-east-1:123456789012:table/baton-contacts"),
        ({"Fn::GetAtt": f"{TOPIC}.TopicArn"}, "arn:aws:sns:us-east-1:123456789012:inbound"),
        ({"Fn::Join": ["-", ["a", {"Ref": TABLE}, "b"]]}, "a-baton-contacts-b"),
        ({"Fn::Sub": "cdk-assets-${AWS::AccountId}-${AWS::Region}"}, "cdk-assets-123456789012-us-east-1"),
        (
            {"Fn::Sub": "table ${" + TABLE + "} at ${" + TABLE + ".Arn}"},
            "table baton-contacts at " + "arn:aws:dynamodb:us-east-1:123456789012:table/baton-contacts",
        ),
        ({"Fn::Sub": ["${Name}/${!Literal}", {"Name": {"Ref": TABLE}}]}, "baton-contacts/${Literal}"),
        ({"Fn::Select": [2, {"Fn::Split": [",", "a,b,c"]}]}, "c"),
        ({"Fn::If": ["InUsEast1", "yes", "no"]}, "yes"),
        ({"Fn::If": ["Nowhere", "yes", "no"]}, "no"),
        ({"Fn::FindInMap": ["Partitions", {"Ref": "AWS::Region"}, "suffix"]}, "amazonaws.com"),
        ({"Fn::Base64": "hi"}, "aGk="),
        ({"Fn::GetAZs": ""}, ["us-east-1a", "us-east-1b", "us-east-1c"]),
    ],
)
def test_intrinsics_cdk_emits_resolve_to_local_values(resolver: Resolver, value: Any, expected: Any) -> None:
    assert resolver.resolve(value) == expected


def test_no_value_removes_the_property_and_the_list_item(resolver: Resolver) -> None:
    value = {
        "Keep": "x",
        "Drop": {"Ref": "AWS::NoValue"},
        "List": ["a", {"Fn::If": ["Nowhere", "b", {"Ref": "AWS::NoValue"}]}],
    }

    assert resolver.resolve(value) == {"Keep": "x", "List": ["a"]}


def test_condition_values_combine(resolver: Resolver) -> None:
    assert (
        resolver.condition("Anywhere"),
        resolver.condition("InEurope"),
        resolver.condition("Nowhere"),
    ) == (
        True,
        False,
        False,
    )


def test_strings_for_environment_variables_follow_cloudformation(resolver: Resolver) -> None:
    assert [resolver.resolve_str(v) for v in (True, False, 30, "x")] == ["true", "false", "30", "x"]


def test_unknown_intrinsic_fails_loudly(resolver: Resolver) -> None:
    with pytest.raises(UnsupportedIntrinsic, match="Fn::ImportValue"):
        resolver.resolve({"Fn::ImportValue": "SharedVpcId"})


def test_reference_to_a_resource_not_deployed_locally_names_its_type(resolver: Resolver) -> None:
    with pytest.raises(UnresolvableReference, match=r"AWS::IAM::Role.*not deployed"):
        resolver.resolve({"Fn::GetAtt": ["PublicApiFunctionRoleE99D8BB5", "Arn"]})


def test_reference_to_a_name_the_template_lacks_fails(resolver: Resolver) -> None:
    with pytest.raises(UnresolvableReference, match="Nope"):
        resolver.resolve({"Ref": "Nope"})


def test_attribute_the_local_resource_lacks_fails_listing_those_it_has(resolver: Resolver) -> None:
    with pytest.raises(UnresolvableReference, match=r"StreamArn.*Arn"):
        resolver.resolve({"Fn::GetAtt": [TABLE, "StreamArn"]})


def test_unknown_condition_fails(resolver: Resolver) -> None:
    with pytest.raises(UnresolvableReference, match="Missing"):
        resolver.resolve({"Fn::If": ["Missing", "a", "b"]})


def test_a_string_property_given_a_list_fails(resolver: Resolver) -> None:
    with pytest.raises(UnsupportedIntrinsic, match="expected a string"):
        resolver.resolve_str({"Fn::Split": [",", "a,b"]})


def test_references_lists_what_a_value_points_at() -> None:
    uri = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":lambda:path/functions/",
                {"Fn::GetAtt": ["Fn1", "Arn"]},
                "/inv",
            ],
        ]
    }

    assert list(references(uri)) == [("AWS::Partition", None), ("Fn1", "Arn")]
