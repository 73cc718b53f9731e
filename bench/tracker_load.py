"""Events per second through the tracker into a real broker, on loopback.

Starts ``leadroi tracker`` in a child process with topics of its own, sends a
fixed number of events with a bounded number of concurrent requests, prints the
figures and stops the child:

    python bench/tracker_load.py --bootstrap 127.0.0.1:39092 --mode batch
    python bench/tracker_load.py --bootstrap 127.0.0.1:39092 --mode single
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from typing import Any

import aiohttp
import orjson


def event(n: int) -> dict[str, Any]:
    return {
        "type": "touch",
        "visitor_id": f"v{n % 5000}",
        "url": f"https://www.example.com/p/{n}?utm_source=google&utm_medium=cpc",
        "referrer": "https://www.google.com/",
    }


async def wait_healthy(base: str, timeout_s: float = 30.0) -> None:
    async with aiohttp.ClientSession() as http:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                async with http.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"tracker at {base} not healthy within {timeout_s}s")


async def load(
    base: str, mode: str, total: int, concurrency: int, batch_size: int
) -> tuple[float, list[float], int]:
    """Seconds taken, per-request latencies, and events the tracker accepted."""
    per_request = batch_size if mode == "batch" else 1
    requests = [
        orjson.dumps(
            {"events": [event(n) for n in range(i, i + batch_size)]}
            if mode == "batch"
            else event(i)
        )
        for i in range(0, total, per_request)
    ]
    path = "/v1/batch" if mode == "batch" else "/v1/events"
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in requests:
        queue.put_nowait(body)
    latencies: list[float] = []
    accepted = 0

    async def worker(http: aiohttp.ClientSession) -> None:
        nonlocal accepted
        while not queue.empty():
            body = queue.get_nowait()
            started = time.perf_counter()
            async with http.post(f"{base}{path}", data=body) as response:
                answer = await response.read()
                if response.status not in (200, 202):
                    raise SystemExit(f"HTTP {response.status}: {answer[:300]!r}")
            latencies.append(time.perf_counter() - started)
            accepted += per_request

    connector = aiohttp.TCPConnector(limit=concurrency)
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as http:
        started = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return elapsed, latencies, accepted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:19092")
    parser.add_argument("--mode", choices=("single", "batch"), default="batch")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--port", type=int, default=38089)
    args = parser.parse_args()

    prefix = f"bench{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "LEADROI_KAFKA_BOOTSTRAP": args.bootstrap,
        "LEADROI_PREFIX": prefix,
        "LEADROI_HASH_KEY": "bench",
        "LEADROI_TRACKER_PORT": str(args.port),
    }
    command = [sys.executable, "-m", "tracker.main"]
    child = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{args.port}"
    try:
        asyncio.run(wait_healthy(base))
        elapsed, latencies, accepted = asyncio.run(
            load(base, args.mode, args.events, args.concurrency, args.batch_size)
        )
    finally:
        child.terminate()
        child.wait(timeout=30)

    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"mode={args.mode} events={accepted} concurrency={args.concurrency}"
        + (f" batch_size={args.batch_size}" if args.mode == "batch" else "")
        + f" topics={prefix}.*"
    )
    print(f"  {accepted / elapsed:,.0f} events/s over {elapsed:.2f}s")
    print(
        f"  request latency ms: p50 {cuts[49] * 1000:.1f}"
        f"  p99 {cuts[98] * 1000:.1f}  max {max(latencies) * 1000:.1f}"
    )


if __name__ == "__main__":
    main()
