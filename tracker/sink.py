"""Where accepted events go: Kafka, through one idempotent aiokafka producer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from streams.topics import KafkaUnavailable as SinkUnavailable

__all__ = ["KafkaSink", "Record", "Sink", "SinkUnavailable"]

log = logging.getLogger(__name__)


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
