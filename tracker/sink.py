"""Where accepted events go: Kafka, through one idempotent aiokafka producer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from schemas.errors import LeadroiError
from schemas.names import Names

log = logging.getLogger(__name__)


class SinkUnavailable(LeadroiError):
    """Kafka did not take the records in time; the same request may succeed later."""

    retryable = True


class TopicSetupFailed(LeadroiError):
    """The broker refused to create a topic (bad partition count, no rights)."""


@dataclass(frozen=True)
class Record:
    topic: str
    key: str | None
    value: Mapping[str, Any]


class Sink(Protocol):
    async def send_many(self, records: Sequence[Record]) -> None:
        """Return once every record is stored; raise SinkUnavailable otherwise."""


class KafkaSink:
    """Sends records and waits for the broker's acknowledgement of each.

    With idempotence on, aiokafka waits for all in-sync replicas (acks=all) and
    the broker drops the duplicates its own retries would create.
    """

    def __init__(
        self,
        bootstrap: str,
        *,
        linger_ms: int = 0,
        delivery_timeout_s: float = 10.0,
        client_id: str = "leadroi-tracker",
    ) -> None:
        self.bootstrap = bootstrap
        self.delivery_timeout_s = delivery_timeout_s
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            client_id=client_id,
            enable_idempotence=True,
            linger_ms=linger_ms,
            max_batch_size=256 * 1024,
            request_timeout_ms=int(delivery_timeout_s * 1000),
        )

    async def start(self) -> None:
        try:
            await self._producer.start()
        except KafkaError as exc:
            await self._producer.stop()
            raise SinkUnavailable(
                f"kafka_bootstrap: no broker answers at {self.bootstrap!r}: {exc!r}"
            ) from exc
        log.info("producer connected to %s", self.bootstrap)

    async def stop(self) -> None:
        await self._producer.stop()

    async def send_many(self, records: Sequence[Record]) -> None:
        # Enqueue everything before waiting: the records then travel in a few
        # produce requests instead of one round trip each.
        try:
            async with asyncio.timeout(self.delivery_timeout_s):
                futures = [
                    await self._producer.send(
                        r.topic,
                        value=orjson.dumps(r.value),
                        key=r.key.encode() if r.key is not None else None,
                    )
                    for r in records
                ]
                await asyncio.gather(*futures)
        except (KafkaError, TimeoutError) as exc:
            raise SinkUnavailable(
                f"kafka: {len(records)} record(s) not acknowledged by"
                f" {self.bootstrap!r} within {self.delivery_timeout_s}s: {exc!r}"
            ) from exc


async def ensure_topics(
    bootstrap: str, names: Names, partitions: int, replication_factor: int = 1
) -> list[str]:
    """Create every topic of ``names`` that is missing; return the ones created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="leadroi-admin")
    try:
        await admin.start()
    except KafkaError as exc:
        await admin.close()
        raise SinkUnavailable(f"kafka_bootstrap: no broker at {bootstrap!r}") from exc

    try:
        existing = set(await admin.list_topics())
        missing = [t for t in names.all_topics() if t not in existing]
        if not missing:
            return []
        new = [NewTopic(t, partitions, replication_factor) for t in missing]
        response = await admin.create_topics(new)
    finally:
        await admin.close()

    created = []
    for topic, code, message in response.topic_errors:
        error = for_code(code) if code else None
        if error is None:
            created.append(topic)
        elif error is not TopicAlreadyExistsError:
            # Another tracker racing us to create a topic is fine; anything else
            # leaves the tracker unable to write, so stop here.
            raise TopicSetupFailed(f"topic {topic!r}: creation refused: {message}")
    if created:
        log.info("created topics %s with %d partitions", ", ".join(created), partitions)
    return created
