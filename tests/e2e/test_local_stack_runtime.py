"""The local stack deploying a hand-written, CDK-shaped template whose handlers are test-only
(local_stack_fixture/): what a handler receives, what the server makes of its answer, what
lands in the outbox, and what an inbound text turns into."""

from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.http_client import LocalClient
from infra.local import LocalStack
from tests.e2e.local_stack_fixture import handlers

pytestmark = pytest.mark.e2e

TEMPLATE = Path(__file__).parent / "local_stack_fixture" / "template.json"
ECHO, SEND, SMS = "EchoFunction0A1B2C3D", "SendFunction4E5F6A7B", "SmsInboundFunction8C9D0E1F"
CONTACTS_TABLE, NAMED_TABLE = "fixture-DataPlaneContactsTable1F2E3D4C", "fixture-named-us-east-1"
PHONE = "+14255550182"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(json.loads(TEMPLATE.read_text()), prefix="fixture") as started:
        yield started


@pytest.fixture(scope="module")
def client(stack: LocalStack) -> LocalClient:
    return LocalClient(stack.base_url, stack.token)


def _echo(client: LocalClient, path: str = "/echo/x", **kwargs: Any) -> dict[str, Any]:
    resp = client.get(path, auth=False, **kwargs)
    assert resp.status == 200, resp.text
    payload: dict[str, Any] = resp.json()
    return payload


def test_a_fresh_stack_has_an_empty_outbox(client: LocalClient) -> None:
    resp = client.get("/_local/outbox")

    assert resp.status == 200
    assert resp.json() == []


def test_function_environment_resolves_the_templates_intrinsics(
    client: LocalClient, stack: LocalStack
) -> None:
    env = _echo(client)["env"]

    topic_arn = "arn:aws:sns:us-east-1:123456789012:fixture-DeliveryInboundSmsTopic2B3C4D5E"
    assert env["BATON_CONTACTS_TABLE"] == CONTACTS_TABLE
    assert env["FIXTURE_NAMED_TABLE"] == NAMED_TABLE
    assert env["FIXTURE_TABLE_ARN"] == f"arn:aws:dynamodb:us-east-1:123456789012:table/{CONTACTS_TABLE}"
    assert env["BATON_TOKEN_SECRET_ARN"].startswith(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:fixture-SecretsTokenSigningKey9E8D7C6B-"
    )
    assert env["FIXTURE_TOPIC_ARN"] == topic_arn
    assert env["FIXTURE_SUBBED"] == topic_arn
    assert env["FIXTURE_JOINED"] == f"us-east-1/123456789012/{CONTACTS_TABLE}"
    assert env["FIXTURE_SUB_WITH_VARS"] == f"{CONTACTS_TABLE} in us-east-1, literally ${{Table}}"
    assert env["FIXTURE_SELECTED"] == "second"
    assert env["FIXTURE_CONDITIONAL"] == "yes"
    assert env["BATON_SES_CONFIGURATION_SET"] == "fixture-DeliveryConfigurationSet3C4D5E6F"
    assert env["BATON_PUBLIC_BASE_URL"] == stack.base_url
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == f"fixture-{ECHO}"


