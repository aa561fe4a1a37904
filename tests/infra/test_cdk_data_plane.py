"""The data plane: every table spec in baton.data.tables becomes a DynamoDB table of that shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from aws_cdk import assertions

from baton.data.tables import (
    ALL_TABLES,
    CAPS,
    DO_NOT_CONTACT,
    FIGURES,
    IDEMPOTENCY,
    PACING,
    SUBJECTS,
    SUPPRESSION,
    TableSpec,
)
from infra import names

TABLE = "AWS::DynamoDB::Table"


def _key_schema(spec_key: str, sort_key: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": spec_key, "KeyType": "HASH"}]
    if sort_key:
        schema.append({"AttributeName": sort_key, "KeyType": "RANGE"})
    return schema


def _table_for(template: assertions.Template, spec: TableSpec) -> Mapping[str, Any]:
    tables = template.find_resources(
        TABLE,
        {"Properties": {"KeySchema": _key_schema(spec.partition_key, spec.sort_key)}},
    )
    matching = [t for logical_id, t in tables.items() if names.table_construct_id(spec.id) in logical_id]
    assert len(matching) == 1, f"expected one table for {spec.id}, found {list(tables)}"
    return matching[0]


def test_one_table_per_spec(template: assertions.Template) -> None:
    template.resource_count_is(TABLE, len(ALL_TABLES))


@pytest.mark.parametrize("spec", ALL_TABLES, ids=lambda spec: spec.id)
def test_table_has_the_specs_string_keys_and_indexes(template: assertions.Template, spec: TableSpec) -> None:
    # given a table spec, when the stack is synthesized, then its table has those keys
    properties = _table_for(template, spec)["Properties"]

    key_names = {spec.partition_key, spec.sort_key} | {
        name for index in spec.indexes for name in (index.partition_key, index.sort_key)
    }
    assert {d["AttributeName"]: d["AttributeType"] for d in properties["AttributeDefinitions"]} == {
        name: "S" for name in key_names if name
    }
    indexes = {gsi["IndexName"]: gsi for gsi in properties.get("GlobalSecondaryIndexes", [])}
    assert set(indexes) == {index.name for index in spec.indexes}
    for index in spec.indexes:
        assert indexes[index.name]["KeySchema"] == _key_schema(index.partition_key, index.sort_key)
        assert indexes[index.name]["Projection"] == {"ProjectionType": index.projection}


@pytest.mark.parametrize("spec", ALL_TABLES, ids=lambda spec: spec.id)
def test_table_is_on_demand_encrypted_and_recoverable(template: assertions.Template, spec: TableSpec) -> None:
    properties = _table_for(template, spec)["Properties"]

    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert properties["SSESpecification"]["SSEEnabled"] is True


def test_idempotency_records_expire_by_ttl(template: assertions.Template) -> None:
    properties = _table_for(template, IDEMPOTENCY)["Properties"]

    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}


@pytest.mark.parametrize("spec", [s for s in ALL_TABLES if s.retain], ids=lambda spec: spec.id)
def test_data_tables_survive_stack_deletion(template: assertions.Template, spec: TableSpec) -> None:
    # contacts, consent proof, timeline and suppression hashes must outlive a `cdk destroy`
    table = _table_for(template, spec)

    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


def test_cap_counts_expire_by_ttl(template: assertions.Template) -> None:
    # a count expires a cap period after its newest send, when it counts nothing any more
    properties = _table_for(template, CAPS)["Properties"]

    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_execution_subjects_expire_by_ttl(template: assertions.Template) -> None:
    # whom an execution is about is needed only while it can run or be redriven
    properties = _table_for(template, SUBJECTS)["Properties"]

    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_r_eum_1_pacing_counts_expire_by_ttl_and_go_with_the_stack(template: assertions.Template) -> None:
    # a window's count matters only while the window is current; it holds nothing personal
    table = _table_for(template, PACING)

    assert table["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["DeletionPolicy"] == "Delete"
    assert {"AttributeName": "pk", "KeyType": "HASH"} in table["Properties"]["KeySchema"]


def test_r_br_1_do_not_contact_lists_have_their_own_table_that_outlives_the_stack(
    template: assertions.Template,
) -> None:
    # apart from suppression: no opt-out, opt-in or erasure writes or deletes a list entry, and
    # no TTL: a generation in force never expires, older ones are deleted by the next load
    table = _table_for(template, DO_NOT_CONTACT)

    assert table["DeletionPolicy"] == "Retain"
    assert "TimeToLiveSpecification" not in table["Properties"]
    assert table is not _table_for(template, SUPPRESSION)
    assert table["Properties"]["KeySchema"] == _key_schema("pk", "sk")


def test_the_figures_table_is_keyed_by_journey_or_queue_then_day_on_demand_and_recoverable(
    template: assertions.Template,
) -> None:
    # pk `journey#<id>` / `queue#<queue>`, sk `<day>#<step>` / `<day>`: a span of days is one Query;
    # counts grow by UpdateItem ADD, so on demand; kept like the timeline they are counted from
    table = _table_for(template, FIGURES)
    properties = table["Properties"]

    assert properties["KeySchema"] == _key_schema("pk", "sk")
    assert properties["AttributeDefinitions"] == [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ]
    assert "GlobalSecondaryIndexes" not in properties
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert "TimeToLiveSpecification" not in properties
    assert table["DeletionPolicy"] == "Retain"
