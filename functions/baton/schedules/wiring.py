"""Builds the schedule run from the composition root's `Services` (once per cold start)."""

from __future__ import annotations

from baton import secrets
from baton.bootstrap import Services
from baton.schedules.runner import DynamoContactSource, SegmentRun
from baton.triggers.executions import StepFunctionsExecutions
from baton.triggers.runs import DynamoRunRepository
from baton.triggers.subjects import DynamoSubjectRepository
from baton.triggers.wiring import services_catalog


def segment_run(s: Services) -> SegmentRun:
    return SegmentRun(
        catalog=services_catalog(s),
        contacts=DynamoContactSource(s.settings.contacts_table),
        timeline=s.timeline,
        runs=DynamoRunRepository(s.settings.runs_table),
        subjects=DynamoSubjectRepository(s.settings.subjects_table),
        executions=StepFunctionsExecutions(),
        clock=s.clock,
        state_machine_arn_prefix=s.settings.state_machine_arn_prefix,
        naming_key=lambda: secrets.execution_name_key(s.settings),
    )
