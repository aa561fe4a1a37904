"""Dead-letter queues and erasure (R-GDPR-5): a queue keeps its messages for 14 days.

What Baton itself writes into one holds ids only: a schedule's target input names the journey
and the time; an EventBridge rule hands on the event as its sender wrote it, adding nothing.
What AWS writes there whole (an inbound text, an SES or SMS event, a caller's event) erasure
reads: every other queue the stack creates is one of those, its URL reaches the function that
erases, and that function alone may read and delete its messages."""

from __future__ import annotations

import json
from typing import Any, Final

from aws_cdk import assertions

from baton.journeys.catalog import load_catalog
from baton.settings import dead_letter_queue_fields
from infra import names
from infra.constructs.schedules import SCHEDULED_TIME
from infra.synth import ROOT

JOURNEYS = set(load_catalog(ROOT / "journeys").journeys)
_BATON_INPUTS = ("Input", "InputPath", "InputTransformer")


def _queue_of(arn: Any) -> str | None:
    """The logical id of the SQS queue an ARN points at, if it is one of the template's."""
    if isinstance(arn, dict) and "Fn::GetAtt" in arn:
        return str(arn["Fn::GetAtt"][0])
    return None


def test_r_gdpr_5_a_schedule_dead_letters_only_the_journey_id_or_the_digest_and_its_time(
    template: assertions.Template,
) -> None:
    queues = template.find_resources("AWS::SQS::Queue")
    schedules = template.find_resources("AWS::Scheduler::Schedule")
    assert schedules

    for schedule in schedules.values():
        target = schedule["Properties"]["Target"]
        assert _queue_of(target["DeadLetterConfig"]["Arn"]) in queues
        body = json.loads(target["Input"])
        assert body["scheduled_time"] == SCHEDULED_TIME
        if "digest" in body:
            assert body == {"digest": "review", "scheduled_time": SCHEDULED_TIME}
        else:
            assert sorted(body) == ["journey", "scheduled_time"]
            assert body["journey"] in JOURNEYS


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


_ERASING: Final = "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"


def _functions(template: assertions.Template) -> dict[str, dict[str, Any]]:
    """Baton's functions by construct id."""
    by_handler = {handler: function_id for function_id, handler in names.HANDLERS.items()}
    return {
        by_handler[function["Properties"]["Handler"]]: function
        for function in template.find_resources("AWS::Lambda::Function").values()
        if function["Properties"].get("Handler") in by_handler
    }


def _erasure_queues(template: assertions.Template) -> dict[str, Any]:
    """What the function that erases gets for each dead-letter queue field."""
    variables = _functions(template)[names.PRIVATE_API_FUNCTION]["Properties"]["Environment"]["Variables"]
    return {field: variables[names.settings_env(field)] for field in dead_letter_queue_fields()}


def _schedules_queues(template: assertions.Template) -> set[str]:
    """The queues Baton's schedules dead-letter into (what they hold: the test above)."""
    schedules = template.find_resources("AWS::Scheduler::Schedule").values()
    return {str(_queue_of(s["Properties"]["Target"]["DeadLetterConfig"]["Arn"])) for s in schedules}


def test_r_gdpr_5_every_queue_the_stack_creates_is_read_by_erasure_or_holds_ids_only(
    template: assertions.Template,
) -> None:
    queues = set(template.find_resources("AWS::SQS::Queue"))
    read = {url["Ref"] for url in _erasure_queues(template).values() if isinstance(url, dict)}

    assert len(read) == len(dead_letter_queue_fields())
    assert read <= queues
    # A queue added to the stack without a settings field erasure reads fails here.
    assert queues - read == _schedules_queues(template)
    assert read.isdisjoint(_schedules_queues(template))


def test_r_gdpr_5_only_the_function_that_erases_is_given_the_dead_letter_queues(
    template: assertions.Template,
) -> None:
    for function_id, function in _functions(template).items():
        variables = function["Properties"]["Environment"]["Variables"]
        given = {field: variables.get(names.settings_env(field)) for field in dead_letter_queue_fields()}
        if function_id == names.PRIVATE_API_FUNCTION:
            assert all(isinstance(url, dict) and set(url) == {"Ref"} for url in given.values()), given
        else:
            assert given == dict.fromkeys(dead_letter_queue_fields(), ""), function_id


def _statements_by_role(template: assertions.Template) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for policy in template.find_resources("AWS::IAM::Policy").values():
        for role in policy["Properties"]["Roles"]:
            found.setdefault(role["Ref"], []).extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def test_r_gdpr_5_only_the_function_that_erases_may_read_and_delete_dead_letters(
    template: assertions.Template,
) -> None:
    erasing_role = _functions(template)[names.PRIVATE_API_FUNCTION]["Properties"]["Role"]["Fn::GetAtt"][0]
    queues = {url["Ref"] for url in _erasure_queues(template).values() if isinstance(url, dict)}

    reading = {
        role: [s for s in statements if _actions(s) & {*_ERASING, "sqs:*"}]
        for role, statements in _statements_by_role(template).items()
    }
    assert {role for role, statements in reading.items() if statements} == {erasing_role}
    (statement,) = reading[erasing_role]
    assert _actions(statement) == set(_ERASING)
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    assert {_queue_of(arn) for arn in resources} == queues
