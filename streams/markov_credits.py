"""Markov credits from what the workers wrote: one generation of the leader.

Inputs are the summed path counts (the all-time ``markov_paths`` cells, as
path label and metric -> amount) and every conversion's ``MarkovInput``
(``streams.lead_paths``). The output is every ``markov`` and ``markov_global``
aggregate cell, per day and all time, and the model they come from; the leader
writes them as one generation that replaces the previous one whole.

- ``markov`` splits each conversion over its journey by the removal effects, as
  ``streams.attribution`` does, linearly when no channel of the journey has an
  effect above zero. Like the heuristic models it credits lead creations, won
  and lost deals, all with the effects of the won-deal chain.
- ``markov_global`` splits the won deals of the path counts and their value,
  per currency, by the channels' shares of the summed effects
  (``streams.markov.global_credits``). A day splits its own won deals by the
  same shares, so the days may differ from all time by rounding. Won deals
  without a touch are ``(unattributed)``. It has the channel dimension only:
  removal effects belong to channels.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from streams.attribution import (
    UNATTRIBUTED,
    UNIT,
    Conversion,
    Touch,
    markov_falls_back,
)
from streams.journey import _credit
from streams.lead_paths import (
    CONVERSIONS,
    NULLS,
    VALUE_PREFIX,
    WON,
    MarkovInput,
    path_of_label,
)
from streams.ledger import ALL_TIME, Cell, Record, totals
from streams.markov import MarkovResult, PathCounts, global_split, removal_effects

MARKOV = "markov"
MARKOV_GLOBAL = "markov_global"
REVENUE_PREFIX = "revenue:"


@dataclass(frozen=True)
class Generation:
    result: MarkovResult
    cells: dict[Cell, int]
    paths: int
    conversions: int  # won deals in the path counts
    nulls: int  # open journeys in the path counts
    fallbacks: int  # won deals that ``markov`` credited linearly

    def summary(self) -> dict[str, Any]:
        """The model behind the figures, JSON-ready."""
        return {
            "order": self.result.order,
            "conversion_probability": self.result.conversion_probability,
            "removal_effects": self.result.removal_effects,
            "paths": self.paths,
            "conversions": self.conversions,
            "nulls": self.nulls,
            "fallbacks": self.fallbacks,
        }


def path_totals(
    fields: Mapping[tuple[str, str], int],
) -> tuple[PathCounts, dict[str, int]]:
    """Path counts, and their value per currency, from (label, metric) amounts."""
    counts = PathCounts()
    values: dict[str, int] = {}
    for (label, metric), amount in fields.items():
        if metric == CONVERSIONS:
            counts.add(path_of_label(label), conversions=amount)
        elif metric == NULLS:
            counts.add(path_of_label(label), nulls=amount)
        elif metric.startswith(VALUE_PREFIX):
            currency = metric.removeprefix(VALUE_PREFIX)
            values[currency] = values.get(currency, 0) + amount
    return counts, values


def _markov_cells(
    inputs: Iterable[MarkovInput], result: MarkovResult
) -> tuple[dict[Cell, int], int]:
    # Conversions alike but for their id get the same credits: many leads share
    # a journey, a day and a value, so each shape is credited once.
    shapes = Counter(item._replace(conversion_id="") for item in inputs)
    records: list[Record] = []
    params = result.params
    fallbacks = 0
    for item, count in shapes.items():
        journey = [
            Touch(f"{i:06d}", 0, *labels) for i, labels in enumerate(item.touches)
        ]
        if item.metric == WON and journey and markov_falls_back(journey, params):
            fallbacks += count
        value_metric = (
            f"{REVENUE_PREFIX}{item.currency}" if item.metric == WON else None
        )
        record: Record = {}
        conversion = Conversion("", 0, item.value_minor)
        _credit(
            record,
            MARKOV,
            journey,
            conversion,
            item.day,
            item.metric,
            value_metric,
            params,
        )
        records.append({cell: amount * count for cell, amount in record.items()})
    return totals(records), fallbacks


def _add(cells: dict[Cell, int], day: str, channel: str, metric: str, by: int) -> None:
    if by:
        cell = Cell(MARKOV_GLOBAL, "channel", day, channel, metric)
        cells[cell] = cells.get(cell, 0) + by


def _split(
    cells: dict[Cell, int],
    day: str,
    conversions: int,
    values: Mapping[str, int],
    result: MarkovResult,
) -> None:
    for credit in global_split(conversions, 0, result):
        _add(cells, day, credit.channel, WON, credit.credit_units)
    for currency, value_minor in values.items():
        for credit in global_split(0, value_minor, result):
            _add(
                cells,
                day,
                credit.channel,
                f"{REVENUE_PREFIX}{currency}",
                credit.value_minor,
            )


def _global_cells(
    inputs: Iterable[MarkovInput],
    counts: PathCounts,
    values: Mapping[str, int],
    result: MarkovResult,
) -> dict[Cell, int]:
    cells: dict[Cell, int] = {}
    won_by_day: dict[str, int] = {}
    values_by_day: dict[str, dict[str, int]] = {}
    for item in inputs:
        if item.metric != WON:
            continue
        if not item.touches:
            revenue = f"{REVENUE_PREFIX}{item.currency}"
            for day in (item.day, ALL_TIME):
                _add(cells, day, UNATTRIBUTED, WON, UNIT)
                _add(cells, day, UNATTRIBUTED, revenue, item.value_minor)
            continue
        won_by_day[item.day] = won_by_day.get(item.day, 0) + 1
        day_values = values_by_day.setdefault(item.day, {})
        day_values[item.currency] = day_values.get(item.currency, 0) + item.value_minor

    for day, won in sorted(won_by_day.items()):
        _split(cells, day, won, values_by_day[day], result)
    _split(cells, ALL_TIME, counts.conversions, values, result)
    return cells


def generation(
    fields: Mapping[tuple[str, str], int],
    inputs: Iterable[MarkovInput],
    order: int,
) -> Generation:
    """Removal effects of the path counts in ``fields``, and every Markov cell."""
    counts, values = path_totals(fields)
    result = removal_effects(counts, order)
    items = list(inputs)

    cells, fallbacks = _markov_cells(items, result)
    cells.update(_global_cells(items, counts, values, result))
    nulls = sum(count.nulls for _, count in counts.items())
    return Generation(result, cells, len(counts), counts.conversions, nulls, fallbacks)
