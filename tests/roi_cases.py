"""Events that build the ROI tables of the tests, through the real engine."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from schemas.validate import check_event
from streams.config import Settings
from streams.engine import Engine
from streams.ledger import Cell
from streams.normalize import normalise


def cells_of(events: Iterable[Mapping[str, Any]]) -> dict[Cell, int]:
    """The aggregate cells the stream workers would keep for ``events``."""
    wire = (normalise(check_event(dict(e)), 0, b"k") for e in events)
    return Engine(Settings()).run(wire).totals()


def spend(
    day: str, source: str, medium: str, amount: str, currency: str = "USD"
) -> dict[str, Any]:
    return {
        "type": "spend",
        "date": day,
        "source": source,
        "medium": medium,
        "amount": amount,
        "currency": currency,
    }


def lead(lead_id: str, at: str, *touches: tuple[str, str]) -> list[dict[str, Any]]:
    """A visitor's touches (source, medium), a minute apart, then its identify."""
    events: list[dict[str, Any]] = [
        {
            "type": "touch",
            "event_id": f"{lead_id}-touch-{i}",
            "visitor_id": f"v-{lead_id}",
            "occurred_at": f"{at}T10:0{i}:00Z",
            "source": source,
            "medium": medium,
        }
        for i, (source, medium) in enumerate(touches)
    ]
    events.append(
        {
            "type": "identify",
            "event_id": f"{lead_id}-identify",
            "visitor_id": f"v-{lead_id}",
            "occurred_at": f"{at}T10:09:00Z",
            "lead_id": lead_id,
        }
    )
    return events


def deal(
    lead_id: str, at: str, status: str, amount: str = "0", currency: str = "USD"
) -> dict[str, Any]:
    return {
        "type": "deal",
        "event_id": f"{lead_id}-deal",
        "deal_id": f"D-{lead_id}",
        "lead_id": lead_id,
        "status": status,
        "amount": amount,
        "currency": currency,
        "occurred_at": f"{at}T15:00:00Z",
    }


def refund(
    lead_id: str, at: str, amount: str, refunded: str, currency: str = "USD"
) -> dict[str, Any]:
    """A later revision of ``deal(lead_id, ...)``: still won, ``refunded`` so far."""
    return deal(lead_id, at, "won", amount, currency) | {
        "event_id": f"{lead_id}-refund-{refunded}-{at}",
        "refunded_amount": refunded,
    }


def f17_events() -> list[dict[str, Any]]:
    """Field case F17: spend without leads, leads without spend, a CPL week."""
    events = [spend("2026-11-30", "linkedin", "paid_social", "250.00")]

    events.append(spend("2026-11-30", "newsletter", "email", "0.00"))
    for n in range(3):
        events += lead(f"news-{n}", "2026-11-30", ("newsletter", "email"))
    events.append(deal("news-0", "2026-11-30", "won", "1200.00"))

    events.append(spend("2026-11-23", "google", "cpc", "100.00"))
    for n in range(10):
        events += lead(f"gads-a{n}", "2026-11-23", ("google", "cpc"))
    events.append(spend("2026-11-24", "google", "cpc", "50.00"))
    events += lead("gads-b0", "2026-11-24", ("google", "cpc"))
    return events


HOSTILE_SOURCE = "<img src=x onerror=window.__xss=1>"


def showcase_events() -> list[dict[str, Any]]:
    """F17 plus paid sources that earn, a journey the models split differently,
    revenue in a second currency, and a source label that is markup."""
    events = f17_events()

    events.append(spend("2026-11-25", "bing", "cpc", "800.00"))
    events += lead("bing-0", "2026-11-25", ("bing", "cpc"))
    events += lead("bing-1", "2026-11-25", ("bing", "cpc"))
    events.append(deal("bing-0", "2026-11-28", "won", "3000.00"))
    events.append(deal("bing-1", "2026-11-29", "lost"))

    events.append(spend("2026-11-26", "facebook", "paid_social", "400.00"))
    events += lead(
        "fb-0", "2026-11-26", ("facebook", "paid_social"), ("newsletter", "email")
    )
    events.append(deal("fb-0", "2026-11-30", "won", "900.00"))

    events.append(spend("2026-11-26", "instagram", "cpc", "1000.00", "BRL"))
    events += lead("ig-0", "2026-11-26", ("instagram", "cpc"))
    events.append(deal("ig-0", "2026-11-29", "won", "2500.00", "BRL"))

    events += lead("odd-0", "2026-11-27", (HOSTILE_SOURCE, "referral"))
    return events
