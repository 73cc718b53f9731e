"""A tracker on a real socket in front of the real broker, and a topic reader."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import orjson
from aiohttp.test_utils import TestServer
from aiokafka import AIOKafkaConsumer

from streams.topics import ensure_topics
from tracker.app import make_app
from tracker.settings import Settings
from tracker.sink import KafkaSink

HASH_KEY = b"integration-test-key"


@dataclass(frozen=True)
class Message:
    topic: str
    key: bytes | None
    value: dict[str, object]


@asynccontextmanager
async def running_tracker(settings: Settings) -> AsyncIterator[TestServer]:
    """The tracker app served on 127.0.0.1, writing to its own topics."""
    await ensure_topics(settings.kafka_bootstrap, settings.names, settings.partitions)
    sink = KafkaSink(settings.kafka_bootstrap)
    await sink.start()
    server = TestServer(make_app(settings, sink), host="127.0.0.1")
    try:
        await server.start_server()
        yield server
    finally:
        await server.close()
        await sink.stop()


async def read_topics(
    bootstrap: str, topics: Iterable[str], count: int, timeout_s: float = 30.0
) -> list[Message]:
    """Every message of ``topics`` from the start, once ``count`` have arrived,
    plus a short grace period so extra messages are seen too."""
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    found: list[Message] = []
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                batches = await consumer.getmany(timeout_ms=500)
                found += [
                    Message(m.topic, m.key, orjson.loads(m.value or b"null"))
                    for messages in batches.values()
                    for m in messages
                ]
                if len(found) >= count and not batches:
                    return found
    except TimeoutError:
        return found
    finally:
        await consumer.stop()
