"""Batch attribution over an export: the same journeys and models as the stream.

Events become journeys by the journey rule shared with the stream
(``eligible_from_ms``, which ``journey_for`` applies): a
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

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from operator import attrgetter
from typing import NamedTuple

from streams.attribution import (
    DEFAULT_PARAMS,
    HEURISTIC_MODELS,
    MARKOV_MODELS,
    MODEL_NAMES,
    TIMED_MODELS,
    UNATTRIBUTED,
    UNIT,
    Conversion,
    ModelParams,
    Shares,
    Touch,
    UnknownModel,
    eligible_from_ms,
    markov_falls_back,
    reads_times,
    shares,
    split,
)
from streams.markov import PathCounts, global_credits, removal_effects

Key = tuple[str, int | None]  # (model, Markov order or None)
# (channels, journeys a row stands for, value, the models that read times)
ShapeKey = tuple[tuple[str, ...], int, int, tuple[Key, ...]]
# (channels, journeys a row stands for, value): all that markov's shares read
MarkovShape = tuple[tuple[str, ...], int, int]


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
    channels: tuple[str, ...]  # of its touches, oldest first
    conversion: Conversion | None  # None: the journey has not converted
    # The touches themselves, for a converting journey; an open one needs only
    # its channels.
    touches: Sequence[Touch] = ()
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
    by_user: defaultdict[str, list[EventRow]] = defaultdict(list)
    for row in rows:
        by_user[row.user].append(row)

    journeys: list[Journey] = []
    for user, events in by_user.items():
        # In (time, line) order, which is the touches' order_key order: their
        # event ids are the zero-padded lines. So each journey is a slice,
        # starting where its first eligible touch is.
        events.sort(key=_event_order)
        times = [e.occurred_at_ms for e in events]
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
            first = _first_eligible(
                times,
                start,
                index + 1,
                event.occurred_at_ms,
                previous_ms,
                lookback_days,
            )
            touches = [
                Touch(f"{e.line:012d}", e.occurred_at_ms, e.channel)
                for e in events[first : index + 1]
            ]
            journeys.append(
                Journey(tuple([t.channel for t in touches]), conversion, touches)
            )
            previous_ms, start = event.occurred_at_ms, index + 1

        if start < len(events):
            first = _first_eligible(
                times, start, len(events), times[-1], previous_ms, lookback_days
            )
            journeys.append(Journey(tuple([e.channel for e in events[first:]]), None))
    return journeys


def _first_eligible(
    times: list[int],
    start: int,
    stop: int,
    conversion_ms: int,
    previous_ms: int | None,
    lookback_days: int,
) -> int:
    """The index of the first touch in ``times[start:stop]`` (sorted, none after
    the conversion) that may earn credit, by ``journey_for``'s rule."""
    from_ms = eligible_from_ms(conversion_ms, previous_ms, lookback_days)
    return start if from_ms is None else bisect_left(times, from_ms, start, stop)


def _path_touches(channels: Sequence[str]) -> list[Touch]:
    """Touches of a path, which has no times: in path order, by their ids."""
    return [Touch(f"{i:06d}", 0, c) for i, c in enumerate(channels)]


def path_journeys(rows: Iterable[PathRow]) -> list[Journey]:
    """One journey per path row, standing for all its journeys."""
    journeys = []
    for row in rows:
        touches = _path_touches(row.channels)
        conversion = Conversion(f"line {row.line}", 0, row.value_minor)
        journeys.append(
            Journey(row.channels, conversion, touches, row.conversions, row.nulls)
        )
    return journeys


def path_counts(journeys: Iterable[Journey]) -> PathCounts:
    # Journeys of the same channels are summed first: many journeys share a few.
    sums: dict[tuple[str, ...], list[int]] = {}
    for journey in journeys:
        if not journey.channels:
            continue
        cell = sums.get(journey.channels)
        if cell is None:
            cell = sums[journey.channels] = [0, 0, 0]
        if journey.conversion is None:
            cell[2] += journey.count
        else:
            cell[0] += journey.count
            cell[1] += journey.conversion.value_minor
            cell[2] += journey.nulls
    counts = PathCounts()
    for channels, (conversions, value_minor, nulls) in sums.items():
        counts.add(channels, conversions, value_minor, nulls)
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

    def merge(self, other: _Tally) -> None:
        for key, sums in other.sums.items():
            for channel, (units, value) in sums.items():
                self.add(key, channel, units, value)
        for mine, theirs in (
            (self.conversions, other.conversions),
            (self.values, other.values),
        ):
            for cell, by_denominator in theirs.items():
                into = mine.setdefault(cell, {})
                for denominator, numerator in by_denominator.items():
                    into[denominator] = into.get(denominator, 0) + numerator

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


def _credit_journey(
    tally: _Tally, key: Key, journey: Journey, given: Shares, times: int = 1
) -> None:
    """Credit ``journey`` by ``given`` shares, ``times`` times over (journeys with
    the same channels, count and value get the same credits)."""
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
            sums[touch.channel] = [u * times, v * times]
        else:
            cell[0] += u * times
            cell[1] += v * times

    if not tally.exact:
        return
    numerators, denominator = given
    for touch, a in zip(journey.touches, numerators, strict=True):
        if a:
            tally.add_exact(
                key,
                touch.channel,
                Fraction(journey.count * a * times, denominator),
                Fraction(conversion.value_minor * a * times, denominator),
            )


