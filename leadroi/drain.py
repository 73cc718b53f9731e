"""Waiting until the stream workers have processed everything sent so far."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from leadroi.store import Store
from schemas.names import Names
from streams.topics import consumer_lag


async def wait_drained(
    bootstrap: str, names: Names, timeout_s: float = 300.0, poll_s: float = 1.0
) -> float:
    """Block until the workers' lag is zero twice in a row; return seconds waited.

    Twice, because a worker commits a source offset before the lead events it
    forwarded for it are counted in the next topic's end offsets.
    """
    topics = [
        names.touches,
        names.identities,
        names.crm,
        names.spend,
        names.lead_events,
    ]
    started = time.monotonic()
    quiet = 0
    while quiet < 2:
        if time.monotonic() - started > timeout_s:
            raise TimeoutError(f"workers still lagging after {timeout_s:.0f} s")
        lag = await consumer_lag(bootstrap, names.app_id, topics)
        quiet = quiet + 1 if lag == 0 else 0
        await asyncio.sleep(poll_s)
    return time.monotonic() - started


async def wait_markov(
    store: Store, after_ms: int, timeout_s: float = 120.0, poll_s: float = 0.5
) -> dict[str, Any]:
    """Block until the leader has a Markov generation whose inputs were read at
    or after ``after_ms`` (epoch milliseconds); return its model."""
    started = time.monotonic()
    while True:
        model = await store.markov_model()
        if model is not None and model["generated_at_ms"] >= after_ms:
            return model
        if time.monotonic() - started > timeout_s:
            raise TimeoutError(
                f"no Markov generation newer than {after_ms} after {timeout_s:.0f} s;"
                " expected one every LEADROI_MARKOV_INTERVAL_S on the leader"
            )
        await asyncio.sleep(poll_s)
