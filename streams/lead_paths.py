"""What one lead gives the Markov model: path counts, and its conversions' journeys.

Markov credits depend on every journey at once, so workers do not credit them.
Each worker writes, per lead it owns:

- a path record (scope ``markov_paths``, dimension ``path``), applied like every
  other record: each won deal adds one conversion and its value (``value:CUR``)
  to its journey's path, and the touches after the lead's last won deal are an
  open journey that adds one to ``nulls``. Records replace, so an open journey
  that converts moves from ``nulls`` to ``conversions`` by itself, and a
  duplicate or late event changes nothing. Summed over leads these are the path
  counts of ``streams.markov``, so no worker needs every journey;
- a ``MarkovInput`` per conversion (lead creation, won or lost deal): its day,
  value and the channel, source, medium and campaign of each touch of its
  journey, which is all ``markov`` needs to split it once the removal effects
  are known (``streams.markov_credits``).

Journeys follow ``streams.journey.records``: the same touches, lookbacks and
previous won deal. The open journey's lookback counts back from its latest
touch, as in ``streams.batch``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from streams.attribution import Conversion, Touch, journey_for
from streams.config import Settings
from streams.journey import deal_journeys, touches_of
from streams.ledger import Cell, Record
from streams.markov import Path, collapse
from streams.roi import PATHS_SCOPE
from streams.times import day_of_ms

PATH_DIMENSION = "path"
CONVERSIONS = "conversions"
NULLS = "nulls"
VALUE_PREFIX = "value:"
LEADS, WON, LOST = "leads", "won", "lost"

TouchLabels = tuple[str, str, str, str]  # channel, source, medium, campaign


class MarkovInput(NamedTuple):
    """One conversion as the ``markov`` model splits it."""

    conversion_id: str
    metric: str  # leads | won | lost
    day: str
    value_minor: int
    currency: str
    touches: tuple[TouchLabels, ...]  # its journey, oldest first


class _Converted(NamedTuple):
    conversion: Conversion
    metric: str
    currency: str
    journey: list[Touch]


def path_label(path: Iterable[str]) -> str:
    """A path as a hash field value: JSON, since a channel may hold any text."""
    return json.dumps(list(path), ensure_ascii=False, separators=(",", ":"))


def path_of_label(label: str) -> Path:
    channels = json.loads(label)
    return tuple(str(channel) for channel in channels)


def _conversions(
    lead: str, state: Mapping[str, Any], touches: list[Touch], settings: Settings
) -> tuple[list[_Converted], int | None]:
    """The lead's conversions with their journeys, and when it last won a deal."""
    found: list[_Converted] = []
    if state["created"] is not None:
        conversion = Conversion(f"lead:{lead}", state["created"])
        journey = journey_for(touches, conversion, None, settings.lead_lookback_days)
        found.append(_Converted(conversion, LEADS, "", journey))

    previous_won_ms: int | None = None
    for deal, conversion, journey in deal_journeys(state, settings):
        if deal.status not in (WON, LOST):
            continue
        if deal.status == LOST:
            conversion = conversion._replace(value_minor=0)
        found.append(_Converted(conversion, deal.status, deal.currency, journey))
        if deal.status == WON:
            previous_won_ms = deal.closed_ms
    return found, previous_won_ms


def _open_journey(
    touches: list[Touch], previous_won_ms: int | None, settings: Settings
) -> list[Touch]:
    after = [
        t
        for t in touches
        if previous_won_ms is None or t.occurred_at_ms > previous_won_ms
    ]
    if not after:
        return []
    latest = Conversion("open", max(t.occurred_at_ms for t in after))
    return journey_for(after, latest, previous_won_ms, settings.deal_lookback_days)


def _count(
    record: Record, day: str, journey: list[Touch], metric: str, by: int
) -> None:
    if not by:
        return
    label = path_label(collapse(t.channel for t in journey))
    cell = Cell(PATHS_SCOPE, PATH_DIMENSION, day, label, metric)
    record[cell] = record.get(cell, 0) + by


def path_id_of(lead: str) -> str:
    """The id of a lead's path record."""
    return f"paths|{lead}"


def lead_markov(
    lead: str, state: Mapping[str, Any], settings: Settings
) -> tuple[str, Record, list[MarkovInput]]:
    """The lead's path record id, its path record and its conversions' inputs."""
    touches = touches_of(state)
    converted, previous_won_ms = _conversions(lead, state, touches, settings)

    record: Record = {}
    inputs: list[MarkovInput] = []
    for conversion, metric, currency, journey in converted:
        day = day_of_ms(conversion.occurred_at_ms, settings.zone)
        labels = tuple((t.channel, t.source, t.medium, t.campaign) for t in journey)
        value_minor = conversion.value_minor
        inputs.append(
            MarkovInput(
                conversion.conversion_id, metric, day, value_minor, currency, labels
            )
        )
        if metric == WON and journey:
            _count(record, day, journey, CONVERSIONS, 1)
            _count(record, day, journey, f"{VALUE_PREFIX}{currency}", value_minor)

    open_journey = _open_journey(touches, previous_won_ms, settings)
    if open_journey:
        day = day_of_ms(open_journey[-1].occurred_at_ms, settings.zone)
        _count(record, day, open_journey, NULLS, 1)
    return path_id_of(lead), record, inputs
