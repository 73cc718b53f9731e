"""Attribution models: how one conversion's credit is split over its touches.

Credits are fixed point: one conversion is ``UNIT`` (1,000,000) credit units and
money is integer minor units. A model gives every touch an exact share (integer
numerators over one denominator); ``split`` turns the shares into integers by
largest remainder, so every conversion's credits add up exactly. Touches come
in ``Touch.order_key`` order, so a tie goes to the earlier touch, then to the
smaller event id.

Models, for a journey of ``n`` touches:

- ``first_touch``, ``last_touch``: everything to that touch.
- ``last_non_direct``: everything to the last touch whose channel is not Direct
  (compared without case); Direct wins only when every touch is Direct.
- ``linear``: ``1/n`` each.
- ``time_decay``: ``2^(-dt/h)`` normalised, ``dt`` measured back from the
  conversion, ``h`` the half-life (``ModelParams``, 7 days by default).
- ``u_shaped``, ``j_shaped``, ``inverse_j``: first / last / middle take 40/40/20,
  20/60/20 and 60/20/20 %, the middle share spread evenly. One touch takes 100 %;
  with two touches the first and last shares are scaled to sum to one (U 50/50,
  J 25/75, inverse J 75/25).
- ``w_shaped``: 30 % each to the first touch, the lead-creation touch (the last
  touch at or before ``Conversion.lead_created_ms``) and the
  opportunity-creation touch (the last touch at or before
  ``Conversion.opportunity_ms``); 10 % spread over the other touches.
- ``full_path``: 22.5 % each to those three and the closed-won touch (the last
  touch at or before the conversion); 10 % over the others.
- ``markov``: the journey's distinct channels share the conversion in proportion
  to their removal effects (``streams.markov``); a channel's share is spread
  evenly over its touches.

Milestone rules (``w_shaped``, ``full_path``):

- Milestones that fall on the same touch add up.
- A milestone is missing when its time is unknown or no touch of the journey is
  at or before it. Its share goes to the milestones present, in equal parts, so
  the milestones always hold 90 % together.
- When every touch is a milestone touch, the 10 % for the other touches goes to
  the milestone touches in proportion to what they hold, which makes each
  milestone touch's share (milestones on it) / (milestones present).

``markov`` falls back to ``linear`` for a journey whose channels all have a
removal effect of zero (or none yet); ``markov_falls_back`` tells a caller so.
``markov_global`` is not a split of one conversion: ``streams.markov`` credits
all conversions at once.

A refund or a correction is the same deal with a new net value: its credits come
from the same shares, so it reuses the original split.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property, lru_cache
from typing import NamedTuple

from schemas.errors import LeadroiError

UNIT = 1_000_000
UNATTRIBUTED = "(unattributed)"
DIRECT_CHANNEL = "Direct"
DAY_MS = 86_400_000

HEURISTIC_MODELS = (
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "time_decay",
    "u_shaped",
    "j_shaped",
    "inverse_j",
    "w_shaped",
    "full_path",
)
MARKOV_MODELS = ("markov", "markov_global")
MODEL_NAMES = HEURISTIC_MODELS + MARKOV_MODELS
# Models that read touch or milestone times, which aggregated paths do not have.
TIMED_MODELS = frozenset({"time_decay", "w_shaped", "full_path"})


class Touch(NamedTuple):
    """A classified touch as the models see it.

    A named tuple rather than a frozen dataclass: a batch run builds one per event,
    and a tuple is built four times faster.
    """

    event_id: str
    occurred_at_ms: int
    channel: str
    source: str = ""
    medium: str = ""
    campaign: str = ""

    @property
    def order_key(self) -> tuple[int, str]:
        return (self.occurred_at_ms, self.event_id)


class Conversion(NamedTuple):
    conversion_id: str
    occurred_at_ms: int
    value_minor: int = 0
    lead_created_ms: int | None = None
    opportunity_ms: int | None = None


class UnknownModel(LeadroiError):
    """A model name that leadroi does not implement for this use."""


class BadModelSetting(LeadroiError):
    """A model parameter outside its range."""


@dataclass(frozen=True)
class ModelParams:
    """What some models need besides the journey."""

    time_decay_half_life_days: float = 7.0
    # Channel -> removal effect, from streams.markov; None before any is known.
    removal_effects: Mapping[str, float] | None = field(default=None, compare=False)

    @cached_property
    def scaled_removal_effects(self) -> dict[str, int]:
        """The removal effects as integers in one common scale (they are binary
        fractions), so a journey's shares need no fraction arithmetic."""
        ratios = {
            channel: max(effect, 0.0).as_integer_ratio()
            for channel, effect in (self.removal_effects or {}).items()
        }
        scale = max((d for _, d in ratios.values()), default=1)
        return {channel: a * (scale // d) for channel, (a, d) in ratios.items()}

    def __post_init__(self) -> None:
        half_life = self.time_decay_half_life_days
        if not (half_life > 0 and math.isfinite(half_life)):
            raise BadModelSetting(
                f"time_decay_half_life_days: {half_life!r} is not a positive number"
            )


DEFAULT_PARAMS = ModelParams()


class Shares(NamedTuple):
    """Exact shares of one conversion: ``numerators[i] / denominator`` per touch."""

    numerators: tuple[int, ...]
    denominator: int


Model = Callable[[Sequence[Touch], Conversion, ModelParams], Shares]


def split(total: int, weights: Sequence[Fraction | float] | Shares) -> list[int]:
    """Split an integer ``total`` by ``weights`` (summing to one), exactly.

    Largest remainder: every share is floored, and the units left over go to the
    largest remainders, ties to the earlier position. A negative total is split as
    its magnitude and negated, so a refund mirrors the original split.
    """
    numerators, denominator = (
        weights if isinstance(weights, Shares) else _exact(weights)
    )
    if denominator == 1:
        return [total * a for a in numerators]

    magnitude = abs(total)
    floors: list[int] = []
    remainders: list[int] = []
    for a in numerators:
        whole, rest = divmod(magnitude * a, denominator)
        floors.append(whole)
        remainders.append(rest)
    left = magnitude - sum(floors)
    if left:
        # sorted() keeps equal remainders in position order, even reversed.
        order = sorted(range(len(floors)), key=remainders.__getitem__, reverse=True)
        for i in order[:left]:
            floors[i] += 1
    return [-share for share in floors] if total < 0 else floors


def _exact(weights: Sequence[Fraction | float]) -> Shares:
    return _from_fractions([Fraction(w) for w in weights])


def _from_fractions(weights: Sequence[Fraction]) -> Shares:
    denominator = math.lcm(*(w.denominator for w in weights)) if weights else 1
    numerators = tuple(w.numerator * (denominator // w.denominator) for w in weights)
    return _normalised(numerators)


def _normalised(numerators: tuple[int, ...]) -> Shares:
    total = sum(numerators)
    divisor = math.gcd(total, *numerators)
    if divisor > 1:
        return Shares(tuple(a // divisor for a in numerators), total // divisor)
    return Shares(numerators, total)


@lru_cache(maxsize=4096)
def _one_hot(n: int, index: int) -> Shares:
    return Shares(tuple(1 if i == index else 0 for i in range(n)), 1)


def _first(touches: Sequence[Touch], conversion: Conversion, _: ModelParams) -> Shares:
    return _one_hot(len(touches), 0)


def _last(touches: Sequence[Touch], conversion: Conversion, _: ModelParams) -> Shares:
    return _one_hot(len(touches), len(touches) - 1)


def is_direct(channel: str) -> bool:
    return channel.casefold() == DIRECT_CHANNEL.casefold()


def _last_non_direct(
    touches: Sequence[Touch], conversion: Conversion, _: ModelParams
) -> Shares:
    n = len(touches)
    for i in range(n - 1, -1, -1):
        if not is_direct(touches[i].channel):
            return _one_hot(n, i)
    return _one_hot(n, n - 1)


@lru_cache(maxsize=4096)
def _even(n: int) -> Shares:
    return Shares((1,) * n, n)


def _linear(touches: Sequence[Touch], conversion: Conversion, _: ModelParams) -> Shares:
    return _even(len(touches))


def _time_decay(
    touches: Sequence[Touch], conversion: Conversion, params: ModelParams
) -> Shares:
    half_life_ms = params.time_decay_half_life_days * DAY_MS
    # Measured from the latest touch instead of the conversion: normalising cancels
    # the common factor, and the latest touch's weight of 1 keeps old touches from
    # underflowing the whole journey to zero.
    latest_ms = touches[-1].occurred_at_ms
    weights = [2.0 ** ((t.occurred_at_ms - latest_ms) / half_life_ms) for t in touches]
    return from_floats(weights)


def from_floats(weights: Sequence[float]) -> Shares:
    """Exact shares from non-negative floats (not all zero), read as the binary
    fractions they are."""
    ratios = [w.as_integer_ratio() for w in weights]
    denominator = max(d for _, d in ratios)  # every denominator is a power of two
    return _normalised(tuple(a * (denominator // d) for a, d in ratios))


def _position(first_pct: int, last_pct: int) -> Model:
    middle_pct = 100 - first_pct - last_pct

    @lru_cache(maxsize=4096)
    def shares(n: int) -> Shares:
        if n == 1:
            return Shares((1,), 1)
        if n == 2:
            return _normalised((first_pct, last_pct))
        middle = n - 2
        numerators = (
            (first_pct * middle,) + (middle_pct,) * middle + (last_pct * middle,)
        )
        return _normalised(numerators)

    def weigh(
        touches: Sequence[Touch], conversion: Conversion, _: ModelParams
    ) -> Shares:
        return shares(len(touches))

    return weigh


def _last_at_or_before(times: Sequence[int], at_ms: int | None) -> int | None:
    if at_ms is None:
        return None
    index = bisect_right(times, at_ms) - 1
    return index if index >= 0 else None


def _milestone_shares(n: int, milestones: Sequence[int | None]) -> Shares:
    """90 % over the milestones present, 10 % over the other touches."""
    present = [i for i in milestones if i is not None]
    on_touch = [0] * n
    for i in present:
        on_touch[i] += 1
    others = n - sum(1 for count in on_touch if count)

    if not others:
        return _normalised(tuple(on_touch))
    # Denominator 100 * len(present) * others: a milestone is 90 / len(present) %,
    # another touch 10 / others %.
    return _normalised(
        tuple(90 * others * count if count else 10 * len(present) for count in on_touch)
    )


def _milestone_touches(
    touches: Sequence[Touch], conversion: Conversion, closed_won: bool
) -> list[int | None]:
    times = [t.occurred_at_ms for t in touches]
    milestones = [
        0,
        _last_at_or_before(times, conversion.lead_created_ms),
        _last_at_or_before(times, conversion.opportunity_ms),
    ]
    if closed_won:
        milestones.append(_last_at_or_before(times, conversion.occurred_at_ms))
    return milestones


def _w_shaped(
    touches: Sequence[Touch], conversion: Conversion, _: ModelParams
) -> Shares:
    return _milestone_shares(
        len(touches), _milestone_touches(touches, conversion, False)
    )


def _full_path(
    touches: Sequence[Touch], conversion: Conversion, _: ModelParams
) -> Shares:
    return _milestone_shares(
        len(touches), _milestone_touches(touches, conversion, True)
    )


def reads_times(model: str, conversion: Conversion) -> bool:
    """Whether ``model`` reads touch or milestone times for ``conversion``.

    When it does not, its shares of a journey depend only on the journey's
    channels in order, so journeys with the same channels share them.
    ``full_path``'s closed-won touch is the last of any journey ``journey_for``
    builds, so only its lead and opportunity milestones read times.
    """
    if model == "time_decay":
        return True
    if model in ("w_shaped", "full_path"):
        return (
            conversion.lead_created_ms is not None
            or conversion.opportunity_ms is not None
        )
    return False


def markov_falls_back(touches: Sequence[Touch], params: ModelParams) -> bool:
    """Whether ``markov`` credits this journey linearly: every channel of it has a
    removal effect of zero, or none is known yet."""
    effects = params.removal_effects or {}
    return not any(effects.get(t.channel, 0.0) > 0 for t in touches)


def _markov(
    touches: Sequence[Touch], conversion: Conversion, params: ModelParams
) -> Shares:
    if markov_falls_back(touches, params):
        return _even(len(touches))

    effects = params.scaled_removal_effects
    touches_of: dict[str, int] = {}
    for t in touches:
        touches_of[t.channel] = touches_of.get(t.channel, 0) + 1
    spread = math.lcm(*touches_of.values())
    numerators = tuple(
        effects.get(t.channel, 0) * (spread // touches_of[t.channel]) for t in touches
    )
    return Shares(numerators, sum(numerators))


MODELS: dict[str, Model] = {
    "first_touch": _first,
    "last_touch": _last,
    "last_non_direct": _last_non_direct,
    "linear": _linear,
    "time_decay": _time_decay,
    "u_shaped": _position(40, 40),
    "j_shaped": _position(20, 60),
    "inverse_j": _position(60, 20),
    "w_shaped": _w_shaped,
    "full_path": _full_path,
    "markov": _markov,
}


def eligible_from_ms(
    conversion_ms: int, previous_conversion_ms: int | None, lookback_days: int
) -> int | None:
    """The earliest time of a touch that may earn credit for a conversion at
    ``conversion_ms``: after the previous conversion of the same kind and inside
    the lookback window (``lookback_days`` 0 means unlimited); None for no bound.
    """
    # Times are integer milliseconds, so "after the previous conversion" is "at or
    # after the millisecond that follows it".
    bounds = [] if previous_conversion_ms is None else [previous_conversion_ms + 1]
    if lookback_days > 0:
        bounds.append(conversion_ms - lookback_days * DAY_MS)
    return max(bounds) if bounds else None


def journey_for(
    touches: Sequence[Touch],
    conversion: Conversion,
    previous_conversion_ms: int | None,
    lookback_days: int,
) -> list[Touch]:
    """The touches that may earn credit for ``conversion``, oldest first.

    A touch is eligible when it happened at or before the conversion and at or
    after ``eligible_from_ms``.
    """
    end_ms = conversion.occurred_at_ms
    start_ms = eligible_from_ms(end_ms, previous_conversion_ms, lookback_days)
    if start_ms is None:
        eligible = [t for t in touches if t.occurred_at_ms <= end_ms]
    else:
        eligible = [t for t in touches if start_ms <= t.occurred_at_ms <= end_ms]
    return sorted(eligible, key=_order_key)


def _order_key(touch: Touch) -> tuple[int, str]:
    return (touch.occurred_at_ms, touch.event_id)


@dataclass(frozen=True, slots=True)
class Credit:
    touch: Touch | None  # None: the conversion had no eligible touch
    credit_units: int
    value_minor: int


def model_for(model: str) -> Model:
    try:
        return MODELS[model]
    except KeyError as exc:
        if model == "markov_global":
            raise UnknownModel(
                "model: 'markov_global' credits all conversions at once, not one;"
                " expected it through streams.markov.global_credits"
            ) from exc
        known = ", ".join(sorted(MODELS))
        raise UnknownModel(
            f"model: {model!r} is not known; expected one of {known}"
        ) from exc


def shares(
    model: str,
    journey: Sequence[Touch],
    conversion: Conversion,
    params: ModelParams = DEFAULT_PARAMS,
) -> Shares:
    """The exact share of every touch of a non-empty ``journey``."""
    return model_for(model)(journey, conversion, params)


def credits(
    journey: Sequence[Touch], touch_shares: Shares, credit_units: int, value_minor: int
) -> list[Credit]:
    """Split ``credit_units`` and ``value_minor`` over ``journey`` by its shares,
    keeping only touches that receive something."""
    units = split(credit_units, touch_shares)
    values = split(value_minor, touch_shares)
    return [
        Credit(touch, u, v)
        for touch, u, v in zip(journey, units, values, strict=True)
        if u or v
    ]


def attribute(
    model: str,
    journey: Sequence[Touch],
    conversion: Conversion,
    params: ModelParams = DEFAULT_PARAMS,
) -> list[Credit]:
    """Credit ``conversion`` over ``journey`` (already filtered and ordered)."""
    weigh = model_for(model)
    if not journey:
        return [Credit(None, UNIT, conversion.value_minor)]
    return credits(
        journey, weigh(journey, conversion, params), UNIT, conversion.value_minor
    )
