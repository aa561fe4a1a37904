"""Deploying a CDK-shaped template into moto: what is created, how functions are found, and
the loud failure when a function's environment points at something not deployed locally."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.local.deploy import Deployment, deploy
from infra.local.exceptions import FunctionNotFound, TemplateError

FIXTURE = Path(__file__).parent.parent / "e2e" / "local_stack_fixture" / "template.json"
REGION = "us-east-1"
BASE_URL = "http://127.0.0.1:3999"


@pytest.fixture
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(FIXTURE.read_text())
    return loaded


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield


def _deploy(template: dict[str, Any]) -> Deployment:
    return deploy(template, region=REGION, prefix="unit", base_url=BASE_URL, stack_name="Baton")


@pytest.mark.usefixtures("moto")
def test_functions_are_found_by_logical_id_or_construct_id(template: dict[str, Any]) -> None:
    deployment = _deploy(template)

    assert deployment.function("SmsInboundFunction").logical_id == "SmsInboundFunction8C9D0E1F"
    assert deployment.function("EchoFunction0A1B2C3D").name == "unit-EchoFunction0A1B2C3D"
    with pytest.raises(FunctionNotFound, match="Nobody"):
        deployment.function("Nobody")


@pytest.mark.usefixtures("moto")
def test_what_the_local_stack_does_not_deploy_is_listed(template: dict[str, Any]) -> None:
    deployment = _deploy(template)

    assert set(deployment.not_deployed.values()) == {
        "AWS::KMS::Key",
        "AWS::IAM::Role",
        "AWS::Lambda::Permission",
        "AWS::CDK::Metadata",
    }


@pytest.mark.usefixtures("moto")
def test_sender_outside_the_templates_identity_is_verified_as_an_address(template: dict[str, Any]) -> None:
    _deploy(template)

    identities = {i["IdentityName"] for i in boto3.client("sesv2").list_email_identities()["EmailIdentities"]}

    assert identities == {"example.org", "hello@fixture.example.com"}


@pytest.mark.usefixtures("moto")
def test_environment_pointing_at_a_resource_not_deployed_fails_naming_the_variable(
    template: dict[str, Any],
) -> None:
    broken = copy.deepcopy(template)
    variables = broken["Resources"]["EchoFunction0A1B2C3D"]["Properties"]["Environment"]["Variables"]
    variables["FIXTURE_KEY_ARN"] = {"Fn::GetAtt": ["DeliveryInboundSmsKey1D2E3F4A", "Arn"]}

    with pytest.raises(
        TemplateError, match=r"EchoFunction0A1B2C3D Environment.Variables.FIXTURE_KEY_ARN.*KMS"
    ):
        _deploy(broken)

    assert boto3.client("dynamodb").list_tables()["TableNames"] == []


@pytest.mark.usefixtures("moto")
def test_teardown_deletes_what_the_deployment_created(template: dict[str, Any]) -> None:
    deployment = _deploy(template)
    dynamodb, sns = boto3.client("dynamodb"), boto3.client("sns")
    assert len(dynamodb.list_tables()["TableNames"]) == 2

    deployment.teardown()

    assert dynamodb.list_tables()["TableNames"] == []
    assert sns.list_topics()["Topics"] == []


@pytest.mark.usefixtures("moto")
def test_cdks_node_custom_resource_provider_is_listed_not_deployed(template: dict[str, Any]) -> None:
    # given the AwsCustomResource that turns on SES account suppression (a deploy-time provider)
    with_provider = copy.deepcopy(template)
    with_provider["Resources"]["AWS679f53fac002430cb0da5b7982bd22872D164C4C"] = {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Handler": "index.handler", "Runtime": "nodejs24.x", "Timeout": 120},
    }
    with_provider["Resources"]["DeliveryAccountSuppressionE46CAE60"] = {
        "Type": "Custom::AWS",
        "Properties": {
            "ServiceToken": {"Fn::GetAtt": ["AWS679f53fac002430cb0da5b7982bd22872D164C4C", "Arn"]},
            "Create": '{"service":"SESv2","action":"putAccountSuppressionAttributes"}',
        },
    }

    deployment = _deploy(with_provider)

    assert "AWS679f53fac002430cb0da5b7982bd22872D164C4C" not in deployment.functions
    assert deployment.not_deployed["AWS679f53fac002430cb0da5b7982bd22872D164C4C"] == (
        "AWS::Lambda::Function (nodejs24.x)"
    )
    assert deployment.not_deployed["DeliveryAccountSuppressionE46CAE60"] == "Custom::AWS"
    assert deployment.function("SmsInboundFunction").handler  # Baton's own functions still run


@pytest.mark.usefixtures("moto")
def test_r_gdpr_5_a_dead_letter_queue_is_created_and_its_url_reaches_the_function_that_erases(
    template: dict[str, Any],
) -> None:
    # Erasure reads the dead-letter queues by the URLs its function's environment names.
    with_queue = copy.deepcopy(template)
    with_queue["Resources"]["EventsDeadLetterQueueC3DB07E1"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    variables = with_queue["Resources"]["EchoFunction0A1B2C3D"]["Properties"]["Environment"]["Variables"]
    variables["BATON_EVENTS_DEAD_LETTER_QUEUE"] = {"Ref": "EventsDeadLetterQueueC3DB07E1"}
    sqs = boto3.client("sqs")

    deployment = _deploy(with_queue)
    url = deployment.function("EchoFunction0A1B2C3D").environment["BATON_EVENTS_DEAD_LETTER_QUEUE"]

    assert sqs.list_queues()["QueueUrls"] == [url]
    assert url.endswith("/unit-EventsDeadLetterQueueC3DB07E1")
    deployment.teardown()
    assert sqs.list_queues().get("QueueUrls", []) == []


@pytest.mark.usefixtures("moto")
def test_a_bucket_of_the_template_is_created_and_its_name_reaches_the_functions(
    template: dict[str, Any],
) -> None:
    # given a CDK bucket (no BucketName) that a function's environment names by Ref
    template["Resources"]["SnapshotBucket9C21B30F"] = {"Type": "AWS::S3::Bucket", "Properties": {}}
    echo = template["Resources"]["EchoFunction0A1B2C3D"]["Properties"]
    echo["Environment"]["Variables"]["BATON_CAMPAIGNS_BUCKET"] = {"Ref": "SnapshotBucket9C21B30F"}

    deployment = _deploy(template)

    # then the bucket exists under a lowercase S3 name, and the function is told that name
    name = deployment.function("EchoFunction0A1B2C3D").environment["BATON_CAMPAIGNS_BUCKET"]
    assert name == "unit-snapshotbucket9c21b30f"
    s3 = boto3.client("s3")
    s3.put_object(Bucket=name, Key="campaigns/run-1/batches.json", Body=b"[]")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == [name]

    # and taking the stack down deletes it, objects and all
    deployment.teardown()
    assert s3.list_buckets()["Buckets"] == []
