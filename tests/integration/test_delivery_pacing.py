"""SMS pacing per origination identity in message parts per second (R-EUM-1), counted in moto's
DynamoDB as every Lambda shares it; End User Messaging is botocore's Stubber (moto lacks it)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from baton.clock import FixedClock
from baton.delivery.eum import EumSmsAdapter
from baton.delivery.exceptions import ProviderUnavailable
from baton.delivery.message import OutboundMessage, Purpose
from baton.delivery.pacing import PACING_UNAVAILABLE, DynamoPaceLedger, PaceLedger, Pacer, ThroughputReached
from baton.delivery.throughput import IdentityType, OriginationIdentity, Rate, identity_rate
from baton.settings import Settings
from baton.sms.segments import count_segments
from tests.integration.journeys import REGION

TEN_DLC = "+12065550100"  # a US long code: a 10DLC number, 1 part a second
POOL = "pool-0123456789abcdef"
ONE_PART = "Acme: your order has shipped."
TWO_PARTS = "Acme: your order has shipped. " * 6  # 180 GSM-7 characters: 2 parts


class Texts:
    def __init__(self, settings: Settings, clock: FixedClock, *, moves: bool) -> None:
        self.client: Any = boto3.client("pinpoint-sms-voice-v2", region_name=REGION)
        self.stubber = Stubber(self.client)
        self.clock = clock
        self.moves = moves
        self.pauses: list[float] = []
        self.pacer = Pacer(DynamoPaceLedger(settings.pacing_table), clock, pause=self._pause)

    def _pause(self, seconds: float) -> None:
        self.pauses.append(seconds)
        if self.moves:
            self.clock.set(self.clock.now() + timedelta(seconds=seconds))

    def adapter(self, identity: str, rate: Rate | None = None) -> EumSmsAdapter:
        return EumSmsAdapter(self.client, origination_identity=identity, pacer=self.pacer, rate=rate)

    def accepts(self, identity: str, text: str, message_id: str) -> None:
        self.stubber.add_response(
            "send_text_message",
            {"MessageId": message_id},
            {
                "DestinationPhoneNumber": "+15555550123",
                "OriginationIdentity": identity,
                "MessageBody": text,
                "MessageType": "TRANSACTIONAL",
                "Context": ANY,
            },
        )


@pytest.fixture
def texts(aws: Settings, clock: FixedClock) -> Iterator[Texts]:
    clock.set(clock.now().replace(microsecond=0))  # at the start of a second
    texts = Texts(aws, clock, moves=False)  # a still clock: what waits is what gets counted
    with texts.stubber:
        yield texts
        texts.stubber.assert_no_pending_responses()  # and nothing unexpected was sent


def _text(body: str) -> OutboundMessage:
    return OutboundMessage.sms(to="+15555550123", purpose=Purpose.TRANSACTIONAL, text=body)


def test_r_eum_1_a_10dlc_number_is_handed_at_most_one_part_a_second(texts: Texts) -> None:
    adapter = texts.adapter(TEN_DLC)  # the type is read from the number: US, not toll-free
    texts.accepts(TEN_DLC, ONE_PART, "eum-1")
    texts.accepts(TEN_DLC, ONE_PART, "eum-2")

    assert adapter.send(_text(ONE_PART)) == "eum-1"
    assert adapter.send(_text(ONE_PART)) == "eum-2"  # after waiting for the next second
    with pytest.raises(ThroughputReached):
        adapter.send(_text(ONE_PART))  # both seconds taken: not sent, retried later

    assert texts.pauses == [1.0]


def test_r_eum_1_a_two_part_text_takes_two_seconds_of_a_10dlc_number(texts: Texts) -> None:
    assert count_segments(TWO_PARTS).parts == 2
    adapter = texts.adapter(TEN_DLC)
    texts.accepts(TEN_DLC, TWO_PARTS, "eum-1")
    texts.accepts(TEN_DLC, ONE_PART, "eum-2")

    adapter.send(_text(TWO_PARTS))
    with pytest.raises(ThroughputReached):
        adapter.send(_text(ONE_PART))  # this second and the next are the 2-part text's
    texts.clock.set(texts.clock.now() + timedelta(seconds=2))

    assert adapter.send(_text(ONE_PART)) == "eum-2"
    assert texts.pauses == []


def test_r_eum_1_a_short_code_is_handed_a_hundred_parts_a_second(texts: Texts) -> None:
    rate = identity_rate(POOL, {POOL: OriginationIdentity(type=IdentityType.US_SHORT_CODE)})
    adapter = texts.adapter(POOL, rate)
    texts.accepts(POOL, ONE_PART, "eum-101")

    texts.pacer.reserve("eum", POOL, 100, rate)  # a batch takes the whole second at once
    adapter.send(_text(ONE_PART))

    assert rate == Rate(capacity=100)
    assert texts.pauses == [1.0]  # the 101st part waits for the next second


def test_r_eum_1_an_identity_of_unknown_type_gets_the_slowest_rate(texts: Texts) -> None:
    adapter = texts.adapter(POOL)  # a pool id names no number to read a type from
    texts.accepts(POOL, ONE_PART, "eum-1")

    adapter.send(_text(ONE_PART))
    texts.pacer.reserve("eum", POOL, 1, identity_rate(POOL, {}))

    assert texts.pauses == [1.0]


def test_r_eum_1_a_slower_configured_rate_is_kept(texts: Texts) -> None:
    rate = identity_rate(
        TEN_DLC, {TEN_DLC: OriginationIdentity(type=IdentityType.US_10DLC, parts_per_second=0.5)}
    )
    adapter = texts.adapter(TEN_DLC, rate)
    texts.accepts(TEN_DLC, ONE_PART, "eum-1")
    texts.accepts(TEN_DLC, ONE_PART, "eum-2")

    adapter.send(_text(ONE_PART))
    with pytest.raises(ThroughputReached):
        adapter.send(_text(ONE_PART))  # one part per two seconds: the next window is 2 s away
    texts.clock.set(texts.clock.now() + timedelta(seconds=1))
    adapter.send(_text(ONE_PART))  # now it is 1 s away: worth the wait

    assert rate == Rate(capacity=1, window_seconds=2)
    assert texts.pauses == [1.0]


class _Unreachable(PaceLedger):
    def take(self, *args: Any) -> bool:
        raise ClientError({"Error": {"Code": "InternalServerError"}}, "UpdateItem")


def test_a_pacing_count_that_cannot_be_written_keeps_the_text_unsent_and_retryable(clock: FixedClock) -> None:
    pacer = Pacer(_Unreachable(), clock)

    with pytest.raises(ProviderUnavailable) as raised:
        pacer.reserve("eum", TEN_DLC, 1, Rate(capacity=1))

    assert (raised.value.code, raised.value.retryable) == (PACING_UNAVAILABLE, True)


def test_a_campaigns_share_of_an_identity_leaves_the_rest_of_each_second_to_transactional_sends(
    aws: Settings, clock: FixedClock
) -> None:
    clock.set(clock.now().replace(microsecond=0))
    ledger = DynamoPaceLedger(aws.pacing_table)
    campaign = Pacer(ledger, clock, pause=lambda _: None, max_wait=timedelta(0), share=0.8)
    transactional = Pacer(ledger, clock, pause=lambda _: None, max_wait=timedelta(0))
    rate = Rate(capacity=100)  # a short code

    for _ in range(80):
        campaign.reserve("eum", POOL, 1, rate)
    with pytest.raises(ThroughputReached):
        campaign.reserve("eum", POOL, 1, rate)  # the campaign's 80 of the second are taken
    for _ in range(20):
        transactional.reserve("eum", POOL, 1, rate)  # the other 20 are still free
    with pytest.raises(ThroughputReached):
        transactional.reserve("eum", POOL, 1, rate)  # and the second holds no more than its 100


def test_a_pacing_share_is_above_zero_and_at_most_one(aws: Settings, clock: FixedClock) -> None:
    with pytest.raises(ValueError, match="share"):
        Pacer(DynamoPaceLedger(aws.pacing_table), clock, share=1.5)
