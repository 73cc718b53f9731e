"""The in-process engine: duplicates, arrival order and corrections."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from leadroi import olist
from schemas.validate import check_event
from streams.config import Settings
from streams.engine import Engine
from streams.normalize import normalise

KEY = b"test-key"


def wire(event: dict[str, Any]) -> dict[str, Any]:
    return normalise(check_event(event), 1_700_000_000_000, KEY)


def touch(eid: str, vid: str, at: str, url: str = "", ref: str = "") -> dict[str, Any]:
    return wire(
        {
            "type": "touch",
            "event_id": eid,
            "visitor_id": vid,
            "occurred_at": at,
            "url": url,
            "referrer": ref,
        }
    )


def identify(eid: str, vid: str, lead: str, at: str) -> dict[str, Any]:
    return wire(
        {
            "type": "identify",
            "event_id": eid,
            "visitor_id": vid,
            "lead_id": lead,
            "occurred_at": at,
        }
    )


def deal(
    eid: str, lead: str, amount: str, at: str, status: str = "won", deal_id: str = "D1"
) -> dict[str, Any]:
    return wire(
        {
            "type": "deal",
            "event_id": eid,
            "deal_id": deal_id,
            "lead_id": lead,
            "status": status,
            "amount": amount,
            "currency": "USD",
            "occurred_at": at,
            "closed_at": at,
        }
    )


def journey_events() -> list[dict[str, Any]]:
    return [
        touch(
            "t1",
            "v1",
            "2026-11-01T10:00:00Z",
            "https://x.test/?utm_source=google&utm_medium=cpc",
        ),
        touch(
            "t2",
            "v1",
            "2026-11-03T10:00:00Z",
            "https://x.test/?utm_source=news&utm_medium=email",
        ),
        identify("i1", "v1", "L1", "2026-11-03T10:05:00Z"),
        touch("t3", "v1", "2026-11-04T10:00:00Z", "", "https://www.bing.com/"),
        deal("d1", "L1", "300.00", "2026-11-10T00:00:00Z"),
    ]


def all_time(
    engine: Engine, scope: str, dimension: str = "source"
) -> dict[tuple[str, str], int]:
    return {
        (cell.value, cell.metric): amount
        for cell, amount in engine.totals().items()
        if cell.scope == scope and cell.dimension == dimension and cell.day == "all"
    }


def test_engine_linear_journey_splits_revenue_exactly() -> None:
    engine = Engine(Settings()).run(journey_events())

    linear = all_time(engine, "linear")

    assert linear[("google / cpc", "revenue:USD")] == 10000
    assert linear[("news / email", "revenue:USD")] == 10000
    assert linear[("bing / organic", "revenue:USD")] == 10000
    assert linear[("google / cpc", "won")] == 333334  # the remainder goes to the first
    assert linear[("news / email", "leads")] == 500000
    assert ("bing / organic", "leads") not in linear  # after the lead was created


def test_engine_duplicate_events_change_nothing() -> None:
    once = Engine(Settings()).run(journey_events()).totals()
    twice = Engine(Settings()).run(journey_events() + journey_events()).totals()

    assert twice == once


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_engine_any_arrival_order_gives_same_totals(seed: int) -> None:
    events = journey_events()
    shuffled = events[:]
    random.Random(seed).shuffle(shuffled)

    assert (
        Engine(Settings()).run(shuffled).totals()
        == Engine(Settings()).run(events).totals()
    )


def test_engine_corrected_deal_replaces_credit() -> None:
    events = [*journey_events(), deal("d2", "L1", "450.00", "2026-11-10T00:00:00Z")]
    events[-1]["occurred_at"] = "2026-11-11T00:00:00.000+00:00"

    last = all_time(Engine(Settings()).run(events), "last_touch")

    assert last[("bing / organic", "revenue:USD")] == 45000
    assert last[("bing / organic", "won")] == 1_000_000


def test_engine_deal_lost_later_removes_revenue() -> None:
    events = [
        *journey_events(),
        deal("d2", "L1", "0", "2026-11-12T00:00:00Z", status="lost"),
    ]

    first = all_time(Engine(Settings()).run(events), "first_touch")

    assert ("google / cpc", "revenue:USD") not in first
    assert first[("google / cpc", "lost")] == 1_000_000


def test_engine_deal_before_first_touch_is_unattributed() -> None:
    events = [
        deal("d1", "L9", "10.00", "2026-10-01T00:00:00Z"),
        touch(
            "t1",
            "v9",
            "2026-11-01T10:00:00Z",
            "https://x.test/?utm_source=a&utm_medium=b",
        ),
        identify("i9", "v9", "L9", "2026-11-01T10:00:00Z"),
    ]

    first = all_time(Engine(Settings()).run(events), "first_touch")

    assert first[("(unattributed)", "won")] == 1_000_000
    assert first[("a / b", "leads")] == 1_000_000


def test_engine_olist_won_deals_per_origin_equal_csv_count(data_dir: Path) -> None:
    import csv
    from collections import Counter

    with (data_dir / olist.LEADS_FILE).open() as handle:
        leads = list(csv.DictReader(handle))
    with (data_dir / olist.DEALS_FILE).open() as handle:
        deals = list(csv.DictReader(handle))
    origins = {r["mql_id"]: r["origin"] or "(not set)" for r in leads}
    first_contact = {r["mql_id"]: r["first_contact_date"] for r in leads}
    expected: Counter[str] = Counter()
    for row in deals:
        won_day = row["won_date"][:10]
        key = (
            origins[row["mql_id"]]
            if won_day >= first_contact[row["mql_id"]]
            else "(unattributed)"
        )
        expected[key] += 1

    engine = Engine(Settings(deal_lookback_days=0)).run(
        wire(e) for e in olist.events(data_dir)
    )
    won = {
        value.split(" / ")[0]: amount // 1_000_000
        for (value, metric), amount in all_time(engine, "first_touch").items()
        if metric == "won"
    }

    assert won == dict(expected)
    assert sum(won.values()) == 842
