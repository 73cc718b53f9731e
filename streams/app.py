"""The faust app: wires the pure identity and journey steps to topics and Redis.

Two steps; the second is keyed so that one worker owns all state of a key:

1. ``route`` reads touches, identities and CRM events, holds no state, writes
   each touch's own record, and re-keys what each event says onto the
   lead-events topic, keyed by identity node (``streams.identity``).
2. ``stitch`` reads lead events keyed by node, keeps every node's state in the
   ``nodes`` table (identity graph, journeys, tracking numbers), sends the
   messages the step produces back onto lead-events, writes the credit records
   of the lead it touched to Redis (idempotent, see ``streams.sink``) and each
   merge to the merges topic.

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
from mode.utils.objects import cached_property
from mode.utils.queues import FlowControlEvent
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from schemas.names import Names
from streams.channels import Classifier
from streams.config import Settings, kafka_bootstrap_from_env, redis_url_from_env
from streams.identity import route
from streams.journey import spend_record, touch_record
from streams.markov import check_order
from streams.markov_sink import MarkovSink, refresh
from streams.sink import RedisSink
from streams.stitch import step

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
            kafka_bootstrap=kafka_bootstrap_from_env(env),
            redis_url=redis_url_from_env(env),
            prefix=env.get("LEADROI_PREFIX", cls.prefix),
            partitions=int(env.get("LEADROI_PARTITIONS", str(cls.partitions))),
            datadir=env.get("LEADROI_WORKER_DATADIR", cls.datadir),
            markov_interval_s=float(
                env.get("LEADROI_MARKOV_INTERVAL_S", str(cls.markov_interval_s))
            ),
            domain=Settings.from_env(),
        )


class _BufferKeepingFlowControl(FlowControlEvent):
    """Flow control that empties the agents' buffers only while suspended.

    faust's own empties them on every resume. After a restart that read the
    changelog, faust resumes the stream partitions, awaits a seek while its
    fetcher already fills the buffers, and only then resumes flow: the events
    buffered meanwhile were dropped unprocessed, and their offsets were either
    skipped as a gap or never committed, stalling the partition. A rebalance
    still empties the buffers: it suspends flow first.
    """

    def clear(self) -> None:
        if not self.is_active():
            super().clear()


class _App(faust.App):
    @cached_property
    def flow_control(self) -> FlowControlEvent:
        return _BufferKeepingFlowControl(loop=self.loop)


def _decode(value: Any) -> dict[str, Any]:
    decoded: dict[str, Any] = orjson.loads(value)
    return decoded


def create_app(settings: WorkerSettings) -> faust.App:
    names = Names(settings.prefix)
    domain = settings.domain
    check_order(domain.markov_order)
    classifier = Classifier.from_settings(domain)
    app = _App(
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
        # A worker that died leaves its partitions to the others after this long.
        broker_session_timeout=10.0,
        producer_acks=-1,
        producer_linger=0.0,
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

    source_topic = topic(names.touches, names.identities, names.crm)
    lead_events = topic(names.lead_events)
    spend_topic = topic(names.spend)
    credits = topic(names.credits)
    merges = topic(names.merges)

    nodes = app.Table(names.node_table, default=None, partitions=settings.partitions)
    sink = RedisSink(settings.redis_url, names)
    markov = MarkovSink(sink.client, names)

    async def write(batch: dict[str, Any], log_key: str) -> None:
        # The credits topic is the replay log of what Redis holds: one compacted
        # message per node (or touch, or spend line) with all its records, sent
        # only when a figure changed, so a duplicate event sends nothing.
        if await _until_done(partial(sink.apply, batch)):
            await credits.send(key=log_key.encode(), value=_records_json(batch))

    @app.agent(source_topic)
    async def route_events(stream: faust.StreamT[bytes]) -> None:
        async for value in stream:
            payload = _decode(value)
            routed = route(payload, classifier)
            if routed.touch is not None:
                record = touch_record(routed.touch, domain)
                record_id = f"touch|{payload['event_id']}"
                await write({record_id: record}, record_id)
            for key, message in routed.sends:
                await lead_events.send(key=key.encode(), value=orjson.dumps(message))

    @app.agent(lead_events)
    async def stitch(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            key = event.key.decode() if event.key else ""
            message = _decode(event.value)
            if not key or "kind" not in message:
                log.debug("ignoring lead event without key or kind: %r", key)
                continue
            outcome = step(key, nodes.get(key), message, domain)
            await write(outcome.records, f"node|{key}")
            for lead, inputs in outcome.markov_inputs.items():
                await _until_done(partial(markov.put_inputs, lead, inputs))
            delivered = [
                await lead_events.send(key=target.encode(), value=orjson.dumps(sent))
                for target, sent in outcome.sends
            ]
            delivered += [
                await merges.send(
                    key=entry["winner"].encode(), value=orjson.dumps(entry)
                )
                for entry in outcome.merges
            ]
            # Kafka orders messages only within a partition: the changelog,
            # queued after these messages, can reach the broker before them.
            # Waiting for them keeps the table behind its messages after a
            # crash, so the redelivered message computes and sends them again.
            if delivered:
                await asyncio.gather(*delivered)
            nodes[key] = outcome.state

    @app.agent(spend_topic)
    async def spend(stream: faust.StreamT[bytes]) -> None:
        async for value in stream:
            record_id, record = spend_record(_decode(value), domain, classifier)
            await write({record_id: record}, record_id)

    leader_timer = app.timer(settings.markov_interval_s, on_leader=True)

    @leader_timer  # type: ignore[untyped-decorator]
    async def markov_generation() -> None:
        # A failed generation leaves the last one live and the next tick retries;
        # it must not stop the agents that share this worker.
        try:
            await refresh(markov, domain.markov_order)
        except RedisError as exc:
            log.warning("markov generation skipped: %s", exc)

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
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


def _records_json(batch: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {
            record_id: [[*cell, amount] for cell, amount in sorted(record.items())]
            for record_id, record in batch.items()
        }
    )
