"""Builders of wire events for journey and identity tests.

Each builder returns the event as the tracker would put it on Kafka: checked
against its schema, then normalised (PII hashed, money in minor units).
``received`` is the tracker's clock, which allowed lateness reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from schemas.validate import check_event
from streams.config import Settings
from streams.engine import Engine
from streams.ledger import Cell
from streams.normalize import normalise
from streams.times import parse_ms

KEY = b"test-key"
RECEIVED = "2020-01-01T00:00:00Z"  # before every event time: never late


def wire(event: dict[str, Any], received: str = RECEIVED) -> dict[str, Any]:
    return normalise(check_event(event), parse_ms(received), KEY)


def touch(
    eid: str, vid: str, at: str, url: str = "", ref: str = "", **extra: Any
) -> dict[str, Any]:
    event = {"type": "touch", "event_id": eid, "visitor_id": vid, "occurred_at": at}
    event |= {"url": url, "referrer": ref} if url or ref else {}
    return {**event, **extra}


def tagged(
    eid: str, vid: str, at: str, source: str, medium: str, campaign: str = ""
) -> dict[str, Any]:
    """A touch whose tags were read already (an offline or server-side touch)."""
    tags = {"source": source, "medium": medium}
    return touch(eid, vid, at, touch_kind="offline", **tags, campaign=campaign)


def identify(eid: str, at: str, **ids: Any) -> dict[str, Any]:
    return {"type": "identify", "event_id": eid, "occurred_at": at, **ids}


def deal(
    eid: str, deal_id: str, at: str, amount: str, status: str = "won", **ids: Any
) -> dict[str, Any]:
    return {
        "type": "deal",
        "event_id": eid,
        "deal_id": deal_id,
        "status": status,
        "amount": amount,
        "currency": ids.pop("currency", "USD"),
        "occurred_at": at,
        "closed_at": ids.pop("closed_at", at),
        **ids,
    }


def call(eid: str, call_id: str, at: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": "call",
        "event_id": eid,
        "call_id": call_id,
        "occurred_at": at,
        **fields,
    }


def run(events: Iterable[dict[str, Any]], settings: Settings | None = None) -> Engine:
    """The engine after the events, each received at ``RECEIVED``."""
    return Engine(settings or Settings()).run(wire(e) for e in events)


def figures(
    engine: Engine, model: str, dimension: str = "channel", day: str = "all"
) -> dict[tuple[str, str], int]:
    """``(value, metric) -> amount`` of one model, dimension and day bucket."""
    return {
        (cell.value, cell.metric): amount
        for cell, amount in engine.totals().items()
        if (cell.scope, cell.dimension, cell.day) == (model, dimension, day)
    }


def metric_total(cells: Mapping[Cell, int], model: str, metric: str) -> int:
    """A metric summed over the channel dimension of one model, all time."""
    return sum(
        amount
        for cell, amount in cells.items()
        if (cell.scope, cell.dimension, cell.day, cell.metric)
        == (model, "channel", "all", metric)
    )
