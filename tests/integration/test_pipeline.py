"""End to end: HTTP tracker → Kafka → stream worker → Redis, on real services."""

from __future__ import annotations

import asyncio
from itertools import islice
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from leadroi import olist
from leadroi.drain import wait_drained
from leadroi.replay import post_events
from schemas.names import Names
from schemas.validate import check_event
from streams.config import Settings
from streams.engine import Engine
from streams.ledger import Cell
from streams.normalize import normalise
from tests.integration.conftest import WorkerProcess

pytestmark = pytest.mark.integration
SLICE_LEADS = 400


def olist_slice(data_dir: Path) -> list[dict[str, Any]]:
    leads = list(islice(olist.lead_events(data_dir), 2 * SLICE_LEADS))
    lead_ids = {e["lead_id"] for e in leads if e["type"] == "identify"}
    deals = [e for e in olist.deal_events(data_dir) if e["lead_id"] in lead_ids]
    assert len(deals) > 20
    return leads + deals


def expected_engine(events: list[dict[str, Any]], env: dict[str, str]) -> Engine:
    """The in-process engine run on the events as the tracker would send them."""
    wire = [normalise(check_event(e), 0, b"any") for e in events]
    return Engine(Settings.from_env(env)).run(wire)


def expected_cells(
    events: list[dict[str, Any]], env: dict[str, str]
) -> dict[Cell, int]:
    return expected_engine(events, env).totals()


def send_and_drain(
    url: str, events: list[dict[str, Any]], bootstrap: str, names: Names
) -> None:
    result = asyncio.run(post_events(url, events, batch_size=200))
    assert result.accepted == len(events), result.rejected[:3]
    asyncio.run(wait_drained(bootstrap, names, timeout_s=240))


def test_pipeline_olist_slice_redis_equals_in_process_then_resend_changes_nothing(
    worker: WorkerProcess,
    tracker_url: str,
    worker_env: dict[str, str],
    kafka_bootstrap: str,
    names: Names,
    redis_cells: Any,
    markov_settled: Any,
    data_dir: Path,
) -> None:
    events = olist_slice(data_dir)
    expected = expected_cells(events, worker_env)

    send_and_drain(tracker_url, events, kafka_bootstrap, names)
    markov_settled()
    first = redis_cells()
    send_and_drain(tracker_url, events, kafka_bootstrap, names)
    markov_settled()

    assert first == expected
    assert redis_cells() == expected


def test_pipeline_deals_before_touches_give_natural_order_figures(
    worker: WorkerProcess,
    tracker_url: str,
    worker_env: dict[str, str],
    kafka_bootstrap: str,
    names: Names,
    redis_cells: Any,
    markov_settled: Any,
    data_dir: Path,
) -> None:
    events = olist_slice(data_dir)
    deals_first = [e for e in events if e["type"] == "deal"] + [
        e for e in events if e["type"] != "deal"
    ]

    send_and_drain(tracker_url, deals_first, kafka_bootstrap, names)
    markov_settled()

    assert redis_cells() == expected_cells(events, worker_env)
    won = sum(
        v
        for c, v in redis_cells().items()
        if c.scope == "first_touch"
        and c.metric == "won"
        and c.day == "all"
        and c.dimension == "source"
        and c.value == "(unattributed)"
    )
    assert won == 0  # every deal of the slice found its touch after all


def _journey(lead: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "touch",
            "event_id": f"{lead}-t1",
            "visitor_id": f"{lead}-v",
            "occurred_at": "2026-11-01T10:00:00Z",
            "url": "https://www.example.com/?utm_source=google&utm_medium=cpc&utm_campaign=brand",
        },
        {
            "type": "touch",
            "event_id": f"{lead}-t2",
            "visitor_id": f"{lead}-v",
            "occurred_at": "2026-11-02T10:00:00Z",
            "url": "https://www.example.com/?utm_source=newsletter&utm_medium=email",
        },
        {
            "type": "identify",
            "event_id": f"{lead}-i",
            "visitor_id": f"{lead}-v",
            "lead_id": lead,
            "occurred_at": "2026-11-02T10:05:00Z",
        },
    ]


def _deal(lead: str, amount: str, at: str, status: str = "won") -> dict[str, Any]:
    return {
        "type": "deal",
        "deal_id": f"D-{lead}",
        "lead_id": lead,
        "status": status,
        "amount": amount,
        "currency": "USD",
        "occurred_at": at,
        "closed_at": "2026-11-20T00:00:00Z",
    }


def _revenue(cells: dict[Cell, int], model: str, value: str) -> int:
    return cells.get(Cell(model, "source", "all", value, "revenue:USD"), 0)


def test_pipeline_corrected_deal_replaces_earlier_credit(
    worker: WorkerProcess,
    tracker_url: str,
    kafka_bootstrap: str,
    names: Names,
    redis_cells: Any,
) -> None:
    send_and_drain(
        tracker_url,
        [*_journey("L1"), _deal("L1", "300.00", "2026-11-20T00:00:00Z")],
        kafka_bootstrap,
        names,
    )
    before = redis_cells()
    send_and_drain(
        tracker_url,
        [_deal("L1", "450.00", "2026-11-21T00:00:00Z")],
        kafka_bootstrap,
        names,
    )
    after = redis_cells()

    assert _revenue(before, "last_touch", "newsletter / email") == 30000
    assert _revenue(after, "last_touch", "newsletter / email") == 45000
    assert _revenue(after, "linear", "google / cpc") == 22500
    assert (
        after[Cell("first_touch", "source", "all", "google / cpc", "won")] == 1_000_000
    )


def test_pipeline_worker_restart_keeps_journeys(
    worker: WorkerProcess,
    tracker_url: str,
    kafka_bootstrap: str,
    names: Names,
    redis_cells: Any,
) -> None:
    send_and_drain(tracker_url, _journey("L2"), kafka_bootstrap, names)
    worker.stop()
    worker.start()
    send_and_drain(
        tracker_url,
        [_deal("L2", "100.00", "2026-11-20T00:00:00Z")],
        kafka_bootstrap,
        names,
    )

    cells = redis_cells()
    assert _revenue(cells, "first_touch", "google / cpc") == 10000
    assert _revenue(cells, "last_touch", "newsletter / email") == 10000
    assert _revenue(cells, "first_touch", "(unattributed)") == 0


async def test_pipeline_mixed_batch_keeps_valid_events_and_malformed_body_gets_400(
    worker: WorkerProcess,
    tracker_url: str,
    kafka_bootstrap: str,
    names: Names,
    redis_cells: Any,
) -> None:
    bad = {
        "type": "deal",
        "deal_id": "D-x",
        "status": "won",
        "amount": {"value": 12},
        "currency": "USD",
    }
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{tracker_url}/v1/events", data=b'{"type": "touch"'
        ) as resp:
            assert resp.status == 400
            assert "problems" in await resp.json() or "error" in await resp.json()
        async with session.post(
            f"{tracker_url}/v1/batch", json={"events": [*_journey("L3"), bad]}
        ) as resp:
            body = await resp.json()
            assert resp.status == 207
            statuses = [r["status"] for r in body["results"]]
            assert statuses == ["accepted", "accepted", "accepted", "rejected"]
            assert body["results"][3]["problems"][0]["field"] == "amount"

    await wait_drained(kafka_bootstrap, names, timeout_s=240)
    cells = redis_cells()
    assert (
        cells[Cell("first_touch", "source", "all", "google / cpc", "leads")]
        == 1_000_000
    )
    assert not any(c.metric == "won" for c in cells)
