"""The Baton stack: composes one construct per concern and wires functions to them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import names
from infra.config import BatonConfig
from infra.constructs.api import Api
from infra.constructs.data_plane import DataPlane
from infra.constructs.delivery import Delivery
from infra.constructs.journeys import Journeys, state_machine_arn_prefix
from infra.constructs.observability import Observability
from infra.constructs.secrets import Secrets
from infra.lambda_asset import lambda_code
from infra.lambda_function import baton_function, function_environment

ROOT = Path(__file__).resolve().parent.parent  # the project root: cdk.json's folder

# The functions the stack creates itself (JourneyStepFunction is the `Journeys` construct's).
_DESCRIPTIONS = {
    names.PUBLIC_API_FUNCTION: "Baton public API: subscribe, confirm, preferences, one-click unsubscribe.",
    names.PRIVATE_API_FUNCTION: "Baton private API: contacts, export, timeline, consents, events, journeys.",
    names.SMS_INBOUND_FUNCTION: "Baton inbound SMS: STOP/HELP/START/YES keywords from the two-way SMS topic.",
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

        environment = function_environment(
            config,
            table_names={table_id: table.table_name for table_id, table in self.data.tables.items()},
            token_secret_arn=self.secrets.token_signing_key.secret_arn,
            suppression_salt_secret_arn=self.secrets.suppression_salt.secret_arn,
            configuration_set_name=self.delivery.configuration_set.configuration_set_name,
            public_base_url=config.public_base_url or self.api.execute_api_url,
            state_machine_arn_prefix=state_machine_arn_prefix(self),
        )
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
                dead_letter_queue=(
                    self.delivery.dead_letter_queue if function_id == names.SMS_INBOUND_FUNCTION else None
                ),
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
        ):
            self.journeys.grant_executions(self.functions[function_id])

        self.api.add_routes(self.functions)
        self.delivery.subscribe_sms_inbound(self.functions[names.SMS_INBOUND_FUNCTION])
        self.observability = Observability(
            self,
            names.OBSERVABILITY,
            functions={**self.functions, names.JOURNEY_STEP_FUNCTION: self.journeys.function},
            rest_api=self.api.rest_api,
            configuration_set=self.delivery.configuration_set,
        )
