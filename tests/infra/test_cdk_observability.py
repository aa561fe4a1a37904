"""Alarms: function errors, API 5xx and SES reputation (R-MBX-4)."""

from __future__ import annotations

import pytest
from aws_cdk import assertions

from infra import names

ALARM = "AWS::CloudWatch::Alarm"


@pytest.mark.parametrize(
    ("metric", "thresholds"),
    [("Reputation.BounceRate", (0.02, 0.05)), ("Reputation.ComplaintRate", (0.0005, 0.001))],
)
def test_r_ses_2_bounces_and_complaints_alarm_early_and_at_the_review_level(
    template: assertions.Template, metric: str, thresholds: tuple[float, float]
) -> None:
    # R-SES-2: bounces above 2% (review at 5%), complaints above 0.05% (review at 0.1%); the
    # complaint levels also meet R-MBX-4 (alarm before 0.30%).
    (configuration_set_id,) = template.find_resources("AWS::SES::ConfigurationSet")
    alarms = template.find_resources(ALARM, {"Properties": {"Namespace": "AWS/SES", "MetricName": metric}})

    by_scope = {
        (
            "set"
            if alarm["Properties"].get("Dimensions")
            == [{"Name": "ses:configuration-set", "Value": {"Ref": configuration_set_id}}]
            else "account"
            if "Dimensions" not in alarm["Properties"]
            else "other",
            alarm["Properties"]["Threshold"],
        )
        for alarm in alarms.values()
    }
    assert by_scope == {(scope, level) for scope in ("set", "account") for level in thresholds}


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
