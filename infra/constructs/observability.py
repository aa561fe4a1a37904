"""Alarms an operator needs on day one: function errors, API 5xx, and SES reputation (R-SES-2,
R-MBX-4): bounces and complaints alarm early (2%, 0.05%) and again at SES's review levels (5%,
0.1%), for Baton's configuration set and for the whole account (SES reviews the account).

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

# R-SES-2: alarm on bounces above 2% (SES reviews at 5%) and complaints above 0.05% (review at
# 0.1%); R-MBX-4's "alarm before 0.30%" is met by both complaint levels.
REPUTATION_ALARMS = (
    ("Reputation.BounceRate", "Bounce", 0.02, 0.05),
    ("Reputation.ComplaintRate", "Complaint", 0.0005, 0.001),
)


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
        # Baton's own sends (its configuration set), and the account SES judges as a whole.
        reach = {
            "": {"ses:configuration-set": configuration_set.configuration_set_name},
            "Account": None,
        }
        for metric_name, kind, warn, review in REPUTATION_ALARMS:
            for whose, dimensions in reach.items():
                for level, threshold in (("", warn), ("Review", review)):
                    self._alarm(
                        f"{whose}{kind}Rate{level}",
                        f"R-SES-2: {kind.lower()} rate at {threshold:.2%}"
                        f"{' (SES reviews the account here)' if level else ''}"
                        f"{' across the account' if whose else ''}: stop marketing and review the list.",
                        cloudwatch.Metric(
                            namespace="AWS/SES",
                            metric_name=metric_name,
                            dimensions_map=dimensions,
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
