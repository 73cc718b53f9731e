"""Sending events to a running tracker over HTTP, in batches."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import aiohttp
import orjson

from schemas.errors import LeadroiError


class TrackerUnavailable(LeadroiError):
    retryable = True


@dataclass
class ReplayResult:
    accepted: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def events_per_s(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0


def _batches(
    events: Iterable[dict[str, Any]], size: int
) -> Iterable[list[dict[str, Any]]]:
    iterator = iter(events)
    while batch := list(islice(iterator, size)):
        yield batch


async def post_events(
    base_url: str,
    events: Iterable[dict[str, Any]],
    batch_size: int = 500,
    concurrency: int = 4,
    on_batch: Callable[[int], None] | None = None,
) -> ReplayResult:
    """POST ``events`` to ``{base_url}/v1/batch``; retry a batch the tracker could
    not take (5xx, connection refused): event ids make a resend harmless."""
    result = ReplayResult()
    started = time.monotonic()
    queue: asyncio.Queue[list[dict[str, Any]] | None] = asyncio.Queue(
        maxsize=concurrency * 2
    )

    async def post(session: aiohttp.ClientSession, batch: list[dict[str, Any]]) -> None:
        for attempt in range(8):
            try:
                async with session.post(
                    f"{base_url}/v1/batch",
                    data=orjson.dumps({"events": batch}),
                    headers={"Content-Type": "application/json"},
                ) as response:
                    body = await response.read()
                    if response.status < 500:
                        _count(result, batch, response.status, body)
                        if on_batch:
                            on_batch(len(batch))
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(min(0.2 * 2**attempt, 5.0))
        raise TrackerUnavailable(
            f"tracker at {base_url} did not take a batch after 8 tries"
        )

    async def worker(session: aiohttp.ClientSession) -> None:
        while (batch := await queue.get()) is not None:
            await post(session, batch)

    async with aiohttp.ClientSession() as session:
        workers = [asyncio.create_task(worker(session)) for _ in range(concurrency)]
        for batch in _batches(events, batch_size):
            await queue.put(batch)
        for _ in workers:
            await queue.put(None)
        await asyncio.gather(*workers)

    result.seconds = time.monotonic() - started
    return result


def _count(
    result: ReplayResult, batch: list[dict[str, Any]], status: int, body: bytes
) -> None:
    answer = orjson.loads(body) if body else {}
    items = answer.get("results") if isinstance(answer, dict) else None
    if not isinstance(items, list):
        if status < 300:
            result.accepted += len(batch)
        else:
            result.rejected.append({"status": status, "body": answer})
        return
    for index, item in enumerate(items):
        if item.get("status") == "accepted":
            result.accepted += 1
        else:
            result.rejected.append({"index": index, **item})
