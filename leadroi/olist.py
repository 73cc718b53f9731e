"""The Olist marketing funnel (MQLs and closed deals) as leadroi input events.

Each MQL becomes an offline touch with the lead's declared origin and an identify
event on its first contact date; each closed deal becomes a won deal with the
seller's declared monthly revenue in BRL.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Olist's origin labels carry no medium; these are the media they stand for.
ORIGIN_MEDIUM = {
    "organic_search": "organic",
    "paid_search": "cpc",
    "social": "social",
    "email": "email",
    "referral": "referral",
    "display": "display",
    "direct_traffic": "(none)",
}
NOT_SET = "(not set)"
LEADS_FILE = "olist_marketing_qualified_leads.csv"
DEALS_FILE = "olist_closed_deals.csv"


def lead_events(data_dir: Path) -> Iterator[dict[str, Any]]:
    with (data_dir / LEADS_FILE).open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            mql = row["mql_id"]
            at = f"{row['first_contact_date']}T00:00:00Z"
            origin = row["origin"].strip() or NOT_SET
            yield {
                "type": "touch",
                "event_id": f"olist-touch-{mql}",
                "occurred_at": at,
                "visitor_id": mql,
                "touch_kind": "offline",
                "source": origin,
                "medium": ORIGIN_MEDIUM.get(origin, NOT_SET),
            }
            yield {
                "type": "identify",
                "event_id": f"olist-mql-{mql}",
                "occurred_at": at,
                "visitor_id": mql,
                "lead_id": mql,
                "form": "mql",
            }


def deal_events(data_dir: Path) -> Iterator[dict[str, Any]]:
    with (data_dir / DEALS_FILE).open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            won_at = row["won_date"].replace(" ", "T") + "Z"
            yield {
                "type": "deal",
                "event_id": f"olist-deal-{row['mql_id']}",
                "occurred_at": won_at,
                "closed_at": won_at,
                "deal_id": f"olist-{row['seller_id']}",
                "lead_id": row["mql_id"],
                "status": "won",
                "amount": row["declared_monthly_revenue"] or "0",
                "currency": "BRL",
            }


def events(data_dir: Path) -> Iterator[dict[str, Any]]:
    yield from lead_events(data_dir)
    yield from deal_events(data_dir)


def won_by_origin(data_dir: Path) -> dict[str, int]:
    """Won deals per origin counted straight from the CSVs: the figure the
    pipeline must reproduce. A deal won before its lead's first contact has no
    touch to credit and counts as unattributed."""
    with (data_dir / LEADS_FILE).open(newline="", encoding="utf-8") as handle:
        leads = {row["mql_id"]: row for row in csv.DictReader(handle)}
    counts: dict[str, int] = {}
    with (data_dir / DEALS_FILE).open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            lead = leads[row["mql_id"]]
            origin = lead["origin"].strip() or NOT_SET
            if row["won_date"][:10] < lead["first_contact_date"]:
                origin = "(unattributed)"
            counts[origin] = counts.get(origin, 0) + 1
    return counts


def event_count(data_dir: Path) -> int:
    """How many events ``events`` yields: a touch and an identify per lead, and
    one event per closed deal."""
    with (data_dir / LEADS_FILE).open(newline="", encoding="utf-8") as handle:
        leads = sum(1 for _ in csv.DictReader(handle))
    with (data_dir / DEALS_FILE).open(newline="", encoding="utf-8") as handle:
        deals = sum(1 for _ in csv.DictReader(handle))
    return 2 * leads + deals
