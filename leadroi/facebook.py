"""The Kaggle Facebook ad campaigns as leadroi input: real spend and leads.

The data set has per-ad spend and conversion counts but no dates, no revenue and
no stated currency. The demo books every figure on one day (``BOOKED_ON``) in
USD, sums spend per campaign (the business key of a spend line is day, source,
medium, campaign) and turns each ad's ``Total_Conversion`` enquiries into that
many leads, each with one Facebook touch of its campaign.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

ADS_FILE = "kag_facebook_ad_conversion.csv"
BOOKED_ON = "2017-08-01"
CURRENCY = "USD"
SOURCE, MEDIUM = "facebook", "paid_social"


def _rows(data_dir: Path) -> list[dict[str, str]]:
    # The file starts with a byte order mark.
    with (data_dir / ADS_FILE).open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _cents(spent: str) -> Decimal:
    # Spend is stored as binary floats (1.429999948); cents are what was billed.
    return Decimal(spent).quantize(Decimal("0.01"), ROUND_HALF_EVEN)


def events(data_dir: Path) -> Iterator[dict[str, Any]]:
    rows = _rows(data_dir)
    spend: dict[str, Decimal] = {}
    for row in rows:
        campaign = row["xyz_campaign_id"]
        spend[campaign] = spend.get(campaign, Decimal(0)) + _cents(row["Spent"])

    for campaign, amount in sorted(spend.items()):
        yield {
            "type": "spend",
            "date": BOOKED_ON,
            "source": SOURCE,
            "medium": MEDIUM,
            "campaign": campaign,
            "amount": str(amount),
            "currency": CURRENCY,
            "event_id": f"fb-spend-{campaign}",
        }

    at = f"{BOOKED_ON}T12:00:00Z"
    for row in rows:
        for n in range(int(row["Total_Conversion"])):
            visitor = f"fb-{row['ad_id']}-{n}"
            yield {
                "type": "touch",
                "event_id": f"{visitor}-touch",
                "visitor_id": visitor,
                "occurred_at": at,
                "touch_kind": "click",
                "utm_source": SOURCE,
                "utm_medium": MEDIUM,
                "utm_campaign": row["xyz_campaign_id"],
                "utm_content": row["ad_id"],
            }
            yield {
                "type": "identify",
                "event_id": f"{visitor}-lead",
                "visitor_id": visitor,
                "lead_id": visitor,
                "occurred_at": at,
                "form": "enquiry",
            }


def event_count(data_dir: Path) -> int:
    rows = _rows(data_dir)
    campaigns = {row["xyz_campaign_id"] for row in rows}
    return len(campaigns) + 2 * sum(int(row["Total_Conversion"]) for row in rows)
