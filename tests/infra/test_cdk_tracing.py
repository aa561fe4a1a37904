"""Tracing in the template: the timeline table's two sparse, keys-only id indexes, and the three
message routes behind IAM, proxied to the private API function."""

from __future__ import annotations

from typing import Any

from infra.names import HANDLERS, PRIVATE_API_FUNCTION
from tests.infra.test_cdk_api import _function_of, _methods

TRACE_ROUTES = {
    ("GET", "/v1/messages"),
    ("GET", "/v1/messages/{message_id}"),
    ("POST", "/v1/messages/search"),
}


def _timeline_table(template_json: dict[str, Any]) -> dict[str, Any]:
    (table,) = [
        r["Properties"]
        for r in template_json["Resources"].values()
        if r["Type"] == "AWS::DynamoDB::Table"
        and r["Properties"]["KeySchema"][0]["AttributeName"] == "contact_id"
        and any(
            index["IndexName"] == "by_message_id"
            for index in r["Properties"].get("GlobalSecondaryIndexes", [])
        )
    ]
    return table


def test_the_timeline_finds_a_sent_message_by_either_id_through_keys_only_indexes(
    template_json: dict[str, Any],
) -> None:
    table = _timeline_table(template_json)
    indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"by_message_id", "by_provider_message_id"}
    for name, key in (("by_message_id", "message_id"), ("by_provider_message_id", "provider_message_id")):
        assert indexes[name]["KeySchema"] == [{"AttributeName": key, "KeyType": "HASH"}]
        # Keys only: an entry is a few hundred bytes whatever the message said (one write unit),
        # and no copy of the entry's detail (its address) is kept beside the item.
        assert indexes[name]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert {"AttributeName": "message_id", "AttributeType": "S"} in table["AttributeDefinitions"]


def test_the_message_routes_are_private_and_served_by_the_private_api(template_json: dict[str, Any]) -> None:
    methods = _methods(template_json)
    for route in TRACE_ROUTES:
        assert methods[route]["AuthorizationType"] == "AWS_IAM"
        assert _function_of(template_json, methods[route]) == HANDLERS[PRIVATE_API_FUNCTION]
