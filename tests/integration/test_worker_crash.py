"""A worker killed (SIGKILL) while events flow must leave the figures exact.

Each journey joins a browser cookie to an e-mail, a second device to the same
e-mail, the e-mail to a CRM lead, and the lead to a deal: every step merges
identity nodes, so messages between nodes are in flight when the worker dies.
Events keep arriving through the tracker while the worker is killed and
restarted several times, at varied points; each restart reads the nodes
changelog and works off a backlog.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from typing import Any

import pytest

from leadroi.drain import wait_drained
from leadroi.replay import post_events
from schemas.names import Names
from tests.integration.conftest import WorkerProcess
from tests.integration.test_pipeline import expected_cells

pytestmark = pytest.mark.integration

LEADS = 320
CRASHES = 5
BATCH = 10
BATCH_INTERVAL_S = 0.3
URLS = (
    "https://www.example.com/?utm_source=google&utm_medium=cpc&utm_campaign=brand",
    "https://www.example.com/?utm_source=newsletter&utm_medium=email",
    "https://www.example.com/?utm_source=facebook&utm_medium=paid_social",
    "https://www.example.com/pricing",
)


def _at(day: int, minute: int) -> str:
    return f"2026-10-{day:02d}T{minute // 60:02d}:{minute % 60:02d}:00Z"


def journey(lead: int, rng: random.Random) -> list[dict[str, Any]]:
    """One person's events in the order they happen."""
    name = f"p{lead}"
    email = f"person.{lead}@example.org"
    day = rng.randrange(1, 10)
    events: list[dict[str, Any]] = []
    for n in range(rng.randrange(1, 4)):
        events.append(
            {
                "type": "touch",
                "event_id": f"{name}-a{n}",
                "visitor_id": f"{name}-a",
                "occurred_at": _at(day + n, 60 + n),
                "url": rng.choice(URLS),
            }
        )
    events.append(
        {
            "type": "identify",
            "event_id": f"{name}-form",
            "visitor_id": f"{name}-a",
            "email": email,
            "occurred_at": _at(day + 4, 0),
        }
    )
    if rng.random() < 0.5:
        events += [
            {
                "type": "touch",
                "event_id": f"{name}-b",
                "visitor_id": f"{name}-b",
                "occurred_at": _at(day + 5, 0),
                "url": rng.choice(URLS),
            },
            {
                "type": "identify",
                "event_id": f"{name}-form-b",
                "visitor_id": f"{name}-b",
                "email": email.upper(),
                "occurred_at": _at(day + 5, 3),
            },
        ]
    events.append(
        {
            "type": "identify",
            "event_id": f"{name}-crm",
            "lead_id": f"L-{lead}",
            "email": email,
            "occurred_at": _at(day + 6, 0),
        }
    )
    if rng.random() < 0.5:
        events.append(
            {
                "type": "deal",
                "deal_id": f"D-{lead}",
                "lead_id": f"L-{lead}",
                "status": "won",
                "amount": f"{rng.randrange(100, 2000)}.00",
                "currency": "USD",
                "occurred_at": _at(day + 8, 0),
                "closed_at": _at(day + 8, 0),
            }
        )
    return events


def interleaved(leads: int, seed: int) -> list[dict[str, Any]]:
    """Every journey, interleaved as many people's visits are, each in order."""
    rng = random.Random(seed)
    pending = [journey(lead, rng) for lead in range(leads)]
    events: list[dict[str, Any]] = []
    while pending:
        person = rng.choice(pending)
        events.append(person.pop(0))
        if not person:
            pending.remove(person)
    return events


def test_worker_crash_while_events_flow_leaves_figures_exact(
    worker: WorkerProcess,
    tracker_url: str,
    worker_env: dict[str, str],
    kafka_bootstrap: str,
    names: Names,
    redis_cells: Any,
) -> None:
    events = interleaved(LEADS, seed=7)
    batches = [events[i : i + BATCH] for i in range(0, len(events), BATCH)]
    crashes_done = threading.Event()
    posted: list[int] = []

    def stream() -> None:
        # A steady trickle while the worker dies and restarts (each restart
        # then has both a backlog and fresh events), the rest at once after.
        for batch in batches:
            if not crashes_done.is_set():
                time.sleep(BATCH_INTERVAL_S)
            result = asyncio.run(post_events(tracker_url, batch, batch_size=BATCH))
            posted.append(result.accepted)

    poster = threading.Thread(target=stream)
    poster.start()
    rng = random.Random(11)
    try:
        for _ in range(CRASHES):
            time.sleep(rng.uniform(0.5, 2.5))
            worker.kill()
            time.sleep(rng.uniform(0.2, 1.0))
            worker.start()
    finally:
        crashes_done.set()
        poster.join()
    assert sum(posted) == len(events)
    asyncio.run(wait_drained(kafka_bootstrap, names, timeout_s=60))

    assert redis_cells() == expected_cells(events, worker_env)
