"""Alarms an operator needs on day one: function errors, API 5xx, and SES reputation (R-MBX-4).

Alarms have no actions here: wire them to the operator's paging or chat topic. The inbound-SMS
dead-letter alarm (R-REL-5) lives beside its queue in `Delivery`.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ses as ses
from constructs import Construct

# R-MBX-4: keep complaints under 0.10%, alarm before 0.30%. Bounces: SES reviews accounts at 5%.
COMPLAINT_RATE_ALARM = 0.001
BOUNCE_RATE_ALARM = 0.04


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Mapping[str, lambda_.IFunction],
        rest_api: apigateway.RestApi,
        configuration_set: ses.IConfigurationSet,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarms: list[cloudwatch.Alarm] = []
        for function_id, function in functions.items():
            self._alarm(
                f"{function_id}Errors",
                f"{function_id} raised errors (unhandled exceptions or timeouts).",
                function.metric_errors(period=Duration.minutes(5)),
                threshold=1,
            )
        self._alarm(
            "Api5xx",
            "The API answered 5xx.",
            rest_api.metric_server_error(period=Duration.minutes(5)),
            threshold=1,
        )
        for metric_name, threshold, why in (
            ("Reputation.ComplaintRate", COMPLAINT_RATE_ALARM, "R-MBX-4: complaint rate at 0.10%"),
            ("Reputation.BounceRate", BOUNCE_RATE_ALARM, "Bounce rate near SES's 5% review level"),
        ):
            self._alarm(
                metric_name.replace(".", ""),
                f"{why}: stop marketing sends and review the list.",
                cloudwatch.Metric(
                    namespace="AWS/SES",
                    metric_name=metric_name,
                    dimensions_map={"ses:configuration-set": configuration_set.configuration_set_name},
                    statistic="Maximum",
                    period=Duration.hours(1),
                ),
                threshold=threshold,
            )

    def _alarm(
        self, alarm_id: str, description: str, metric: cloudwatch.IMetric, *, threshold: float
    ) -> None:
        self.alarms.append(
            cloudwatch.Alarm(
                self,
                alarm_id,
                alarm_description=description,
                metric=metric,
                threshold=threshold,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )
