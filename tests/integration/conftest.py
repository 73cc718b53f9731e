"""A real stream worker process per test, on the test's own topics and keys."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from leadroi.drain import wait_markov
from leadroi.store import Store
from schemas.names import SEP, Names
from streams.ledger import Cell
from streams.topics import ensure_topics

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")  # Debian's package, installed by deploy/
CHROMIUM_ARGS = [
    # Chromium's own background traffic would only hit the closed network.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-gpu",
    "--disable-dev-shm-usage",
]
PARTITIONS = 2


class WorkerProcess:
    """``leadroi worker`` as a subprocess; start it again to test restarts."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 90.0) -> None:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "leadroi.cli", "worker"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            text = self.log_path.read_bytes()[offset:].decode(errors="replace")
            if "Worker]: Ready" in text:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(
            f"worker did not become ready; log:\n{self.log_text()[-4000:]}"
        )

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        """Crash the worker: SIGKILL, no shutdown, nothing flushed or committed."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.kill()
        self.proc.wait()

    def log_text(self) -> str:
        return (
            self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        )


@pytest.fixture()
def worker_env(
    kafka_bootstrap: str, redis_url: str, names: Names, tmp_path: Path
) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        LEADROI_KAFKA_BOOTSTRAP=kafka_bootstrap,
        LEADROI_REDIS_URL=redis_url,
        LEADROI_PREFIX=names.prefix,
        LEADROI_PARTITIONS=str(PARTITIONS),
        LEADROI_WORKER_DATADIR=str(tmp_path / "worker"),
        LEADROI_DEAL_LOOKBACK_DAYS="0",
        LEADROI_MARKOV_INTERVAL_S="1",
    )
    asyncio.run(ensure_topics(kafka_bootstrap, names, PARTITIONS))
    return env


@pytest.fixture()
def worker(worker_env: dict[str, str], tmp_path: Path) -> Iterator[WorkerProcess]:
    process = WorkerProcess(worker_env, tmp_path / "worker.log")
    process.start()
    yield process
    process.stop()
    errors = [line for line in process.log_text().splitlines() if "Crashed" in line]
    assert not errors, "\n".join(errors)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def tracker_url(worker_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {**worker_env, "LEADROI_TRACKER_PORT": str(port)}
    env["LEADROI_HASH_KEY"] = "test"
    log_path = tmp_path / "tracker.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "leadroi.cli", "tracker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            assert proc.poll() is None, log_path.read_text()
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture()
def redis_cells(
    redis_url: str, names: Names
) -> Iterator[Callable[[], dict[Cell, int]]]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)

    def read() -> dict[Cell, int]:
        cells: dict[Cell, int] = {}
        for key in client.scan_iter(f"{names.prefix}:agg:*", count=1000):
            _, _, scope, dimension, day = key.split(":", 4)
            for field, value in client.hgetall(key).items():
                label, metric = field.split(SEP)
                cells[Cell(scope, dimension, day, label, metric)] = int(value)
        return cells

    yield read
    for key in client.scan_iter(f"{names.prefix}:*", count=1000):
        client.delete(key)
    client.close()


@pytest.fixture()
def markov_settled(redis_url: str, names: Names) -> Callable[[], dict[str, Any]]:
    """Wait for a Markov generation that read its inputs after this call, and
    return its model: call it once the pipeline has drained."""

    async def wait(after_ms: int) -> dict[str, Any]:
        store = Store.from_url(redis_url, names)
        try:
            return await wait_markov(store, after_ms, timeout_s=60)
        finally:
            await store.aclose()

    return lambda: asyncio.run(wait(int(time.time() * 1000)))


Send = Callable[[list[dict[str, Any]]], None]
