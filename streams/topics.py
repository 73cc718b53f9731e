"""Kafka glue shared by the services: topic creation and consumer lag."""

from __future__ import annotations

import logging

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code
from aiokafka.structs import TopicPartition

from schemas.errors import LeadroiError
from schemas.names import Names

log = logging.getLogger(__name__)

# Source topics are the system of record (replays rebuild everything from them), so
# they keep every event; credits keep the last record per id.
KEEP_FOREVER = {"retention.ms": "-1", "retention.bytes": "-1"}
COMPACTED = {"cleanup.policy": "compact"}


class KafkaUnavailable(LeadroiError):
    """Kafka did not answer or did not take the records in time; the same request
    may succeed later."""

    retryable = True


class TopicSetupFailed(LeadroiError):
    """The broker refused to create a topic (bad partition count, no rights)."""


async def ensure_topics(bootstrap: str, names: Names, partitions: int) -> list[str]:
    """Create leadroi's missing topics with ``partitions`` partitions; return them.

    Safe to run from several processes at once: a topic another process created
    first counts as present.
    """
    wanted = {
        topic: KEEP_FOREVER for topic in [*names.source_topics(), names.lead_events]
    }
    wanted[names.deadletter] = KEEP_FOREVER
    wanted[names.merges] = KEEP_FOREVER
    wanted[names.credits] = COMPACTED

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="leadroi-admin")
    try:
        await admin.start()
    except KafkaError as exc:
        await admin.close()
        raise KafkaUnavailable(f"kafka_bootstrap: no broker at {bootstrap!r}") from exc

    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(topic, partitions, 1, topic_configs=config)
            for topic, config in wanted.items()
            if topic not in existing
        ]
        if not missing:
            return []
        response = await admin.create_topics(missing)
    finally:
        await admin.close()

    created = []
    for topic, code, message in response.topic_errors:
        error = for_code(code) if code else None
        if error is None:
            created.append(topic)
        elif error is not TopicAlreadyExistsError:
            raise TopicSetupFailed(f"topic {topic!r}: creation refused: {message}")
    if created:
        log.info("created topics %s with %d partitions", ", ".join(created), partitions)
    return created


async def consumer_lag(bootstrap: str, group_id: str, topics: list[str]) -> int:
    """Messages on ``topics`` that ``group_id`` has not committed yet."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await consumer.start()
    await admin.start()
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(
                consumer.partitions_for_topic(topic)
                or await _partitions(consumer, topic)
            )
        ]
        ends = await consumer.end_offsets(partitions)
        committed = await admin.list_consumer_group_offsets(
            group_id, partitions=partitions
        )
        lag = 0
        for tp in partitions:
            done = committed.get(tp)
            lag += ends[tp] - (
                done.offset if done is not None and done.offset >= 0 else 0
            )
        return lag
    finally:
        await consumer.stop()
        await admin.close()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # noqa: SLF001 - no public refresh
    return consumer.partitions_for_topic(topic) or set()
