"""Alarms: function errors, API 5xx and SES reputation (R-MBX-4)."""

from __future__ import annotations

import pytest
from aws_cdk import assertions

from infra import names

ALARM = "AWS::CloudWatch::Alarm"


def test_complaint_rate_alarms_at_the_rulebook_target(template: assertions.Template) -> None:
    # R-MBX-4: target under 0.10%, alarm before 0.30%
    (configuration_set_id,) = template.find_resources("AWS::SES::ConfigurationSet")

    template.has_resource_properties(
        ALARM,
        {
            "Namespace": "AWS/SES",
            "MetricName": "Reputation.ComplaintRate",
            "Dimensions": [{"Name": "ses:configuration-set", "Value": {"Ref": configuration_set_id}}],
            "Threshold": 0.001,
        },
    )


@pytest.mark.parametrize("function_id", names.HANDLERS)
def test_function_errors_raise_an_alarm(template: assertions.Template, function_id: str) -> None:
    (function_logical_id,) = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": names.HANDLERS[function_id]}}
    )

    template.has_resource_properties(
        ALARM,
        {
            "Namespace": "AWS/Lambda",
            "MetricName": "Errors",
            "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": function_logical_id}}],
        },
    )


def test_api_server_errors_raise_an_alarm(template: assertions.Template) -> None:
    template.has_resource_properties(ALARM, {"Namespace": "AWS/ApiGateway", "MetricName": "5XXError"})
