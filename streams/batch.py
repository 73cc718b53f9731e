"""Batch attribution over an export: the same journeys and models as the stream.

Events become journeys by the shared journey rule (``journey_for``): a
conversion's journey is its user's touches after the user's previous conversion,
up to the conversion and inside the lookback. The converting event is itself a
touch and the last of its journey (rows are ordered by time, then line). A
user's touches after the last conversion (all of them, for a user who never
converts) are one open journey, which counts as non-converting; its lookback is
measured back from its latest touch, as if it converted there.

Aggregated paths (ChannelAttribution's format) are already journeys: one row
stands for its conversions and its non-converting journeys together, so its
conversions and value are split once per row. Paths have no times, so the models
that need them are skipped there.

Every conversion is credited through ``streams.attribution`` exactly as the
stream credits it, so figures are sums of per-conversion fixed-point credits. On
request the exact (unrounded) sums are kept too, to compare models with other
tools.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from operator import attrgetter
from typing import NamedTuple

from streams.attribution import (
    DEFAULT_PARAMS,
    HEURISTIC_MODELS,
    MODEL_NAMES,
    TIMED_MODELS,
    UNATTRIBUTED,
    UNIT,
    Conversion,
    ModelParams,
    Shares,
    Touch,
    UnknownModel,
    journey_for,
    markov_falls_back,
    shares,
    split,
)
from streams.markov import PathCounts, global_credits, removal_effects

Key = tuple[str, int | None]  # (model, Markov order or None)


class EventRow(NamedTuple):
    line: int
    user: str
    occurred_at_ms: int
    channel: str
    converted: bool
    value_minor: int = 0


@dataclass(frozen=True, slots=True)
class PathRow:
    line: int
    channels: tuple[str, ...]
    conversions: int
    value_minor: int
    nulls: int


@dataclass(frozen=True, slots=True)
class Journey:
    touches: list[Touch]
    conversion: Conversion | None  # None: the journey has not converted
    count: int = 1  # journeys it stands for (an aggregated path row)
    nulls: int = 0  # non-converting journeys of the same path, for paths rows


@dataclass(frozen=True)
class Selection:
    models: tuple[str, ...] = MODEL_NAMES
    markov_orders: tuple[int, ...] = (1,)
    params: ModelParams = DEFAULT_PARAMS
    exact: bool = False

    def __post_init__(self) -> None:
        unknown = [m for m in self.models if m not in MODEL_NAMES]
        if unknown:
            raise UnknownModel(
                f"models: {', '.join(unknown)} not known;"
                f" expected some of {', '.join(MODEL_NAMES)}"
            )


@dataclass(frozen=True)
class Figure:
    model: str
    order: int | None
    channel: str
    credit_units: int
    value_minor: int
    exact_conversions: Fraction | None = None
    exact_value_minor: Fraction | None = None


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    conversions: int = 0
    value_minor: int = 0


_event_order = attrgetter("occurred_at_ms", "line")


def event_journeys(rows: Iterable[EventRow], lookback_days: int) -> list[Journey]:
    """Every conversion's journey and every open journey, user by user."""
    by_user: dict[str, list[EventRow]] = {}
    for row in rows:
        by_user.setdefault(row.user, []).append(row)

    journeys: list[Journey] = []
    for user, events in by_user.items():
        events.sort(key=_event_order)
        touches = [Touch(f"{e.line:012d}", e.occurred_at_ms, e.channel) for e in events]
        previous_ms: int | None = None
        start = 0
        for index, event in enumerate(events):
            if not event.converted:
                continue
            conversion = Conversion(
                f"{user}@{event.line}", event.occurred_at_ms, event.value_minor
            )
            # The converting event closes its journey even when later rows share
            # its millisecond.
            journey = journey_for(
                touches[start : index + 1], conversion, previous_ms, lookback_days
            )
            journeys.append(Journey(journey, conversion))
            previous_ms, start = event.occurred_at_ms, index + 1

        if start < len(touches):
            latest = Conversion(f"{user}@open", touches[-1].occurred_at_ms)
            journey = journey_for(touches[start:], latest, previous_ms, lookback_days)
            journeys.append(Journey(journey, None))
    return journeys


def path_journeys(rows: Iterable[PathRow]) -> list[Journey]:
    """One journey per path row, standing for all its journeys."""
    journeys = []
    for row in rows:
        touches = [Touch(f"{i:06d}", 0, c) for i, c in enumerate(row.channels)]
        conversion = Conversion(f"line {row.line}", 0, row.value_minor)
        journeys.append(Journey(touches, conversion, row.conversions, row.nulls))
    return journeys


def path_counts(journeys: Iterable[Journey]) -> PathCounts:
    counts = PathCounts()
    for journey in journeys:
        if not journey.touches:
            continue
        channels = [t.channel for t in journey.touches]
        if journey.conversion is None:
            counts.add(channels, nulls=journey.count)
        else:
            value = journey.conversion.value_minor
            counts.add(channels, journey.count, value, journey.nulls)
    return counts


