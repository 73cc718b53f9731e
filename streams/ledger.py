"""Credit records: what one conversion, touch or spend line adds to the ROI tables.

A record maps aggregate cells to integers. Redis keeps the last record applied per
record id and applies a new one as the difference, so a record can be written any
number of times, in any order of revisions, and the tables hold exactly one copy.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import NamedTuple

DIMENSIONS = ("channel", "source", "campaign")
ALL_TIME = "all"
SPEND_LINES = "spend_lines:"  # + currency: how many spend lines a cell holds
REFUNDS = "refunds:"  # + currency: refunded on the cell's day, minor units


class Cell(NamedTuple):
    scope: str  # a model name, "spend" or "touches"
    dimension: str  # channel | source | campaign
    day: str  # YYYY-MM-DD in the configured zone
    value: str  # e.g. "Paid Search", "google / cpc", "google / cpc / brand"
    metric: str  # leads | won | lost | touches | revenue:BRL | refunds:BRL | spend:BRL


Record = dict[Cell, int]


def dimension_values(
    source: str, medium: str, campaign: str, channel: str
) -> dict[str, str]:
    return {
        "channel": channel,
        "source": f"{source} / {medium}",
        "campaign": f"{source} / {medium} / {campaign}",
    }


def add(
    record: Record,
    scope: str,
    day: str,
    values: Mapping[str, str],
    metric: str,
    amount: int,
) -> None:
    if not amount:
        return
    for dimension in DIMENSIONS:
        cell = Cell(scope, dimension, day, values[dimension], metric)
        record[cell] = record.get(cell, 0) + amount


def totals(records: Iterable[Record]) -> dict[Cell, int]:
    """Sum records into day cells plus all-time cells, dropping zeros."""
    summed: dict[Cell, int] = defaultdict(int)
    for record in records:
        for cell, amount in record.items():
            summed[cell] += amount
            summed[cell._replace(day=ALL_TIME)] += amount
    return {cell: amount for cell, amount in summed.items() if amount}
