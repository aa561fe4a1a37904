"""Builds the campaign services from the composition root's `Services` (once per cold start)."""

from __future__ import annotations

from collections.abc import Callable

from baton import aws, secrets
from baton.bootstrap import Services
from baton.campaigns.audience import AudienceSnapshots
from baton.campaigns.batch import CampaignBatch
from baton.campaigns.runs import DynamoCampaignRuns
from baton.campaigns.service import CampaignService
from baton.runner.wiring import runner
from baton.triggers.continuation import Continuations
from baton.triggers.executions import StepFunctionsExecutions
from baton.triggers.runs import DynamoRunRepository
from baton.triggers.subjects import DynamoSubjectRepository
from baton.triggers.wiring import services_catalog


def campaign_runs(s: Services) -> DynamoCampaignRuns:
    return DynamoCampaignRuns(s.settings.campaigns_table, aws.client("dynamodb"))


def campaign_service(s: Services) -> CampaignService:
    settings = s.settings
    return CampaignService(
        runs=campaign_runs(s),
        catalog=lambda: services_catalog(s),
        state_machines=aws.client("stepfunctions"),
        state_machine_arn=settings.campaign_state_machine_arn,
        clock=s.clock,
        snapshots=lambda: AudienceSnapshots(
            bucket=settings.campaigns_bucket,
            contacts_table=settings.contacts_table,
            dynamodb=aws.client("dynamodb"),
            s3=aws.client("s3"),
        ),
    )


def campaign_batch(s: Services, time_left_s: Callable[[], float]) -> CampaignBatch:
    journey_runner, _ = runner()
    context = journey_runner.context
    settings = s.settings
    subjects = DynamoSubjectRepository(settings.subjects_table)
    runs = DynamoRunRepository(settings.runs_table)
    executions = StepFunctionsExecutions()
    return CampaignBatch(
        runs=campaign_runs(s),
        catalog=lambda: services_catalog(s),
        context=context,
        dispatcher=s.dispatcher,
        contacts=s.contacts,
        timeline=s.timeline,
        run_records=runs,
        subjects=subjects,
        executions=executions,
        continuations=Continuations(subjects, runs, executions, s.timeline, s.clock, context.count),
        naming_key=lambda: secrets.execution_name_key(settings),
        state_machine_arn_prefix=settings.state_machine_arn_prefix,
        clock=s.clock,
        time_left_s=time_left_s,
    )