class _Tally:
    """Per (model, order) and channel: fixed-point sums, and exact ones on request."""

    def __init__(self, exact: bool) -> None:
        self.exact = exact
        self.sums: dict[Key, dict[str, list[int]]] = {}
        self.unit_splits: dict[tuple[Shares, int], list[int]] = {}
        # Exact sums as integer numerators per denominator, summed as fractions
        # only at the end: adding fractions per touch would dominate the run time.
        self.conversions: dict[tuple[Key, str], dict[int, int]] = {}
        self.values: dict[tuple[Key, str], dict[int, int]] = {}

    def add(self, key: Key, channel: str, credit_units: int, value_minor: int) -> None:
        cell = self.sums.setdefault(key, {}).setdefault(channel, [0, 0])
        cell[0] += credit_units
        cell[1] += value_minor

    def add_exact(
        self, key: Key, channel: str, conversions: Fraction, value_minor: Fraction
    ) -> None:
        for sums, amount in (
            (self.conversions, conversions),
            (self.values, value_minor),
        ):
            by_denominator = sums.setdefault((key, channel), {})
            denominator = amount.denominator
            by_denominator[denominator] = (
                by_denominator.get(denominator, 0) + amount.numerator
            )

    def exact_of(self, key: Key, channel: str) -> tuple[Fraction, Fraction] | None:
        if not self.exact:
            return None
        return (
            sum(
                (
                    Fraction(a, d)
                    for d, a in self.conversions.get((key, channel), {}).items()
                ),
                Fraction(0),
            ),
            sum(
                (
                    Fraction(a, d)
                    for d, a in self.values.get((key, channel), {}).items()
                ),
                Fraction(0),
            ),
        )


def _credit_journey(tally: _Tally, key: Key, journey: Journey, given: Shares) -> None:
    conversion = journey.conversion
    assert conversion is not None
    # The same shares and split as attribution.attribute: per-conversion credits
    # exactly as the stream stores them, summed without building Credit objects.
    # Most journeys share a few shapes, so their unit splits are remembered.
    unit_key = (given, journey.count)
    units = tally.unit_splits.get(unit_key)
    if units is None:
        units = tally.unit_splits[unit_key] = split(journey.count * UNIT, given)
    values = split(conversion.value_minor, given)
    sums = tally.sums.setdefault(key, {})
    for touch, u, v in zip(journey.touches, units, values, strict=True):
        if not (u or v):
            continue
        cell = sums.get(touch.channel)
        if cell is None:
            sums[touch.channel] = [u, v]
        else:
            cell[0] += u
            cell[1] += v

    if not tally.exact:
        return
    numerators, denominator = given
    for touch, a in zip(journey.touches, numerators, strict=True):
        if a:
            tally.add_exact(
                key,
                touch.channel,
                Fraction(journey.count * a, denominator),
                Fraction(conversion.value_minor * a, denominator),
            )


def analyze(
    journeys: Sequence[Journey], selection: Selection, timed: bool = True
) -> Report:
    """Credit every converting journey under every selected model.

    ``timed`` False (aggregated paths) skips the models that need times.
    """
    report = Report()
    tally = _Tally(selection.exact)
    models = list(selection.models)
    if not timed:
        skipped = [m for m in models if m in TIMED_MODELS]
        models = [m for m in models if m not in TIMED_MODELS]
        if skipped:
            report.notes.append(
                f"{', '.join(skipped)} skipped: aggregated paths have no times"
            )

    counts = path_counts(journeys)
    markov_wanted = any(m in models for m in ("markov", "markov_global"))
    results = (
        {k: removal_effects(counts, k) for k in selection.markov_orders}
        if markov_wanted
        else {}
    )
    keys: list[Key] = [(m, None) for m in models if m in HEURISTIC_MODELS]
    for model in ("markov", "markov_global"):
        if model in models:
            keys.extend((model, k) for k in selection.markov_orders)

    fallbacks = dict.fromkeys(selection.markov_orders, 0)
    for journey in journeys:
        conversion = journey.conversion
        if conversion is None or not journey.count:
            continue
        report.conversions += journey.count
        report.value_minor += conversion.value_minor
        if not journey.touches:
            for key in keys:
                tally.add(
                    key, UNATTRIBUTED, journey.count * UNIT, conversion.value_minor
                )
                if tally.exact:
                    tally.add_exact(
                        key,
                        UNATTRIBUTED,
                        Fraction(journey.count),
                        Fraction(conversion.value_minor),
                    )
            continue

        for model, order in keys:
            if model == "markov_global":
                continue
            params = selection.params
            if order is not None:
                params = results[order].params
                if markov_falls_back(journey.touches, params):
                    fallbacks[order] += journey.count
            touch_shares = shares(model, journey.touches, conversion, params)
            _credit_journey(tally, (model, order), journey, touch_shares)

    if "markov_global" in models:
        for order, result in results.items():
            for credit in global_credits(counts, result):
                key = ("markov_global", order)
                tally.add(key, credit.channel, credit.credit_units, credit.value_minor)
                if tally.exact:
                    tally.add_exact(
                        key,
                        credit.channel,
                        credit.exact_conversions,
                        credit.exact_value_minor,
                    )

    if "markov" in models:
        for order, fell_back in fallbacks.items():
            if fell_back:
                report.notes.append(
                    f"markov order {order}: {fell_back} conversions had no channel"
                    " with a removal effect above zero; credited linearly"
                )

    channels = counts.channels()
    if UNATTRIBUTED in {c for sums in tally.sums.values() for c in sums}:
        channels.append(UNATTRIBUTED)
    for key in keys:
        sums = tally.sums.get(key, {})
        for channel in channels:
            units, value = sums.get(channel, (0, 0))
            exact = tally.exact_of(key, channel)
            report.figures.append(
                Figure(
                    key[0],
                    key[1],
                    channel,
                    units,
                    value,
                    exact[0] if exact else None,
                    exact[1] if exact else None,
                )
            )
    return report
