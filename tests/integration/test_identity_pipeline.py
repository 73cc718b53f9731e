"""Cross-device identity end to end: HTTP tracker → Kafka → workers → Redis.

Field cases F12 (a lost cookie) and F25 (one e-mail written several ways, a
call, a CRM deal) with a CRM lead id joining in late, and a headless browser
that must not become a lead, sent the way browsers and webhooks send them.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from leadroi.drain import wait_drained
from schemas.names import Names
from streams.engine import Engine
from streams.ledger import Cell
from streams.times import parse_ms
from tests.integration.conftest import WorkerProcess
from tests.integration.test_pipeline import expected_engine
from tests.integration.tracker_support import read_topics
from tracker.hits import pixel_event

pytestmark = pytest.mark.integration

SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Safari/605.1.15"
)
HEADLESS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/120.0.0.0 Safari/537.36"
)
PAID = "https://www.example.com/?utm_source=google&utm_medium=cpc&utm_campaign=brand"


def pixel(vid: str, eid: str, at: str, url: str, ref: str = "") -> dict[str, str]:
    params = {"vid": vid, "eid": eid, "ts": str(parse_ms(at)), "url": url}
    return params | ({"ref": ref} if ref else {})


PIXELS = [
    (
        pixel("a1", "a1-px", "2026-11-01T08:00:00Z", PAID, "https://www.google.com/"),
        SAFARI,
    ),
    (
        pixel("a2", "a2-px", "2026-11-12T19:30:00Z", "https://www.example.com/demo"),
        SAFARI,
    ),
    (
        pixel(
            "v2501",
            "v2501-px",
            "2026-11-02T09:00:00Z",
            "https://www.example.com/?utm_source=news&utm_medium=email",
        ),
        SAFARI,
    ),
    (pixel("b1", "b1-px", "2026-11-03T09:00:00Z", PAID), HEADLESS),
]
EVENTS: list[dict[str, Any]] = [
    {
        "type": "identify",
        "event_id": "a1-form",
        "visitor_id": "a1",
        "form": "newsletter",
        "email": "jo.park@example.org",
        "occurred_at": "2026-11-01T08:03:00Z",
    },
    {
        "type": "identify",
        "event_id": "a2-form",
        "visitor_id": "a2",
        "form": "demo",
        "email": " Jo.Park@Example.org",
        "occurred_at": "2026-11-12T19:34:00Z",
    },
    {
        "type": "deal",
        "event_id": "d-12",
        "deal_id": "D-12",
        "lead_id": "L-12",
        "status": "won",
        "amount": "900.00",
        "currency": "USD",
        "occurred_at": "2026-11-20T10:00:00Z",
    },
    {
        "type": "identify",
        "event_id": "crm-12",
        "lead_id": "L-12",
        "email": "JO.PARK@example.org",
        "occurred_at": "2026-11-13T00:00:00Z",
    },
    {
        "type": "identify",
        "event_id": "v2501-form",
        "visitor_id": "v2501",
        "email": "sam.lee@example.com",
        "occurred_at": "2026-11-02T09:05:00Z",
    },
    {
        "type": "identify",
        "event_id": "v2502-form",
        "visitor_id": "v2502",
        "email": "SAM.LEE@EXAMPLE.COM",
        "occurred_at": "2026-11-03T09:05:00Z",
    },
    {
        "type": "call",
        "event_id": "c-77",
        "call_id": "c-77",
        "caller": "+14155550111",
        "email": "  Sam.Lee@Example.com\t",
        "occurred_at": "2026-11-04T09:05:00Z",
    },
    {
        "type": "identify",
        "event_id": "v2503-form",
        "visitor_id": "v2503",
        "email": "sam.lee+promo@example.com",
        "occurred_at": "2026-11-05T09:05:00Z",
    },
    {
        "type": "deal",
        "event_id": "d-2501",
        "deal_id": "D-2501",
        "status": "won",
        "email": "sam.lee@EXAMPLE.com",
        "amount": "700.00",
        "currency": "USD",
        "occurred_at": "2026-11-06T10:00:00Z",
    },
    {
        "type": "identify",
        "event_id": "b1-form",
        "visitor_id": "b1",
        "email": "jo.park@example.org",
        "occurred_at": "2026-11-03T09:01:00Z",
    },
]


def expected(env: dict[str, str]) -> Engine:
    browser = [pixel_event(params, params["vid"], agent)[0] for params, agent in PIXELS]
    return expected_engine([*browser, *EVENTS], env)


async def send_all(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for params, agent in PIXELS:
            headers = {"User-Agent": agent}
            async with session.get(f"{url}/t/px", params=params, headers=headers) as r:
                assert r.status == 200
        for event in EVENTS:
            async with session.post(f"{url}/v1/events", json=event) as response:
                assert response.status == 202, await response.text()


def channel_metric(cells: dict[Cell, int], model: str, metric: str) -> dict[str, int]:
    return {
        cell.value: amount
        for cell, amount in cells.items()
        if (cell.scope, cell.dimension, cell.day, cell.metric)
        == (model, "channel", "all", metric)
    }


def test_identity_cross_device_leads_in_redis_equal_engine_and_count_once(
    worker: WorkerProcess,
    tracker_url: str,
    worker_env: dict[str, str],
    kafka_bootstrap: str,
    names: Names,
    redis_cells: Any,
) -> None:
    engine = expected(worker_env)

    asyncio.run(send_all(tracker_url))
    asyncio.run(wait_drained(kafka_bootstrap, names, timeout_s=240))
    first = redis_cells()
    asyncio.run(send_all(tracker_url))
    asyncio.run(wait_drained(kafka_bootstrap, names, timeout_s=240))

    assert first == engine.totals()
    assert redis_cells() == first
    leads = channel_metric(first, "first_touch", "leads")
    assert sum(leads.values()) == 3_000_000  # Jo, Sam, and Sam's +promo address
    assert leads["Paid Search"] == 1_000_000  # Jo, from the first cookie
    assert "Direct" not in leads
    assert channel_metric(first, "last_touch", "revenue:USD") == {
        "Direct": 90000,  # Jo's last visit before D-12
        "Email": 70000,  # Sam's newsletter visit before D-2501
    }
    assert channel_metric(first, "last_touch", "won") == {
        "Direct": 1_000_000,
        "Email": 1_000_000,
    }
    assert len(engine.leads()) == 3 and "lead:L-12" in engine.leads()


def test_identity_merges_are_logged_on_their_topic(
    worker: WorkerProcess,
    tracker_url: str,
    kafka_bootstrap: str,
    names: Names,
    redis_cells: Any,
) -> None:
    asyncio.run(send_all(tracker_url))
    asyncio.run(wait_drained(kafka_bootstrap, names, timeout_s=240))

    messages = asyncio.run(read_topics(kafka_bootstrap, [names.merges], count=8))

    losers = {m.value["loser"]: m.value for m in messages}
    assert {"visitor:a1", "visitor:a2", "visitor:v2501", "visitor:v2502"} <= set(losers)
    assert "visitor:b1" not in losers
    assert losers["visitor:a2"]["event"] == "a2-form"
    assert all(m.key == str(m.value["winner"]).encode() for m in messages)
    assert any(m.value["winner"] == "lead:L-12" for m in messages)
