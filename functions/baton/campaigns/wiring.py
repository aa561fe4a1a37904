"""Builds the campaign services from the composition root's `Services` (once per cold start)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from baton import aws, secrets
from baton.bootstrap import Services
from baton.campaigns.audience import AudienceSnapshots
from baton.campaigns.batch import CampaignBatch, ContactMemo
from baton.campaigns.runs import DynamoCampaignRuns
from baton.campaigns.service import CampaignService
from baton.journeys.review import ReviewPolicy
from baton.runner.wiring import links_factory, runner
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
        review=ReviewPolicy.of(settings),
        snapshots=lambda: AudienceSnapshots(
            bucket=settings.campaigns_bucket,
            contacts_table=settings.contacts_table,
            dynamodb=aws.client("dynamodb"),
            s3=aws.client("s3"),
        ),
    )


def campaign_batch(s: Services, time_left_s: Callable[[], float]) -> CampaignBatch:
    journey_runner, _ = runner()
    settings = s.settings
    memo = ContactMemo(s.contacts)
    # The journey tasks' context, but: the contact read once per walk, no run to close (a batch
    # stores none unless it hands the contact on), no step records (the journals suffice).
    context = replace(
        journey_runner.context,
        contacts=memo,
        runs=None,
        step_records=False,
        links=links_factory(s, memo.generation),
        # No subject is stored for a batch's send: its ledger entry names the contact's generation.
        generation_of=memo.generation,
    )
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
        memo=memo,
        time_left_s=time_left_s,
        figures=s.figures,
    )
