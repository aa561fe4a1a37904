"""The Baton stack: composes one construct per concern and wires functions to them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import names
from infra.config import BatonConfig
from infra.constructs.api import Api
from infra.constructs.campaigns import Campaigns
from infra.constructs.dashboards import JourneyDashboards
from infra.constructs.data_plane import DataPlane
from infra.constructs.delivery import Delivery
from infra.constructs.events import Events, grant_resume
from infra.constructs.feedback import Feedback
from infra.constructs.handoffs import Handoffs
from infra.constructs.journeys import Journeys, state_machine_arn_prefix
from infra.constructs.observability import Observability
from infra.constructs.schedules import Schedules
from infra.constructs.secrets import Secrets
from infra.lambda_asset import lambda_code
from infra.lambda_function import baton_function, function_environment

ROOT = Path(__file__).resolve().parent.parent  # the project root: cdk.json's folder

# The functions the stack creates itself (JourneyStepFunction is the `Journeys` construct's).
_DESCRIPTIONS = {
    names.PUBLIC_API_FUNCTION: "Baton public API: subscribe, confirm, preferences, one-click unsubscribe.",
    names.PRIVATE_API_FUNCTION: "Baton private API: contacts, export, timeline, consents, events, journeys.",
    names.SMS_INBOUND_FUNCTION: "Baton inbound SMS: STOP/HELP/START/YES keywords from the two-way SMS topic.",
    # The Baton event bus.
    names.EVENTS_FUNCTION: "Baton event bus: other systems' events start and resume journeys.",
    # Delivery feedback.
    names.FEEDBACK_FUNCTION: "Baton delivery feedback: receipts, bounces and complaints (SES, SMS, voice).",
}


class BatonStack(Stack):
    """Environment-agnostic: no account or region lookups, so synth needs no credentials."""

    def __init__(self, scope: Construct, construct_id: str, *, config: BatonConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self.data = DataPlane(self, names.DATA_PLANE)
        self.secrets = Secrets(self, names.SECRETS)
        self.delivery = Delivery(self, names.DELIVERY, config=config)
        self.api = Api(self, names.API, config=config)
        self.events = Events(self, names.EVENTS)  # the Baton event bus
        # SES events to the default bus, receipt rules, the feedback DLQ.
        self.feedback = Feedback(
            self, names.FEEDBACK, configuration_set=self.delivery.configuration_set, tracking=config.tracking
        )

        # Hand-off queues: a topic per queue; their ARNs and emails go in the env.
        self.handoffs = Handoffs(self, names.HANDOFFS, config=config, journeys_dir=config.journeys_path(ROOT))
        environment = function_environment(
            config,
            table_names={table_id: table.table_name for table_id, table in self.data.tables.items()},
            token_secret_arn=self.secrets.token_signing_key.secret_arn,
            suppression_salt_secret_arn=self.secrets.suppression_salt.secret_arn,
            configuration_set_name=self.delivery.configuration_set.configuration_set_name,
            public_base_url=config.public_base_url or self.api.execute_api_url,
            state_machine_arn_prefix=state_machine_arn_prefix(self),
        )
        environment |= self.handoffs.environment
        journeys_dir = config.journeys_path(ROOT)
        code = lambda_code(journeys_dir)  # one asset (and one bundling run) shared by every function
        self.functions: dict[str, lambda_.Function] = {}
        for function_id in _DESCRIPTIONS:
            function = baton_function(
                self,
                function_id,
                code=code,
                environment=environment,
                config=config,
                description=_DESCRIPTIONS[function_id],
                dead_letter_queue={
                    names.SMS_INBOUND_FUNCTION: self.delivery.dead_letter_queue,
                    names.EVENTS_FUNCTION: self.events.dead_letter_queue,
                    names.FEEDBACK_FUNCTION: self.feedback.dead_letter_queue,
                }.get(function_id),
            )
            self.data.grant_read_write(function)
            self.secrets.grant_read(function)
            self.delivery.grant_send(function)
            self.functions[function_id] = function

        self.journeys = Journeys(
            self,
            names.JOURNEYS,
            config=config,
            journeys_dir=journeys_dir,
            code=code,
            environment=environment,
            data=self.data,
            secrets=self.secrets,
            delivery=self.delivery,
        )
        # The CRM's events start journeys (private API); so do confirmations (link, YES).
        for function_id in (
            names.PRIVATE_API_FUNCTION,
            names.PUBLIC_API_FUNCTION,
            names.SMS_INBOUND_FUNCTION,
            names.EVENTS_FUNCTION,  # the Baton bus
        ):
            self.journeys.grant_executions(self.functions[function_id])
            # Recording an event resumes the executions waiting for it.
            grant_resume(self.functions[function_id], (j.journey for j in self.journeys.journeys))
        self.events.route_to(self.functions[names.EVENTS_FUNCTION])
        # A receipt answers the journey waiting for it (await_receipt may answer an
        # early one itself); every receipt, bounce and complaint reaches FeedbackFunction.
        for function in (self.functions[names.FEEDBACK_FUNCTION], self.journeys.function):
            grant_resume(function, (j.journey for j in self.journeys.journeys))
        self.feedback.route_to(self.functions[names.FEEDBACK_FUNCTION])

        # Hand-offs: new tasks notify their queue; completing one answers the journey.
        self.handoffs.grant_publish(self.journeys.function)
        self.handoffs.grant_task_response(
            self.functions[names.PRIVATE_API_FUNCTION], (j.journey for j in self.journeys.journeys)
        )
        # EventBridge Scheduler: one schedule per scheduled journey and the weekly review
        # digest's, targeting ScheduleFunction (infra/constructs/schedules.py).
        self.schedules = Schedules(
            self,
            names.SCHEDULES,
            config=config,
            journeys=self.journeys,
            code=code,
            environment=environment,
            data=self.data,
            secrets=self.secrets,
            delivery=self.delivery,
        )
        # Campaign runs: snapshot a segment's audience, fan out over it in batches, finish.
        self.campaigns = Campaigns(
            self,
            names.CAMPAIGNS,
            config=config,
            journeys=self.journeys,
            code=code,
            environment=environment,
        )
        # Runs are started by the API (and cancelled there) and by schedule firings.
        self.campaigns.grant_start(self.functions[names.PRIVATE_API_FUNCTION])
        self.campaigns.grant_stop(self.functions[names.PRIVATE_API_FUNCTION])
        self.campaigns.grant_start(self.schedules.function)
        # R-GDPR-5: erasure (the private API's DELETE) reads the queues AWS writes whole bodies into.
        self.erased_dead_letter_queues = {
            "sms_inbound_dead_letter_queue": self.delivery.dead_letter_queue,
            "feedback_dead_letter_queue": self.feedback.dead_letter_queue,
            "events_dead_letter_queue": self.events.dead_letter_queue,
        }
        grant_dead_letter_erasure(self.functions[names.PRIVATE_API_FUNCTION], self.erased_dead_letter_queues)
        self.api.add_routes(self.functions)
        self.delivery.subscribe_sms_inbound(self.functions[names.SMS_INBOUND_FUNCTION])
        # What each journey is doing, and an alarm when too many of its messages fail.
        self.dashboards = JourneyDashboards(
            self,
            names.DASHBOARDS,
            stack_name=self.stack_name,
            journeys=self.journeys.journeys,
            config=config.dashboards,
        )
        self.observability = Observability(
            self,
            names.OBSERVABILITY,
            functions={
                **self.functions,
                names.JOURNEY_STEP_FUNCTION: self.journeys.function,
                names.CAMPAIGN_FUNCTION: self.campaigns.function,
                names.SCHEDULE_FUNCTION: self.schedules.function,
            },
            rest_api=self.api.rest_api,
            configuration_set=self.delivery.configuration_set,
        )


def grant_dead_letter_erasure(function: lambda_.Function, queues: Mapping[str, sqs.IQueue]) -> None:
    """The function that erases reads each queue through, deletes the messages about the person
    and makes the others visible again: those three actions, on those queues, for it alone.
    Each URL reaches it as the settings field `queues` names it by (R-GDPR-5)."""
    for field, queue in queues.items():
        function.add_environment(names.settings_env(field), queue.queue_url)
        queue.grant(function, "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility")
