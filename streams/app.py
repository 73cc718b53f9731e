"""The faust app: wires the pure journey steps to topics, tables and Redis.

Two steps, each keyed so that one worker owns all state of a key:

1. ``route`` reads touches and identities keyed by visitor, keeps each visitor's
   touches and lead in the ``visitors`` table, and re-keys them by lead onto the
   lead-events topic.
2. ``attribute`` reads lead events and CRM events keyed by lead, keeps each lead's
   journey in the ``journeys`` table, and after every event recomputes the lead's
   credit records and applies them to Redis (idempotent, see ``streams.sink``),
   with its path record and Markov inputs (``streams.lead_paths``).

A timer on the leader recomputes the Markov models from every worker's path
counts and inputs and swaps them into Redis whole (``streams.markov_sink``).

Redis writes happen for every event, duplicates included: a worker that died after
updating its table but before writing Redis repairs the figures on redelivery.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import faust
import orjson
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from schemas.names import Names
from streams.channels import Classifier
from streams.config import Settings
from streams.journey import apply, deal_item, records, route, spend_record, touch_record
from streams.lead_paths import lead_markov
from streams.markov import check_order
from streams.markov_sink import MarkovSink, refresh
from streams.normalize import partition_key
from streams.sink import RedisSink

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class WorkerSettings:
    kafka_bootstrap: str = "127.0.0.1:19092"
    redis_url: str = "redis://127.0.0.1:16379/0"
    prefix: str = "leadroi"
    partitions: int = 4
    datadir: str = ".state/worker"
    markov_interval_s: float = 30.0
    domain: Settings = field(default_factory=Settings)

    @classmethod
    def from_env(cls) -> WorkerSettings:
        env = os.environ
        return cls(
            kafka_bootstrap=env.get("LEADROI_KAFKA_BOOTSTRAP", cls.kafka_bootstrap),
            redis_url=env.get("LEADROI_REDIS_URL", cls.redis_url),
            prefix=env.get("LEADROI_PREFIX", cls.prefix),
            partitions=int(env.get("LEADROI_PARTITIONS", str(cls.partitions))),
            datadir=env.get("LEADROI_WORKER_DATADIR", cls.datadir),
            markov_interval_s=float(
                env.get("LEADROI_MARKOV_INTERVAL_S", str(cls.markov_interval_s))
            ),
            domain=Settings.from_env(),
        )


def _decode(value: Any) -> dict[str, Any]:
    decoded: dict[str, Any] = orjson.loads(value)
    return decoded


def create_app(settings: WorkerSettings) -> faust.App:
    names = Names(settings.prefix)
    domain = settings.domain
    check_order(domain.markov_order)
    classifier = Classifier.from_settings(domain)
    app = faust.App(
        names.app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="memory://",
        datadir=settings.datadir,
        topic_partitions=settings.partitions,
        topic_replication_factor=1,
        table_standby_replicas=0,
        web_enabled=False,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0,
        producer_acks=-1,
        producer_linger=0.005,
    )

    def topic(*topic_names: str) -> faust.TopicT:
        return app.topic(
            *topic_names,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=settings.partitions,
        )

    visitor_topic = topic(names.touches, names.identities)
    lead_topic = topic(names.lead_events, names.crm)
    spend_topic = topic(names.spend)
    lead_events = topic(names.lead_events)
    credits = topic(names.credits)

    visitors = app.Table(names.visitor_table, default=None, partitions=settings.partitions)
    journeys = app.Table(names.journey_table, default=None, partitions=settings.partitions)
    sink = RedisSink(settings.redis_url, names)
    markov = MarkovSink(sink.client, names)

    async def write(batch: dict[str, Any]) -> None:
        # Only changed records go to the credits topic: it is the replay log of
        # what Redis holds, and a duplicate event changes nothing.
        for record_id in await _until_done(lambda: sink.apply(batch)):
            await credits.send(key=record_id.encode(), value=_record_json(batch[record_id]))

    @app.agent(visitor_topic)
    async def route_visitors(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            payload = _decode(event.value)
            if payload["type"] == "touch" and payload.get("is_bot"):
                continue
            key = partition_key(payload)
            if payload.get("visitor_id"):
                state, forwards = route(visitors.get(key), payload, classifier)
                visitors[key] = state
                touch = state["touches"].get(payload["event_id"])
                if payload["type"] == "touch" and touch is not None:
                    await write({f"touch|{payload['event_id']}": touch_record(touch, domain)})
            else:
                _, forwards = route(None, payload)
            for lead, item in forwards:
                await lead_events.send(key=lead.encode(), value=orjson.dumps(item))

    @app.agent(lead_topic)
    async def attribute(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            payload = _decode(event.value)
            lead = event.key.decode() if event.key else partition_key(payload)
            item = deal_item(payload) if payload.get("type") == "deal" else payload
            if "kind" not in item:
                log.debug("ignoring %s event %s", payload.get("type"), payload.get("event_id"))
                continue
            state = apply(journeys.get(lead), item)
            journeys[lead] = state
            batch = records(lead, state, domain)
            path_id, path_record, inputs = lead_markov(lead, state, domain)
            batch[path_id] = path_record
            await write(batch)
            await _until_done(partial(markov.put_inputs, lead, inputs))

    @app.agent(spend_topic)
    async def spend(stream: faust.StreamT[bytes]) -> None:
        async for value in stream:
            record_id, record = spend_record(_decode(value), domain, classifier)
            await write({record_id: record})

    leader_timer = app.timer(settings.markov_interval_s, on_leader=True)

    @leader_timer  # type: ignore[untyped-decorator]
    async def markov_generation() -> None:
        # A failed generation leaves the last one live and the next tick retries;
        # it must not stop the agents that share this worker.
        try:
            await refresh(markov, domain.markov_order)
        except RedisError as exc:
            log.warning("markov generation skipped: %s", exc)

    @app.on_before_shutdown.connect
    async def close_sink(app: faust.App, **kwargs: Any) -> None:
        await sink.close()

    return app


async def _until_done(call: Callable[[], Awaitable[T]]) -> T:
    # Redis is a view that must catch up with every event; while it is unreachable
    # the partition waits here instead of skipping events.
    delay_s = 0.5
    while True:
        try:
            return await call()
        except (RedisConnectionError, RedisTimeoutError) as exc:
            log.warning("redis unavailable (%s); retrying in %.1f s", exc, delay_s)
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, 10.0)


def _record_json(record: Any) -> bytes:
    return orjson.dumps([[*cell, amount] for cell, amount in sorted(record.items())])
