"""Attribution models: how one conversion's credit is split over its touches.

Credits are fixed point: one conversion is ``UNIT`` (1,000,000) credit units and
money is integer minor units. Both are split by largest remainder, so every
conversion's credits add up exactly; ties go to the earlier touch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from schemas.errors import LeadroiError

UNIT = 1_000_000
UNATTRIBUTED = "(unattributed)"
DIRECT_CHANNEL = "Direct"


@dataclass(frozen=True)
class Touch:
    """A classified touch as the models see it."""

    event_id: str
    occurred_at_ms: int
    channel: str
    source: str = ""
    medium: str = ""
    campaign: str = ""

    @property
    def order_key(self) -> tuple[int, str]:
        return (self.occurred_at_ms, self.event_id)


@dataclass(frozen=True)
class Conversion:
    conversion_id: str
    occurred_at_ms: int
    value_minor: int = 0


class UnknownModel(LeadroiError):
    """A model name that leadroi does not implement."""


Weights = list[Fraction]
Model = Callable[[Sequence[Touch], Conversion], Weights]


def _first(touches: Sequence[Touch], conversion: Conversion) -> Weights:
    return [Fraction(1 if i == 0 else 0) for i in range(len(touches))]


def _last(touches: Sequence[Touch], conversion: Conversion) -> Weights:
    n = len(touches)
    return [Fraction(1 if i == n - 1 else 0) for i in range(n)]


def _linear(touches: Sequence[Touch], conversion: Conversion) -> Weights:
    return [Fraction(1, len(touches))] * len(touches)


MODELS: dict[str, Model] = {
    "first_touch": _first,
    "last_touch": _last,
    "linear": _linear,
}


def split(total: int, weights: Sequence[Fraction | float]) -> list[int]:
    """Split an integer ``total`` by ``weights`` (summing to one), exactly.

    Largest remainder: every share is floored, and the units left over go to the
    largest remainders, ties to the earlier position.
    """
    if not weights:
        return []
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    exact = [Fraction(w) * magnitude for w in weights]
    floors = [int(x // 1) for x in exact]
    left = magnitude - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [sign * share for share in floors]


def journey_for(
    touches: Sequence[Touch],
    conversion: Conversion,
    previous_conversion_ms: int | None,
    lookback_days: int,
) -> list[Touch]:
    """The touches that may earn credit for ``conversion``, oldest first.

    A touch is eligible when it happened at or before the conversion, after the
    previous conversion of the same kind, and inside the lookback window
    (``lookback_days`` 0 means unlimited).
    """
    start_ms = None if lookback_days <= 0 else conversion.occurred_at_ms - lookback_days * 86_400_000
    eligible = [
        t
        for t in touches
        if t.occurred_at_ms <= conversion.occurred_at_ms
        and (previous_conversion_ms is None or t.occurred_at_ms > previous_conversion_ms)
        and (start_ms is None or t.occurred_at_ms >= start_ms)
    ]
    return sorted(eligible, key=lambda t: t.order_key)


@dataclass(frozen=True)
class Credit:
    touch: Touch | None  # None: the conversion had no eligible touch
    credit_units: int
    value_minor: int


def attribute(model: str, journey: Sequence[Touch], conversion: Conversion) -> list[Credit]:
    """Credit ``conversion`` over ``journey`` (already filtered and ordered)."""
    try:
        weigh = MODELS[model]
    except KeyError as exc:
        known = ", ".join(sorted(MODELS))
        raise UnknownModel(f"model: {model!r} is not known; expected one of {known}") from exc

    if not journey:
        return [Credit(None, UNIT, conversion.value_minor)]

    weights = weigh(journey, conversion)
    units = split(UNIT, weights)
    values = split(conversion.value_minor, weights)
    return [
        Credit(touch, u, v)
        for touch, u, v in zip(journey, units, values, strict=True)
        if u or v
    ]
