"""What Baton itself writes into a dead-letter queue holds ids only (R-GDPR-5): a queue keeps its
messages for days and erasure cannot reach into it. A schedule's target input names the journey
and the time; an EventBridge rule hands on the event as its sender wrote it, adding nothing."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import assertions

from baton.journeys.catalog import load_catalog
from infra.constructs.schedules import SCHEDULED_TIME
from infra.synth import ROOT

JOURNEYS = set(load_catalog(ROOT / "journeys").journeys)
_BATON_INPUTS = ("Input", "InputPath", "InputTransformer")


def _queue_of(arn: Any) -> str | None:
    """The logical id of the SQS queue an ARN points at, if it is one of the template's."""
    if isinstance(arn, dict) and "Fn::GetAtt" in arn:
        return str(arn["Fn::GetAtt"][0])
    return None


def test_r_gdpr_5_a_schedule_dead_letters_only_the_journey_id_and_its_time(
    template: assertions.Template,
) -> None:
    queues = template.find_resources("AWS::SQS::Queue")
    schedules = template.find_resources("AWS::Scheduler::Schedule")
    assert schedules

    for schedule in schedules.values():
        target = schedule["Properties"]["Target"]
        assert _queue_of(target["DeadLetterConfig"]["Arn"]) in queues
        body = json.loads(target["Input"])
        assert sorted(body) == ["journey", "scheduled_time"]
        assert body["journey"] in JOURNEYS
        assert body["scheduled_time"] == SCHEDULED_TIME


def test_r_gdpr_5_a_rule_with_a_dead_letter_queue_adds_nothing_to_the_event_it_hands_on(
    template: assertions.Template,
) -> None:
    queues = template.find_resources("AWS::SQS::Queue")
    dead_lettered = [
        target
        for rule in template.find_resources("AWS::Events::Rule").values()
        for target in rule["Properties"].get("Targets", [])
        if "DeadLetterConfig" in target
    ]
    assert dead_lettered

    for target in dead_lettered:
        assert _queue_of(target["DeadLetterConfig"]["Arn"]) in queues
        assert [key for key in _BATON_INPUTS if key in target] == []
