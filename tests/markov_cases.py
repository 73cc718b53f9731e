"""Journeys as tracker events and as the export ``leadroi analyze events`` reads.

ChannelAttribution's paths become a few hundred journeys of leads (a lead may
win several deals, and may end with an open journey), and DP6's repeat-purchase
fixture adds its five users. Every touch names its channel in ``source``, and a
rule file maps each such source to a channel of the same name, so the stream
and the export agree on channels. A deal closes at its journey's last touch, as
a converting row of the export is its journey's last touch.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from streams.batch import EventRow
from streams.ledger import ALL_TIME, Cell
from streams.times import parse_ms

BASE = datetime(2026, 1, 5, tzinfo=UTC)
TOUCH_GAP = timedelta(hours=5)
CENT = Decimal("0.01")
DP6_VALUE = "25.00"
EXPORT_HEADER = ("user", "time", "channel", "converted", "value")
# The export's columns, as ``leadroi analyze events`` options.
ANALYZE_COLUMNS = [
    f"--{option}-col={column}"
    for option, column in zip(
        ("user", "time", "channel", "conversion", "value"), EXPORT_HEADER, strict=True
    )
]
# (model, channel, metric) -> credit units or minor units, all time.
Figures = dict[tuple[str, str, str], int]


@dataclass
class Journey:
    channels: list[str]
    value: str | None  # None: the journey does not convert


# A touch of a lead: when, its channel, and the value of the won deal it closes.
LeadTouch = tuple[datetime, str, str | None]


@dataclass
class Case:
    """Tracker events, and the same touches as export rows."""

    events: list[dict[str, Any]] = field(default_factory=list)
    export: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    channels: set[str] = field(default_factory=set)

    def add_lead(self, lead: str, touches: list[LeadTouch]) -> None:
        for i, (at, channel, value) in enumerate(touches):
            moment = at.isoformat().replace("+00:00", "Z")
            self.events.append(
                {
                    "type": "touch",
                    "event_id": f"{lead}-{i}",
                    "visitor_id": f"v-{lead}",
                    "lead_id": lead,
                    "occurred_at": moment,
                    "touch_kind": "offline",
                    "source": channel,
                    "medium": "journey",
                }
            )
            converted = "0" if value is None else "1"
            self.export.append((lead, moment, channel, converted, value or ""))
            self.channels.add(channel)
            if value is not None:
                self.events.append(_won(lead, i, moment, value))

    def export_csv(self, path: Path) -> Path:
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(EXPORT_HEADER)
            writer.writerows(self.export)
        return path

    def event_rows(self) -> list[EventRow]:
        """The export as the batch analyzer reads it (values in cents)."""
        return [
            EventRow(
                line,
                user,
                parse_ms(at),
                channel,
                flag == "1",
                int(value.replace(".", "")) if value else 0,
            )
            for line, (user, at, channel, flag, value) in enumerate(self.export, 2)
        ]

    def rules_file(self, path: Path) -> Path:
        """A channel rule set naming each channel after the source it comes from."""
        rules = [
            {"name": f"r{i}", "channel": c, "all": [{"field": "source", "equals": c}]}
            for i, c in enumerate(sorted(self.channels))
        ]
        path.write_text(json.dumps({"version": "markov-case-1", "rules": rules}))
        return path


def channel_figures(cells: dict[Cell, int]) -> Figures:
    """Won deals and revenue per model and channel, all time, from cells."""
    return {
        (c.scope, c.value, c.metric): amount
        for c, amount in cells.items()
        if c.dimension == "channel"
        and c.day == ALL_TIME
        and c.metric in ("won", "revenue:USD")
    }


def _won(lead: str, i: int, moment: str, amount: str) -> dict[str, Any]:
    return {
        "type": "deal",
        "event_id": f"{lead}-deal-{i}",
        "deal_id": f"{lead}-{i}",
        "lead_id": lead,
        "status": "won",
        "amount": amount,
        "currency": "USD",
        "occurred_at": moment,
        "closed_at": moment,
    }


def _path_journeys(data_dir: Path, journeys: int) -> list[Journey]:
    found: list[Journey] = []
    with (data_dir / "channelattribution_paths.csv").open(newline="") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            channels = [c.strip() for c in row["path"].split(">")]
            conversions, nulls = int(row["total_conversions"]), int(row["total_null"])
            if conversions:
                each = Decimal(row["total_conversion_value"]) / conversions
                value = str(each.quantize(CENT, rounding=ROUND_HALF_EVEN))
                found.extend(Journey(channels, value) for _ in range(conversions))
            found.extend(Journey(channels, None) for _ in range(nulls))
            if len(found) >= journeys:
                break
    return found


def _timed(start: datetime, journeys: list[Journey]) -> list[LeadTouch]:
    touches: list[LeadTouch] = []
    for journey in journeys:
        last = len(journey.channels) - 1
        for i, channel in enumerate(journey.channels):
            at = start + TOUCH_GAP * len(touches)
            touches.append((at, channel, journey.value if i == last else None))
    return touches


def path_case(data_dir: Path, journeys: int = 300, seed: int = 7) -> Case:
    """Paths' journeys shuffled into leads of one to three deals, a lead ending
    at its first open journey; then DP6's users."""
    pool = _path_journeys(data_dir, journeys)
    random.Random(seed).shuffle(pool)
    groups: list[list[Journey]] = [[]]
    for journey in pool:
        groups[-1].append(journey)
        if journey.value is None or len(groups[-1]) == 3:
            groups.append([])

    case = Case()
    for index, group in enumerate(g for g in groups if g):
        start = BASE + timedelta(days=index % 90, minutes=index)
        case.add_lead(f"mk{index}", _timed(start, group))
    _add_dp6(case, data_dir)
    return case


def _add_dp6(case: Case, data_dir: Path) -> None:
    """DP6's users, each a lead whose converting rows close won deals."""
    name = "dp6_mam_test_dataset_multiple_conversions.csv"
    users: dict[str, list[LeadTouch]] = {}
    with (data_dir / name).open(newline="") as handle:
        for row in csv.DictReader(handle):
            at = datetime.fromisoformat(row["event_time"]).replace(tzinfo=UTC)
            value = DP6_VALUE if row["is_conversion_purchase"] == "1" else None
            users.setdefault(row["user_pseudo_id"], []).append(
                (at, row["source_medium"], value)
            )
    for user, touches in users.items():
        case.add_lead(f"dp6-{user}", touches)
