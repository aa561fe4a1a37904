"""Suppression in DynamoDB holds only a salted hash and why: no address, no contact id."""

from __future__ import annotations

import boto3

from baton.consent.vocabulary import Channel
from baton.settings import Settings
from baton.suppression.models import SuppressionReason
from baton.suppression.service import SuppressionService


def test_given_a_suppressed_address_then_the_item_holds_only_hash_channel_reason_source_time(
    suppression: SuppressionService, aws: Settings
) -> None:
    suppression.add(Channel.EMAIL, "Ana@Example.com", SuppressionReason.COMPLAINT, "ses")

    items = boto3.client("dynamodb").scan(TableName=aws.suppression_table)["Items"]

    assert len(items) == 1
    assert set(items[0]) == {"address_hash", "channel", "reason", "source", "created_at"}
    assert items[0]["address_hash"] == {"S": suppression.hash(Channel.EMAIL, "ana@example.com")}
    assert "example" not in str(items[0]).lower()


def test_given_a_stop_when_start_arrives_then_the_number_is_released_r_ctia_4(
    suppression: SuppressionService,
) -> None:
    suppression.add(Channel.SMS, "+12015550123", SuppressionReason.OPT_OUT, "keyword")
    assert suppression.check(Channel.SMS, "+1 (201) 555-0123") is not None

    removed = suppression.remove(Channel.SMS, "+1 201 555 0123")

    assert removed is not None
    assert removed.reason == SuppressionReason.OPT_OUT
    assert suppression.check(Channel.SMS, "+12015550123") is None


def test_a_repeated_suppression_keeps_one_item_with_the_latest_reason(
    suppression: SuppressionService, aws: Settings
) -> None:
    suppression.add(Channel.EMAIL, "a@example.com", SuppressionReason.OPT_OUT, "link")
    suppression.add(Channel.EMAIL, "a@example.com", SuppressionReason.HARD_BOUNCE, "ses")

    entry = suppression.check(Channel.EMAIL, "a@example.com")

    assert entry is not None
    assert entry.reason == SuppressionReason.HARD_BOUNCE
    assert boto3.client("dynamodb").scan(TableName=aws.suppression_table)["Count"] == 1
