"""The tracker against the real broker: topics, a mixed batch over HTTP."""

from __future__ import annotations

import aiohttp
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from schemas.names import Names
from streams.normalize import keyed_hash, partition_key
from streams.topics import ensure_topics
from tests.integration.tracker_support import HASH_KEY, read_topics, running_tracker
from tracker.settings import Settings
from tracker.sink import KafkaSink, SinkUnavailable

pytestmark = pytest.mark.integration

EVENTS = [
    {
        "type": "touch",
        "visitor_id": "v-101",
        "url": "https://www.example.com/?utm_source=google&utm_medium=cpc",
    },
    {"type": "identify", "visitor_id": "v-101", "email": "  Sam.Lee@Example.com\t"},
    {"type": "touch", "url": "https://www.example.com/"},  # no visitor: invalid
    {
        "type": "deal",
        "deal_id": "D-901",
        "email": "pat.jones@example.org",
        "status": "won",
        "amount": "240.00",
        "currency": "USD",
    },
    {"type": "spend", "date": "2026-11-30", "source": "Google", "amount_minor": 30000}
    | {"currency": "USD"},
]


async def test_ensure_topics_twice_creates_each_topic_once(
    kafka_bootstrap: str, names: Names
) -> None:
    created = await ensure_topics(kafka_bootstrap, names, partitions=3)
    again = await ensure_topics(kafka_bootstrap, names, partitions=3)

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(names.all_topics())
    finally:
        await admin.close()
    assert sorted(created) == sorted(names.all_topics())
    assert again == []
    assert {t["topic"]: len(t["partitions"]) for t in described} == {
        topic: 3 for topic in names.all_topics()
    }


async def test_batch_mixed_over_http_stores_exactly_the_valid_events(
    kafka_bootstrap: str, names: Names
) -> None:
    settings = Settings(
        kafka_bootstrap=kafka_bootstrap, prefix=names.prefix, hash_key=HASH_KEY
    )
    async with running_tracker(settings) as server:
        async with aiohttp.ClientSession() as http:
            response = await http.post(
                server.make_url("/v1/batch"), json={"events": EVENTS}
            )
            answer = await response.json()

    sources = [names.touches, names.identities, names.crm, names.spend]
    messages = await read_topics(kafka_bootstrap, [*sources, names.deadletter], 5)

    assert response.status == 207
    assert [r["status"] for r in answer["results"]] == [
        "accepted",
        "accepted",
        "rejected",
        "accepted",
        "accepted",
    ]
    stored = [m for m in messages if m.topic != names.deadletter]
    accepted_ids = {r["event_id"] for r in answer["results"] if "event_id" in r}
    assert {m.value["event_id"] for m in stored} == accepted_ids
    assert len(stored) == 4
    by_kind = {m.value["type"]: m for m in stored}
    assert by_kind["touch"].topic == names.touches
    assert by_kind["identify"].topic == names.identities
    assert by_kind["deal"].topic == names.crm
    assert by_kind["spend"].topic == names.spend
    for message in stored:
        assert message.key == partition_key(message.value).encode()
    assert by_kind["touch"].key == b"v-101"
    assert by_kind["spend"].key == b"google"

    sam = keyed_hash("sam.lee@example.com", HASH_KEY)
    pat = keyed_hash("pat.jones@example.org", HASH_KEY)
    assert by_kind["identify"].value["email_hash"] == sam
    assert by_kind["deal"].value["email_hash"] == pat
    assert by_kind["deal"].key == f"email:{pat}".encode()
    assert by_kind["deal"].value["amount_minor"] == 24000
    assert all("email" not in m.value for m in stored)

    [letter] = [m for m in messages if m.topic == names.deadletter]
    assert letter.value["endpoint"] == "/v1/batch"
    assert letter.value["problems"] == [
        {"field": "visitor_id", "reason": "'visitor_id' is a required property"}
    ]
    assert letter.value["raw"] == '{"type":"touch","url":"https://www.example.com/"}'


async def test_pixel_over_http_stores_touch_with_its_visitor_key(
    kafka_bootstrap: str, names: Names
) -> None:
    settings = Settings(kafka_bootstrap=kafka_bootstrap, prefix=names.prefix)
    async with running_tracker(settings) as server:
        async with aiohttp.ClientSession() as http:
            pixel = await http.get(
                server.make_url("/t/px"),
                params={"vid": "v-7", "url": "https://www.example.com/?gclid=TeSt1"},
            )
            body = await pixel.read()

    [message] = await read_topics(kafka_bootstrap, [names.touches], 1)

    assert (pixel.status, len(body)) == (200, 43)
    assert message.key == b"v-7"
    assert message.value["url"] == "https://www.example.com/?gclid=TeSt1"


async def test_sink_start_without_broker_raises_unavailable() -> None:
    sink = KafkaSink("127.0.0.1:1", delivery_timeout_s=2)

    with pytest.raises(SinkUnavailable, match="127.0.0.1:1") as caught:
        await sink.start()
    assert caught.value.retryable
