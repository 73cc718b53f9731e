"""Session fixtures: the real Kafka broker and Redis server, started once.

``deploy/services.sh start`` is idempotent, so a developer who already runs the
services keeps them. ``LEADROI_TEST_KAFKA`` / ``LEADROI_TEST_REDIS`` point the
suite at services started some other way.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas.names import Names

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("LEADROI_DATA_DIR", REPO.parent / "shared" / "data"))


def _start_services() -> tuple[str, str]:
    kafka = os.environ.get("LEADROI_TEST_KAFKA")
    redis = os.environ.get("LEADROI_TEST_REDIS")
    if kafka and redis:
        return kafka, redis

    subprocess.run([str(REPO / "deploy" / "services.sh"), "start"], check=True)
    kafka_port = os.environ.get("LEADROI_KAFKA_PORT", "19092")
    redis_port = os.environ.get("LEADROI_REDIS_PORT", "16379")
    return f"127.0.0.1:{kafka_port}", f"redis://127.0.0.1:{redis_port}/0"


@pytest.fixture(scope="session")
def services() -> tuple[str, str]:
    return _start_services()


@pytest.fixture(scope="session")
def kafka_bootstrap(services: tuple[str, str]) -> str:
    return services[0]


@pytest.fixture(scope="session")
def redis_url(services: tuple[str, str]) -> str:
    return services[1]


@pytest.fixture()
def names() -> Iterator[Names]:
    """A prefix of its own for each test: its own topics, group and Redis keys."""
    yield Names(prefix=f"t{uuid.uuid4().hex[:10]}")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA_DIR
