"""deploy/services.sh brings up a usable Kafka and Redis, and is safe to rerun.

The services are left running: the suite starts them once per session and
later tests use them. Ports and state dir come from the LEADROI_* environment
(see deploy/kafka.sh and deploy/redis.sh).
"""

import asyncio
import subprocess
import uuid
from pathlib import Path

import pytest
import redis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

SERVICES = Path(__file__).resolve().parents[2] / "deploy" / "services.sh"


def start_services() -> dict[str, str]:
    # Generous timeout: a first run may fetch the broker jars and install Redis.
    proc = subprocess.run(
        ["bash", str(SERVICES), "start"], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)


@pytest.fixture(scope="module")
def services() -> dict[str, str]:
    first = start_services()
    second = start_services()  # already running: must succeed and agree
    assert first == second
    return first


def test_addresses_are_printed(services):
    assert services["LEADROI_KAFKA_BOOTSTRAP"].startswith("127.0.0.1:")
    assert services["LEADROI_REDIS_URL"].startswith("redis://127.0.0.1:")


def test_redis_answers_ping(services):
    client = redis.Redis.from_url(services["LEADROI_REDIS_URL"])
    try:
        assert client.ping() is True
    finally:
        client.close()


@pytest.mark.asyncio
async def test_kafka_round_trip(services):
    bootstrap = services["LEADROI_KAFKA_BOOTSTRAP"]
    topic = f"test-services-{uuid.uuid4().hex}"
    payload = uuid.uuid4().bytes

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, payload)
    finally:
        await producer.stop()

    # A consumer group exercises the group coordinator, which needs the
    # single-node replication settings of deploy/kafka/server.properties.in.
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"test-services-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        message = await asyncio.wait_for(consumer.getone(), timeout=30)
        await consumer.commit()
    finally:
        await consumer.stop()
    assert message.value == payload
