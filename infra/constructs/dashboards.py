"""One CloudWatch dashboard per journey, and an alarm on its failure rate.

Each dashboard reads the journey's metrics (`baton.figures.cloudwatch`: namespace
`Baton/Journeys`, dimensions journey, step, channel, reason, none of them about a person):

- the funnel by step over the dashboard's time range: entered, each send step's sent, completed;
- sends by channel, hour by hour;
- failures by channel, and skips and holds by reason (the gate's reasons), hour by hour;
- entries, conversions and the conversion rate;
- the failure-rate alarm.

The alarm, `<journey>FailureRate`, is the share of the journey's messages that failed in an
hour, `Failed / (Sent + Failed)`, counted only from `dashboards.minMessages` messages an hour
(a few failures of a handful of messages are no rate), at or above `dashboards.failureRate`
(cdk.json; 5% and 20 by default). Like Baton's other alarms it has no action: wire it to the
operator's paging or chat topic.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from baton.delivery.gate import Reason
from baton.figures.cloudwatch import NAMESPACE, Dimension, Measure
from baton.journeys.models import Journey
from infra.config import DashboardsConfig

HOUR = Duration.hours(1)
# The gate's reasons for holding a send until later; every other refusal skips it.
HELD_REASONS = (
    Reason.QUIET_HOURS,
    Reason.CALLING_WINDOW,
    Reason.OUTSIDE_WINDOW,
    Reason.SENDING_PAUSED,
    Reason.SENDING_QUOTA,
)
SKIPPED_REASONS = tuple(
    reason for reason in Reason if reason != Reason.ALLOWED and reason not in HELD_REASONS
)
WIDTH = 12
HEIGHT = 6


def metric(
    measure: Measure, journey: str, *, period: Duration = HOUR, **dimensions: str
) -> cloudwatch.Metric:
    """`measure` of `journey` (and the given step, channel or reason), summed over `period`."""
    return cloudwatch.Metric(
        namespace=NAMESPACE,
        metric_name=measure.value,
        dimensions_map={Dimension.JOURNEY.value: journey, **dimensions},
        statistic="Sum",
        period=period,
    )


def dashboard_name(stack_name: str, journey: str) -> str:
    return f"{stack_name}-journey-{journey}"


def channels_of(journey: Journey) -> list[str]:
    """Every channel a send step of the journey may use, in first-use order."""
    seen: dict[str, None] = {}
    for step in journey.steps:
        if step.send is not None:
            seen.update(dict.fromkeys(str(channel) for channel in step.send.channels))
    return list(seen)


class JourneyDashboards(Construct):
    """`dashboards[journey]` and `alarms[journey]` for every journey of the catalog."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stack_name: str,
        journeys: Sequence[Journey],
        config: DashboardsConfig,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dashboards: dict[str, cloudwatch.Dashboard] = {}
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for journey in journeys:
            alarm = self._failure_rate_alarm(journey, config)
            self.alarms[journey.journey] = alarm
            self.dashboards[journey.journey] = self._dashboard(stack_name, journey, alarm)

    def _failure_rate_alarm(self, journey: Journey, config: DashboardsConfig) -> cloudwatch.Alarm:
        name = journey.journey
        rate = cloudwatch.MathExpression(
            expression=f"IF(sent + failed >= {config.min_messages}, failed / (sent + failed), 0)",
            using_metrics={
                "sent": metric(Measure.SENT, name),
                "failed": metric(Measure.FAILED, name),
            },
            label=f"{name}: share of messages failed",
            period=HOUR,
        )
        return cloudwatch.Alarm(
            self,
            f"{name}FailureRate",
            alarm_description=(
                f"Journey {name} (owned by {journey.owner}): {config.failure_rate:.0%} or more of its"
                f" messages failed in an hour (of at least {config.min_messages}). The failures, by"
                " channel, are on its dashboard; each one is on its contact's timeline."
            ),
            metric=rate,
            threshold=config.failure_rate,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def _dashboard(self, stack_name: str, journey: Journey, alarm: cloudwatch.Alarm) -> cloudwatch.Dashboard:
        name = journey.journey
        sends = [step.id for step in journey.steps if step.send is not None]
        channels = channels_of(journey)
        funnel = cloudwatch.GraphWidget(
            title="Funnel by step (over the time range)",
            view=cloudwatch.GraphWidgetView.BAR,
            set_period_to_time_range=True,
            width=WIDTH,
            height=HEIGHT,
            left=[
                metric(Measure.ENTERED, name).with_(label="entered"),
                *(metric(Measure.SENT, name, step=step).with_(label=f"{step}: sent") for step in sends),
                metric(Measure.COMPLETED, name).with_(label="completed"),
                metric(Measure.EXITED_EARLY, name).with_(label="exited early"),
            ],
        )
        by_channel = cloudwatch.GraphWidget(
            title="Sent and delivered by channel (per hour)",
            width=WIDTH,
            height=HEIGHT,
            left=[
                metric(measure, name, channel=channel).with_(label=f"{channel}: {measure.value.lower()}")
                for channel in channels
                for measure in (Measure.SENT, Measure.DELIVERED)
            ],
        )
        failures = cloudwatch.GraphWidget(
            title="Failures, skips and holds by reason (per hour)",
            width=WIDTH,
            height=HEIGHT,
            stacked=True,
            left=[
                *(
                    metric(measure, name, channel=channel).with_(label=f"{channel}: {measure.value.lower()}")
                    for channel in channels
                    for measure in (Measure.FAILED, Measure.BOUNCED, Measure.COMPLAINED)
                ),
                *(
                    metric(Measure.SKIPPED, name, reason=reason.value).with_(label=f"skipped: {reason.value}")
                    for reason in SKIPPED_REASONS
                ),
                *(
                    metric(Measure.HELD, name, reason=reason.value).with_(label=f"held: {reason.value}")
                    for reason in HELD_REASONS
                ),
            ],
        )
        entered, converted = metric(Measure.ENTERED, name), metric(Measure.CONVERTED, name)
        conversions = cloudwatch.GraphWidget(
            title="Entries and conversions (per hour)",
            width=WIDTH,
            height=HEIGHT,
            left=[entered.with_(label="entered"), converted.with_(label="converted")],
            right=[
                cloudwatch.MathExpression(
                    expression="IF(entered > 0, 100 * converted / entered, 0)",
                    using_metrics={"entered": entered, "converted": converted},
                    label="conversion rate (%)",
                    period=HOUR,
                )
            ],
        )
        header = cloudwatch.TextWidget(
            markdown=(
                f"# Journey {name}\n"
                f"{journey.purpose.value}, owned by {journey.owner}, review by {journey.review_by}."
                " Sums of the journey's metrics (namespace `Baton/Journeys`), per hour unless a"
                " widget says otherwise."
            ),
            width=2 * WIDTH,
            height=2,
        )
        return cloudwatch.Dashboard(
            self,
            f"{name}Dashboard",
            dashboard_name=dashboard_name(stack_name, name),
            widgets=[
                [header],
                [funnel, by_channel],
                [failures, conversions],
                [cloudwatch.AlarmWidget(alarm=alarm, title="Failure rate", width=WIDTH, height=HEIGHT)],
            ],
        )
