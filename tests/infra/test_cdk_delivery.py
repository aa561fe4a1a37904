"""Delivery: the SES identity (Easy DKIM), secrets, and the inbound-SMS topic with its DLQ and alarm."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aws_cdk import assertions

from infra import names


def _only(template: assertions.Template, resource_type: str) -> tuple[str, Mapping[str, Any]]:
    ((logical_id, resource),) = template.find_resources(resource_type).items()
    return logical_id, resource


def _named(template: assertions.Template, resource_type: str, name: str) -> tuple[str, Mapping[str, Any]]:
    """The one resource of the type whose logical id contains `name`: there is a topic per
    hand-off queue, and their key, next to the inbound-SMS ones."""
    ((logical_id, resource),) = [
        (lid, r) for lid, r in template.find_resources(resource_type).items() if name in lid
    ]
    return logical_id, resource


def _sms_inbound_function_id(template: assertions.Template) -> str:
    (logical_id,) = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": names.HANDLERS[names.SMS_INBOUND_FUNCTION]}}
    )
    return logical_id


def test_inbound_sms_topic_invokes_the_sms_inbound_function(template: assertions.Template) -> None:
    topic_id, _ = _named(template, "AWS::SNS::Topic", "InboundSmsTopic")

    template.has_resource_properties(
        "AWS::SNS::Subscription",
        {
            "Protocol": "lambda",
            "TopicArn": {"Ref": topic_id},
            "Endpoint": {"Fn::GetAtt": [_sms_inbound_function_id(template), "Arn"]},
        },
    )


def test_inbound_sms_topic_is_encrypted_with_a_rotating_key_and_refuses_plain_http(
    template: assertions.Template,
) -> None:
    topic_id, topic = _named(template, "AWS::SNS::Topic", "InboundSmsTopic")
    key_id, key = _named(template, "AWS::KMS::Key", "InboundSmsKey")

    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert key["Properties"]["EnableKeyRotation"] is True
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "Topics": [{"Ref": topic_id}],
            "PolicyDocument": {
                "Statement": assertions.Match.array_with(
                    [
                        assertions.Match.object_like(
                            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        )
                    ]
                )
            },
        },
    )


def _sms_dead_letter_queue(template: assertions.Template) -> tuple[str, Mapping[str, Any]]:
    """The inbound-SMS queue (the event bus has a dead-letter queue too)."""
    ((logical_id, resource),) = [
        (lid, r) for lid, r in template.find_resources("AWS::SQS::Queue").items() if "SmsInbound" in lid
    ]
    return logical_id, resource


def test_failed_inbound_sms_land_in_a_dead_letter_queue(template: assertions.Template) -> None:
    # given SNS cannot invoke the function, or the function fails after its retries,
    # then the message is kept in the dead-letter queue (R-REL-5)
    queue_id, queue = _sms_dead_letter_queue(template)
    _, subscription = _only(template, "AWS::SNS::Subscription")
    function = template.find_resources("AWS::Lambda::Function")[_sms_inbound_function_id(template)]

    queue_arn = {"Fn::GetAtt": [queue_id, "Arn"]}
    assert subscription["Properties"]["RedrivePolicy"] == {"deadLetterTargetArn": queue_arn}
    assert function["Properties"]["DeadLetterConfig"] == {"TargetArn": queue_arn}
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {"FunctionName": {"Ref": _sms_inbound_function_id(template)}, "MaximumRetryAttempts": 2},
    )


def test_a_message_in_the_dead_letter_queue_raises_an_alarm(template: assertions.Template) -> None:
    queue_id, _ = _sms_dead_letter_queue(template)

    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}],
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        },
    )


def test_r_mbx_5_the_sender_domain_signs_with_easy_dkim(template: assertions.Template) -> None:
    # R-MBX-5: DKIM aligned with the From domain; the DMARC record is a stack output to publish
    configuration_set_id, _ = _only(template, "AWS::SES::ConfigurationSet")

    template.has_resource_properties(
        "AWS::SES::EmailIdentity",
        {
            "EmailIdentity": "example.com",
            "DkimAttributes": {"SigningEnabled": True},
            "DkimSigningAttributes": {"NextSigningKeyLength": "RSA_2048_BIT"},
            "ConfigurationSetAttributes": {"ConfigurationSetName": {"Ref": configuration_set_id}},
        },
    )
    template.has_output(
        "*", {"Value": assertions.Match.string_like_regexp(r"^_dmarc\.example\.com TXT .*p=none")}
    )


def test_each_secret_is_a_generated_64_character_string(template: assertions.Template) -> None:
    secrets = template.find_resources("AWS::SecretsManager::Secret")

    assert len(secrets) == 2
    for secret in secrets.values():
        assert secret["Properties"]["GenerateSecretString"] == {
            "ExcludePunctuation": True,
            "PasswordLength": 64,
        }
        assert secret["DeletionPolicy"] == "Retain"


def _custom_resource_role_statements(template: assertions.Template, resource: Mapping[str, Any]) -> list[Any]:
    """The statements of every policy on the role of the provider function behind `resource`."""
    provider_id = resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
    role_id = template.find_resources("AWS::Lambda::Function")[provider_id]["Properties"]["Role"][
        "Fn::GetAtt"
    ][0]
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_r_ses_3_account_suppression_is_on_for_bounces_and_complaints(template: assertions.Template) -> None:
    # Baton's own list suppresses at once; SES's account-level list is enabled for both as well
    _, resource = _named(template, "Custom::AWS", "AccountSuppression")

    for phase in ("Create", "Update"):
        call = json.loads(resource["Properties"][phase])
        assert (call["service"], call["action"]) == ("SESv2", "putAccountSuppressionAttributes")
        assert sorted(call["parameters"]["SuppressedReasons"]) == ["BOUNCE", "COMPLAINT"]
    assert "Delete" not in resource["Properties"]  # removing Baton leaves the account protected
    assert resource["Properties"]["InstallLatestAwsSdk"] is False  # no download at deploy time
    granted = {
        action
        for statement in _custom_resource_role_statements(template, resource)
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
        if not str(action).startswith("logs:")
    }
    assert granted == {"ses:PutAccountSuppressionAttributes"}  # the IAM prefix is ses:, not sesv2:


def test_r_ses_4_the_template_creates_no_ses_contact_list(template: assertions.Template) -> None:
    # Baton's consent ledger is the source of truth, not SES subscription management
    template.resource_count_is("AWS::SES::ContactList", 0)
    assert "ContactList" not in json.dumps(template.to_json())
