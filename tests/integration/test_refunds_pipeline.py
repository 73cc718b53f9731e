"""Field case F15 end to end: HTTP tracker → Kafka → worker → Redis → report."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import aiohttp
import orjson
import pytest
from click.testing import CliRunner

from leadroi.cli import main
from schemas.names import Names
from streams.ledger import Cell
from tests.integration.conftest import WorkerProcess
from tests.integration.test_pipeline import expected_cells, send_and_drain
from tests.integration.tracker_support import read_topics

pytestmark = pytest.mark.integration

NEGATIVE_WON = "negative amount on a won deal; send a refund instead"


def _journey(lead: str, *tags: str) -> list[dict[str, Any]]:
    """Touches tagged ``source/medium`` an hour apart from 2026-11-01 08:00 UTC,
    then the identify that makes the visitor lead ``lead``."""
    events: list[dict[str, Any]] = [
        {
            "type": "touch",
            "event_id": f"{lead}-t{i}",
            "visitor_id": f"{lead}-v",
            "occurred_at": f"2026-11-01T{8 + i:02d}:00:00Z",
            "url": f"https://www.example.com/?utm_source={source}&utm_medium={medium}",
        }
        for i, (source, medium) in enumerate(tag.split("/") for tag in tags)
    ]
    events.append(
        {
            "type": "identify",
            "event_id": f"{lead}-i",
            "visitor_id": f"{lead}-v",
            "lead_id": lead,
            "occurred_at": "2026-11-01T18:00:00Z",
        }
    )
    return events


def _deal(deal_id: str, lead: str, amount: str, at: str, **more: str) -> dict[str, Any]:
    return {
        "type": "deal",
        "deal_id": deal_id,
        "lead_id": lead,
        "status": "won",
        "amount": amount,
        "currency": "USD",
        "occurred_at": at,
        **more,
    }


SALES = [
    *_journey("L-15", "google/cpc", "newsletter/email"),
    _deal("D-1501", "L-15", "20000.00", "2026-11-02T12:00:00Z"),
    *_journey("L-16", "bing/cpc"),
    _deal("D-1502", "L-16", "0.00", "2026-11-21T12:00:00Z"),  # free pilot
    *_journey("L-17", "yahoo/cpc"),
]
REFUND = _deal(
    "D-1501", "L-15", "20000.00", "2026-11-20T09:00:00Z", refunded_amount="20000.00"
)
NEGATIVE = _deal("D-1503", "L-17", "-500.00", "2026-11-22T12:00:00Z")


async def _post_negative(tracker_url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{tracker_url}/v1/events", json=NEGATIVE) as resp:
            return resp.status, await resp.json()


def _report(redis_url: str, names: Names) -> dict[str, Any]:
    env = {"LEADROI_REDIS_URL": redis_url, "LEADROI_PREFIX": names.prefix}
    args = ["report", "--model", "linear", "--window", "30d"]
    args += ["--as-of", "2026-11-30", "--format", "json"]
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = orjson.loads(result.output)
    return report


def test_f15_refund_through_tracker_and_worker_nets_zero_and_keeps_gross(
    worker: WorkerProcess,
    tracker_url: str,
    worker_env: dict[str, str],
    kafka_bootstrap: str,
    redis_url: str,
    names: Names,
    redis_cells: Any,
) -> None:
    send_and_drain(tracker_url, SALES, kafka_bootstrap, names)
    status, body = asyncio.run(_post_negative(tracker_url))
    send_and_drain(tracker_url, [REFUND], kafka_bootstrap, names)
    cells = redis_cells()

    assert status == 400
    assert body["problems"] == [{"field": "amount", "reason": NEGATIVE_WON}]
    assert cells == expected_cells([*SALES, REFUND], worker_env)

    def linear(day: str, value: str, metric: str) -> int:
        return int(cells.get(Cell("linear", "source", day, value, metric), 0))

    for value in ("google / cpc", "newsletter / email"):
        assert linear("2026-11-02", value, "revenue:USD") == 1_000_000
        assert linear("2026-11-20", value, "refunds:USD") == 1_000_000
        assert linear("all", value, "revenue:USD") == 1_000_000
        assert linear("all", value, "refunds:USD") == 1_000_000
    assert linear("all", "bing / cpc", "won") == 1_000_000
    assert linear("all", "bing / cpc", "revenue:USD") == 0
    assert not any(c.value == "yahoo / cpc" and c.metric == "won" for c in cells)

    rows = {row["value"]: row for row in _report(redis_url, names)["rows"]}
    for value in ("google / cpc", "newsletter / email"):
        money = [rows[value][f] for f in ("revenue", "refunds", "net_revenue")]
        assert money == ["10000.00", "10000.00", "0.00"]
    assert rows["bing / cpc"]["won"] == "1"
    assert Decimal(rows["yahoo / cpc"]["won"]) == 0

    letters = asyncio.run(read_topics(kafka_bootstrap, [names.deadletter], 1))
    [letter] = [m.value for m in letters]
    assert (letter["kind"], letter["reason"]) == ("deal", "invalid_event")
    assert letter["problems"] == [{"field": "amount", "reason": NEGATIVE_WON}]
    assert orjson.loads(str(letter["raw"]))["deal_id"] == "D-1503"