def test_resources_exist_in_moto_as_the_template_describes(stack: LocalStack) -> None:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    secrets = boto3.client("secretsmanager", region_name="us-east-1")

    table = dynamodb.describe_table(TableName=CONTACTS_TABLE)["Table"]
    ttl = dynamodb.describe_time_to_live(TableName=CONTACTS_TABLE)["TimeToLiveDescription"]
    secret_arn = stack.deployment.functions[ECHO].environment["BATON_TOKEN_SECRET_ARN"]
    secret = secrets.get_secret_value(SecretId=secret_arn)["SecretString"]

    assert table["KeySchema"] == [{"AttributeName": "contact_id", "KeyType": "HASH"}]
    assert [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == ["by_email"]
    assert ttl == {"AttributeName": "expiration", "TimeToLiveStatus": "ENABLED"}
    assert dynamodb.describe_table(TableName=NAMED_TABLE)["Table"]["KeySchema"][1]["KeyType"] == "RANGE"
    assert len(secret) == 64
    assert secret.isalnum()


def test_each_function_reads_its_own_settings_after_another_ran(client: LocalClient) -> None:
    first = _echo(client)["settings"]["contacts_table"]
    sent = client.post("/send", auth=False, json_body={"email": "a@example.com", "phone": PHONE}).json()
    again = _echo(client)["settings"]["contacts_table"]

    assert (first, sent["contacts_table"], again) == (CONTACTS_TABLE, NAMED_TABLE, CONTACTS_TABLE)


def test_handler_gets_an_api_gateway_rest_proxy_event(client: LocalClient, stack: LocalStack) -> None:
    payload = _echo(
        client,
        "/echo/hello%20world?tag=a&tag=b&empty=",
        headers={"User-Agent": "e2e-test/1.0", "X-Forwarded-For": "198.51.100.7"},
    )
    event, context = payload["event"], payload["context"]

    assert event["resource"] == "/echo/{name}"
    assert event["path"] == "/echo/hello%20world"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"name": "hello world"}
    assert event["queryStringParameters"] == {"tag": "b", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "empty": [""]}
    assert event["headers"]["X-Forwarded-For"] == "198.51.100.7, 127.0.0.1"
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    identity = event["requestContext"]["identity"]
    assert (identity["sourceIp"], identity["userAgent"], identity["userArn"]) == (
        "127.0.0.1",
        "e2e-test/1.0",
        None,
    )
    assert event["requestContext"]["stage"] == "prod"
    assert event["requestContext"]["resourcePath"] == "/echo/{name}"
    assert context["function_name"] == f"fixture-{ECHO}"
    assert context["memory_limit_in_mb"] == 256
    assert 0 < context["remaining_ms"] <= 10_000


def test_request_body_reaches_handler_as_text_or_base64(client: LocalClient) -> None:
    text = client.post("/echo/x", auth=False, json_body={"a": 1}).json()["event"]
    binary = client.post(
        "/echo/x", auth=False, data=b"\xff\x00raw", headers={"Content-Type": "application/octet-stream"}
    ).json()["event"]

    assert (text["body"], text["isBase64Encoded"]) == ('{"a": 1}', False)
    assert (base64.b64decode(binary["body"]), binary["isBase64Encoded"]) == (b"\xff\x00raw", True)


def test_proxy_answer_headers_multi_value_headers_and_base64_body_reach_the_client(stack: LocalStack) -> None:
    with urllib.request.urlopen(f"{stack.base_url}/echo/x") as resp:  # noqa: S310 (local URL)
        cookies = resp.headers.get_all("Set-Cookie")
        echo_header = resp.headers["X-Echo"]
    with urllib.request.urlopen(f"{stack.base_url}/echo/x?b64=1") as resp:  # noqa: S310
        binary = resp.read()

    assert cookies == ["first=1", "second=2"]
    assert echo_header == "yes"
    assert binary == b"\x00\x01binary"


def test_private_route_with_the_bearer_token_reaches_the_handler_as_an_iam_caller(
    client: LocalClient,
) -> None:
    resp = client.get("/private/42")

    assert resp.status == 200
    event = resp.json()["event"]
    assert event["pathParameters"] == {"item_id": "42"}
    assert event["requestContext"]["identity"]["userArn"] == "arn:aws:iam::123456789012:user/baton-local"


def test_private_route_without_the_bearer_token_never_reaches_the_handler(client: LocalClient) -> None:
    assert client.get("/private/42", auth=False).status == 401


def test_a_handler_that_raises_is_a_502_json_error(client: LocalClient) -> None:
    resp = client.get("/boom", auth=False)

    assert resp.status == 502
    assert resp.json()["error"]["code"] == "lambda_error"


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://www.example.com", "https://www.example.com"),
        ("https://shop.example.com", "https://shop.example.com"),
        ("https://evil.example.net", "https://www.example.com"),
    ],
)
def test_preflight_answers_like_the_templates_mock_method(
    client: LocalClient, origin: str, allowed: str
) -> None:
    resp = client.request("OPTIONS", "/echo/x", auth=False, headers={"Origin": origin})

    assert resp.status == 204
    assert resp.headers["Access-Control-Allow-Origin"] == allowed
    assert resp.headers["Access-Control-Allow-Methods"] == "GET,POST,OPTIONS"
    assert resp.headers["Vary"] == "Origin"