@dataclass
class Part:
    """What one share of the journeys gives, to be finished with the others:
    its path counts, the credits of every model that needs no removal effects,
    and the journey shapes ``markov`` credits once the effects are known."""

    counts: PathCounts
    tally: _Tally
    markov_shapes: dict[MarkovShape, int]
    conversions: int = 0
    value_minor: int = 0


def _models(selection: Selection, timed: bool) -> list[str]:
    return [m for m in selection.models if timed or m not in TIMED_MODELS]


def _keys(selection: Selection, models: Sequence[str]) -> list[Key]:
    keys: list[Key] = [(m, None) for m in models if m in HEURISTIC_MODELS]
    for model in MARKOV_MODELS:
        if model in models:
            keys.extend((model, k) for k in selection.markov_orders)
    return keys


def tally_part(
    journeys: Iterable[Journey], selection: Selection, timed: bool = True
) -> Part:
    """Count and credit a share of the journeys (any share: users split between
    parts give the same report as one part with all of them)."""
    tally = _Tally(selection.exact)
    models = _models(selection, timed)
    keys = _keys(selection, models)
    heuristic_keys = [k for k in keys if k[0] in HEURISTIC_MODELS]
    markov_wanted = "markov" in models
    journeys = list(journeys)
    part = Part(path_counts(journeys), tally, {})

    # Journeys with the same channels, count and value get the same credits from
    # every model that reads no times: each such shape is credited once, times
    # the journeys that have it. The others are credited journey by journey.
    shape_counts: dict[ShapeKey, int] = {}
    examples: dict[ShapeKey, Journey] = {}
    for journey in journeys:
        conversion = journey.conversion
        if conversion is None or not journey.count:
            continue
        part.conversions += journey.count
        part.value_minor += conversion.value_minor
        if not journey.channels:
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

        reading = tuple(k for k in heuristic_keys if reads_times(k[0], conversion))
        for key in reading:
            _credit_model(tally, key, journey, selection.params, 1)
        shape = (journey.channels, journey.count, conversion.value_minor, reading)
        if shape in shape_counts:
            shape_counts[shape] += 1
        else:
            shape_counts[shape] = 1
            examples[shape] = journey

    for shape, times in shape_counts.items():
        journey = examples[shape]
        for key in heuristic_keys:
            if key not in shape[3]:
                _credit_model(tally, key, journey, selection.params, times)
        if markov_wanted:
            markov_shape = shape[:3]
            part.markov_shapes[markov_shape] = (
                part.markov_shapes.get(markov_shape, 0) + times
            )
    return part


def _credit_model(
    tally: _Tally, key: Key, journey: Journey, params: ModelParams, times: int
) -> None:
    conversion = journey.conversion
    assert conversion is not None
    touch_shares = shares(key[0], journey.touches, conversion, params)
    _credit_journey(tally, key, journey, touch_shares, times)


def finish(parts: Sequence[Part], selection: Selection, timed: bool = True) -> Report:
    """The report of all parts: their sums, and the Markov models, which need the
    path counts of every journey."""
    report = Report()
    models = _models(selection, timed)
    skipped = [m for m in selection.models if m not in models]
    if skipped:
        report.notes.append(
            f"{', '.join(skipped)} skipped: aggregated paths have no times"
        )
    keys = _keys(selection, models)
    counts = PathCounts()
    tally = _Tally(selection.exact)
    markov_shapes: dict[MarkovShape, int] = {}
    for part in parts:
        counts.merge(part.counts)
        tally.merge(part.tally)
        for shape, times in part.markov_shapes.items():
            markov_shapes[shape] = markov_shapes.get(shape, 0) + times
        report.conversions += part.conversions
        report.value_minor += part.value_minor

    markov_wanted = any(m in models for m in MARKOV_MODELS)
    results = (
        {k: removal_effects(counts, k) for k in selection.markov_orders}
        if markov_wanted
        else {}
    )

    if "markov" in models:
        for order, result in results.items():
            fell_back = 0
            for (path, count, value_minor), times in markov_shapes.items():
                touches = _path_touches(path)
                journey = Journey(path, Conversion("", 0, value_minor), touches, count)
                if markov_falls_back(touches, result.params):
                    fell_back += count * times
                _credit_model(tally, ("markov", order), journey, result.params, times)
            if fell_back:
                report.notes.append(
                    f"markov order {order}: {fell_back} conversions had no channel"
                    " with a removal effect above zero; credited linearly"
                )

    if "markov_global" in models:
        for order, result in results.items():
            for credit in global_credits(counts, result):
                key: Key = ("markov_global", order)
                tally.add(key, credit.channel, credit.credit_units, credit.value_minor)
                if tally.exact:
                    tally.add_exact(
                        key,
                        credit.channel,
                        credit.exact_conversions,
                        credit.exact_value_minor,
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


def analyze(
    journeys: Iterable[Journey], selection: Selection, timed: bool = True
) -> Report:
    """Credit every converting journey under every selected model.

    ``timed`` False (aggregated paths) skips the models that need times.
    """
    return finish([tally_part(journeys, selection, timed)], selection, timed)
