"""Markov removal effects, solved exactly from path counts.

A path is a journey's channels with consecutive repeats collapsed. ``PathCounts``
holds, per path, its conversions, their value and its non-converting journeys; a
stream worker keeps one for its own journeys and they add up, so no worker needs
every journey.

A state of order ``k`` is the last ``k`` channels of a path; the first ``k - 1``
states of a path are its shorter prefixes, each reached from the start state.
Every journey walks start -> its states -> conversion or null. The chain is
absorbing, so the conversion probability from the start is the solution of one
sparse linear system, never a simulation. Removing a channel removes every state
that contains it; transitions into them go to null. The removal effect of a
channel is ``1 - P(convert without it) / P(convert)``.

``global_credits`` is ChannelAttribution's definition: all conversions and all
value, times each channel's share of the summed removal effects (one set of
effects for both; ChannelAttribution estimates a separate one for value). The
per-journey ``markov`` model lives in ``streams.attribution`` and takes the
effects from ``MarkovResult.params``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import numpy as np
from scipy.sparse import csc_matrix, identity
from scipy.sparse.linalg import spsolve

from schemas.errors import LeadroiError
from streams.attribution import UNIT, ModelParams, from_floats, split

Path = tuple[str, ...]
MAX_ORDER = 3


class BadPathCount(LeadroiError):
    """A path count change that would leave a negative count."""


class BadOrder(LeadroiError):
    """A Markov order leadroi does not compute."""


def collapse(channels: Iterable[str]) -> Path:
    """The path of a sequence of channels: consecutive repeats collapsed."""
    path: list[str] = []
    for channel in channels:
        if not path or path[-1] != channel:
            path.append(channel)
    return tuple(path)


@dataclass(frozen=True, slots=True)
class PathCount:
    conversions: int
    value_minor: int
    nulls: int


class PathCounts:
    """Path -> (conversions, value_minor, nulls), kept incrementally."""

    def __init__(self) -> None:
        self._counts: dict[Path, list[int]] = {}

    def add(
        self,
        channels: Sequence[str],
        conversions: int = 0,
        value_minor: int = 0,
        nulls: int = 0,
    ) -> None:
        """Count journeys of ``channels``; negative numbers take them back."""
        path = collapse(channels)
        if not path:
            return
        counts = self._counts.get(path, [0, 0, 0])
        changed = [counts[0] + conversions, counts[1] + value_minor, counts[2] + nulls]
        if changed[0] < 0 or changed[2] < 0:
            raise BadPathCount(
                f"path: {' > '.join(path)!r} would have {changed[0]} conversions and"
                f" {changed[2]} nulls; expected counts of zero or more"
            )
        if changed == [0, 0, 0]:
            self._counts.pop(path, None)
        else:
            self._counts[path] = changed

    def remove(
        self,
        channels: Sequence[str],
        conversions: int = 0,
        value_minor: int = 0,
        nulls: int = 0,
    ) -> None:
        """Take back journeys counted by ``add``, e.g. an open journey that
        converted or grew."""
        self.add(channels, -conversions, -value_minor, -nulls)

    def merge(self, other: PathCounts) -> None:
        for path, count in other.items():
            self.add(path, count.conversions, count.value_minor, count.nulls)

    def items(self) -> Iterator[tuple[Path, PathCount]]:
        for path, (conversions, value_minor, nulls) in self._counts.items():
            yield path, PathCount(conversions, value_minor, nulls)

    def get(self, channels: Sequence[str]) -> PathCount:
        conversions, value_minor, nulls = self._counts.get(
            collapse(channels), [0, 0, 0]
        )
        return PathCount(conversions, value_minor, nulls)

    @property
    def conversions(self) -> int:
        return sum(counts[0] for counts in self._counts.values())

    @property
    def value_minor(self) -> int:
        return sum(counts[1] for counts in self._counts.values())

    def channels(self) -> list[str]:
        return sorted({channel for path in self._counts for channel in path})

    def as_rows(self) -> list[list[object]]:
        """A JSON-ready form: ``[[channels...], conversions, value_minor, nulls]``."""
        return [[list(path), *counts] for path, counts in sorted(self._counts.items())]

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[object]]) -> PathCounts:
        counts = cls()
        for channels, conversions, value_minor, nulls in rows:
            assert isinstance(channels, list)
            counts.add(
                [str(c) for c in channels],
                int(str(conversions)),
                int(str(value_minor)),
                int(str(nulls)),
            )
        return counts

    def __len__(self) -> int:
        return len(self._counts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PathCounts) and self._counts == other._counts

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class MarkovResult:
    order: int
    conversion_probability: float
    removal_effects: dict[str, float]

    @cached_property
    def params(self) -> ModelParams:
        return ModelParams(removal_effects=self.removal_effects)


START: Path = ()


def _states(path: Path, order: int) -> list[Path]:
    return [path[max(0, i + 1 - order) : i + 1] for i in range(len(path))]


class _Chain:
    """Transient states with their transition counts, as sparse arrays."""

    def __init__(self, counts: PathCounts, order: int) -> None:
        index: dict[Path, int] = {START: 0}
        moves: dict[tuple[int, int], int] = {}
        converted: dict[int, int] = {}
        leaving: dict[int, int] = {}

        # Paths in a fixed order: the state numbering decides the solver's rounding,
        # and effects that differed in the last bit between two workers' counts
        # could move a credit unit.
        for path, count in sorted(counts.items()):
            journeys = count.conversions + count.nulls
            if not journeys:
                continue
            previous = 0
            for state in _states(path, order):
                current = index.setdefault(state, len(index))
                moves[previous, current] = moves.get((previous, current), 0) + journeys
                leaving[previous] = leaving.get(previous, 0) + journeys
                previous = current
            converted[previous] = converted.get(previous, 0) + count.conversions
            leaving[previous] = leaving.get(previous, 0) + journeys

        self.states = list(index)
        size = len(self.states)
        out = np.array([leaving.get(i, 1) for i in range(size)], dtype=float)
        rows = np.fromiter((r for r, _ in moves), dtype=np.int64, count=len(moves))
        cols = np.fromiter((c for _, c in moves), dtype=np.int64, count=len(moves))
        data = np.fromiter(moves.values(), dtype=float, count=len(moves)) / out[rows]
        self.q = csc_matrix((data, (rows, cols)), shape=(size, size))
        self.to_conversion = (
            np.array([converted.get(i, 0) for i in range(size)], dtype=float) / out
        )

    def conversion_probability(self, keep: np.ndarray | None = None) -> float:
        """P(start reaches conversion), only through the states in ``keep``."""
        q, r = self.q, self.to_conversion
        if keep is not None:
            q = q[keep][:, keep]
            r = r[keep]
        system = (identity(q.shape[0], format="csc") - q).tocsc()
        solved = np.atleast_1d(spsolve(system, r))
        return float(solved[0])


def check_order(order: int) -> None:
    if not 1 <= order <= MAX_ORDER:
        raise BadOrder(f"order: {order!r} is not computed; expected 1 to {MAX_ORDER}")


def removal_effects(counts: PathCounts, order: int = 1) -> MarkovResult:
    """The exact removal effect of every channel in ``counts``."""
    check_order(order)
    channels = counts.channels()
    if counts.conversions == 0:
        return MarkovResult(order, 0.0, dict.fromkeys(channels, 0.0))

    chain = _Chain(counts, order)
    base = chain.conversion_probability()
    effects: dict[str, float] = {}
    for channel in channels:
        # The start state (index 0, the empty path) never contains a channel.
        keep = np.array([channel not in state for state in chain.states])
        without = chain.conversion_probability(np.flatnonzero(keep))
        effects[channel] = max(0.0, 1.0 - without / base)
    return MarkovResult(order, base, effects)


@dataclass(frozen=True)
class GlobalCredit:
    channel: str
    credit_units: int
    value_minor: int
    exact_conversions: Fraction
    exact_value_minor: Fraction


def global_credits(counts: PathCounts, result: MarkovResult) -> list[GlobalCredit]:
    """All conversions and value of ``counts`` split by the removal effects'
    shares, channels in name order; empty when nothing converted."""
    return global_split(counts.conversions, counts.value_minor, result)


def global_split(
    conversions: int, value_minor: int, result: MarkovResult
) -> list[GlobalCredit]:
    """``conversions`` and ``value_minor`` split by the removal effects' shares,
    channels in name order; empty when no channel has an effect."""
    channels = sorted(c for c, effect in result.removal_effects.items() if effect > 0)
    if not channels:
        return []

    effects = [result.removal_effects[c] for c in channels]
    channel_shares = from_floats(effects)
    units = split(conversions * UNIT, channel_shares)
    values = split(value_minor, channel_shares)
    numerators, denominator = channel_shares
    return [
        GlobalCredit(
            channel,
            u,
            v,
            Fraction(conversions * a, denominator),
            Fraction(value_minor * a, denominator),
        )
        for channel, u, v, a in zip(channels, units, values, numerators, strict=True)
    ]