def test_outbox_lists_the_email_and_sms_a_handler_sent(client: LocalClient, stack: LocalStack) -> None:
    sent = client.post("/send", auth=False, json_body={"email": "Ana@Example.com", "phone": PHONE}).json()

    outbox = client.get("/_local/outbox").json()

    email = next(m for m in outbox if m["message_id"] == sent["email_message_id"])
    sms = next(m for m in outbox if m["message_id"] == sent["sms_message_id"])
    assert email["channel"] == "email"
    assert email["to"] == "Ana@Example.com"
    assert email["from"] == "hello@fixture.example.com"
    assert email["subject"] == "Fixture: please confirm"
    assert email["body"].strip() == f"Confirm here: {stack.base_url}/confirm/fixture"
    assert email["headers"]["List-Unsubscribe"] == f"<{stack.base_url}/unsubscribe/fixture>"
    assert email["sent_at"].endswith("Z")
    assert {k: sms[k] for k in ("channel", "to", "from", "subject", "body")} == {
        "channel": "sms",
        "to": PHONE,
        "from": "+12065550100",
        "subject": None,
        "body": "Fixture: reply YES to confirm",
    }
    assert [m["to"] for m in client.get(f"/_local/outbox?channel=sms&to=%2B{PHONE[1:]}").json()].count(
        PHONE
    ) >= 1


def test_inbound_sms_invokes_the_subscribed_function_with_a_two_way_sms_notification(
    client: LocalClient, stack: LocalStack
) -> None:
    last_sent = stack.outbox.last_sms_to(PHONE)

    resp = client.post("/_local/sms-inbound", json_body={"from": PHONE, "body": "help please"})

    assert resp.status == 202
    record = handlers.RECEIVED_SMS_EVENTS[-1]["Records"][0]
    message = json.loads(record["Sns"]["Message"])
    assert record["EventSource"] == "aws:sns"
    assert (
        record["Sns"]["TopicArn"]
        == "arn:aws:sns:us-east-1:123456789012:fixture-DeliveryInboundSmsTopic2B3C4D5E"
    )
    assert message == {
        "originationNumber": PHONE,
        "destinationNumber": "+12065550100",
        "messageKeyword": "HELP",
        "messageBody": "help please",
        "inboundMessageId": resp.json()["inboundMessageId"],
        "previousPublishedMessageId": last_sent.message_id if last_sent else "",
    }
    assert client.get("/_local/outbox").json()[-1]["body"] == "You said: help please"


def test_inbound_sms_from_a_local_number_form_arrives_as_e164(client: LocalClient) -> None:
    resp = client.post("/_local/sms-inbound", json_body={"from": "(425) 555-0182", "body": "STOP"})

    assert resp.status == 202
    message = json.loads(handlers.RECEIVED_SMS_EVENTS[-1]["Records"][0]["Sns"]["Message"])
    assert message["originationNumber"] == PHONE


def test_a_second_stack_in_the_process_keeps_its_own_resources_and_outbox(stack: LocalStack) -> None:
    template = json.loads(TEMPLATE.read_text())
    template["Resources"].pop("DataPlaneNamedTable5A6B7C8D")
    for name in ("FIXTURE_NAMED_TABLE",):
        template["Resources"][ECHO]["Properties"]["Environment"]["Variables"].pop(name)
    template["Resources"][SEND]["Properties"]["Environment"]["Variables"]["BATON_CONTACTS_TABLE"] = {
        "Ref": "DataPlaneContactsTable1F2E3D4C"
    }
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")

    with LocalStack(template, prefix="other") as other:
        other_client = LocalClient(other.base_url, other.token)
        other_client.post("/send", auth=False, json_body={"email": "b@example.com", "phone": "+14255550199"})
        other_outbox = other_client.get("/_local/outbox").json()
        tables_while_up = dynamodb.list_tables()["TableNames"]

    assert [m["to"] for m in other_outbox] == ["b@example.com", "+14255550199"]
    assert "+14255550199" not in {m.to for m in stack.outbox.messages()}
    assert "other-DataPlaneContactsTable1F2E3D4C" in tables_while_up
    assert "other-DataPlaneContactsTable1F2E3D4C" not in dynamodb.list_tables()["TableNames"]
    assert CONTACTS_TABLE in dynamodb.list_tables()["TableNames"]
