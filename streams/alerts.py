"""Watch rules: alerts over the ROI cells of one day and the days before it.

Pure: cells in, alerts out; no I/O and no clock. For a day ``D`` and each value
of one dimension (a source or a channel):

- ``spend_without_leads``: spend above 0 on ``D`` in some currency and no lead
  credited on ``D``. Its CPL is undefined, which is worse than any CPL.
- ``cpl_spike``: the CPL of ``D`` above ``cpl_factor`` times the trailing CPL,
  the summed spend over the summed leads of the ``trailing_days`` days before
  ``D``. Both CPLs need spend and leads above 0, and all spend of those days in
  one currency, since leads cannot be split between currencies. A value without
  such a baseline (new, or free until now) is not judged.
- ``lead_volume_drop``: leads on ``D`` below ``volume_ratio`` times the average
  leads of the same weekday over the ``volume_weeks`` weeks before (``D`` - 7,
  ``D`` - 14, ...), when that average is at least ``volume_min_daily_leads``.
  Links or forms that lost their tags show up this way. Lead volume follows the
  week (B2B forms are quiet on Saturdays and Sundays), so a Sunday is held
  against Sundays, never against the weekdays before it; a small source is too
  noisy to judge.

  A value is judged only once each of those ``volume_weeks`` same weekdays has
  data (leads or spend). A same weekday without any is either before the value
  existed or a weekday on which it is too sparse to tell broken tags from
  ordinary quiet; averaging over only the weeks that exist would let one busy
  first week, as a launch often is, become the baseline of a "collapse".

Leads are credit units of one attribution model (``AlertRules.model``), spend
comes from the spend tables. Every comparison is exact, on integers and
Fractions; figures become decimal text only inside an alert.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from schemas.errors import LeadroiError
from streams.attribution import MODEL_NAMES, UNIT
from streams.ledger import Cell
from streams.money import format_minor, minor_exponent
from streams.roi import SPEND_PREFIX, SPEND_SCOPE, credits, round2

SPEND_WITHOUT_LEADS = "spend_without_leads"
CPL_SPIKE = "cpl_spike"
LEAD_VOLUME_DROP = "lead_volume_drop"
RULES = (SPEND_WITHOUT_LEADS, CPL_SPIKE, LEAD_VOLUME_DROP)
# English names whatever the locale: they appear in alert text.
WEEKDAYS = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)


class BadAlertSetting(LeadroiError):
    """An alert threshold outside its range, or not a number."""


def _decimal(value: Fraction) -> str:
    """A threshold as the decimal it was written as ("2", "0.2")."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return format(exact.normalize(), "f")


def _variable(name: str) -> str:
    return f"LEADROI_ALERT_{name.upper()}"


def _fraction(env: Mapping[str, str], name: str, default: Fraction) -> Fraction:
    text = env.get(_variable(name))
    if text is None:
        return default
    try:
        return Fraction(Decimal(text.strip()))
    except (InvalidOperation, ValueError) as exc:
        raise BadAlertSetting(
            f"{_variable(name)}: {text!r} is not a decimal number;"
            " expected e.g. '2' or '0.2'"
        ) from exc


def _whole(
    env: Mapping[str, str], name: str, default: int, unit: str, example: int
) -> int:
    text = env.get(_variable(name))
    if text is None:
        return default
    if not text.strip().isdigit():
        raise BadAlertSetting(
            f"{_variable(name)}: {text!r} is not a whole number of {unit};"
            f" expected e.g. '{example}'"
        )
    return int(text)


@dataclass(frozen=True)
class AlertRules:
    """The thresholds of every rule, and the model whose leads they count."""

    model: str = "last_non_direct"
    cpl_factor: Fraction = Fraction(2)
    trailing_days: int = 7
    volume_ratio: Fraction = Fraction(1, 5)
    volume_weeks: int = 4
    volume_min_daily_leads: Fraction = Fraction(3)

    def __post_init__(self) -> None:
        checks = [
            ("model", self.model in MODEL_NAMES, "a model name"),
            ("cpl_factor", self.cpl_factor > 0, "above 0"),
            ("trailing_days", self.trailing_days >= 1, "1 or more"),
            ("volume_ratio", 0 < self.volume_ratio <= 1, "above 0 and at most 1"),
            ("volume_weeks", self.volume_weeks >= 1, "1 or more"),
            ("volume_min_daily_leads", self.volume_min_daily_leads >= 0, "0 or more"),
        ]
        for name, good, expected in checks:
            if not good:
                shown = getattr(self, name)
                raise BadAlertSetting(
                    f"{name} ({_variable(name)}): {shown!s} is not {expected}"
                )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AlertRules:
        """Thresholds from ``LEADROI_ALERT_*`` variables, defaults for the rest."""
        default = cls()
        return cls(
            model=env.get(_variable("model"), default.model).strip(),
            cpl_factor=_fraction(env, "cpl_factor", default.cpl_factor),
            trailing_days=_whole(
                env, "trailing_days", default.trailing_days, "days", 7
            ),
            volume_ratio=_fraction(env, "volume_ratio", default.volume_ratio),
            volume_weeks=_whole(env, "volume_weeks", default.volume_weeks, "weeks", 4),
            volume_min_daily_leads=_fraction(
                env, "volume_min_daily_leads", default.volume_min_daily_leads
            ),
        )

    def as_dict(self) -> dict[str, str | int]:
        return {
            "model": self.model,
            "cpl_factor": _decimal(self.cpl_factor),
            "trailing_days": self.trailing_days,
            "volume_ratio": _decimal(self.volume_ratio),
            "volume_weeks": self.volume_weeks,
            "volume_min_daily_leads": _decimal(self.volume_min_daily_leads),
        }


@dataclass(frozen=True)
class Alert:
    rule: str
    dimension: str
    value: str
    day: str
    currency: str | None  # None for a rule on leads alone
    observed: dict[str, str] = field(compare=False)
    threshold: str = field(compare=False)
    reason: str = field(compare=False)

    @property
    def key(self) -> str:
        """What makes an alert the same alert: rule, value and day."""
        return "|".join((self.rule, self.dimension, self.value, self.day))

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "dimension": self.dimension,
            "value": self.value,
            "day": self.day,
            "currency": self.currency,
            "observed": dict(self.observed),
            "threshold": self.threshold,
            "reason": self.reason,
        }


def _trailing_days(day: date, rules: AlertRules) -> list[date]:
    return [day - timedelta(days=back) for back in range(1, rules.trailing_days + 1)]


def _same_weekdays(day: date, rules: AlertRules) -> list[date]:
    return [day - timedelta(weeks=back) for back in range(1, rules.volume_weeks + 1)]


def days_for(day: date, rules: AlertRules) -> list[str]:
    """The day buckets a judgement of ``day`` reads, oldest first: the trailing
    days and the same weekdays of earlier weeks, then ``day`` itself."""
    before = {*_trailing_days(day, rules), *_same_weekdays(day, rules)}
    return [d.isoformat() for d in sorted(before)] + [day.isoformat()]


@dataclass
class _Value:
    """One dimension value's leads (credit units) and spend (minor units by
    currency): on the judged day, summed over the trailing days, and leads summed
    over the same weekdays of earlier weeks, with those that had any of either."""

    leads: int = 0
    trailing_leads: int = 0
    spend: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    trailing_spend: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    weekday_leads: int = 0
    weekdays_with_data: set[str] = field(default_factory=set)

    def currencies(self) -> set[str]:
        both = (*self.spend.items(), *self.trailing_spend.items())
        return {currency for currency, amount in both if amount}


def _values(
    cells: Mapping[Cell, int], dimension: str, day: str, rules: AlertRules
) -> dict[str, _Value]:
    judged = date.fromisoformat(day)
    trailing = {d.isoformat() for d in _trailing_days(judged, rules)}
    weekdays = {d.isoformat() for d in _same_weekdays(judged, rules)}
    found: dict[str, _Value] = defaultdict(_Value)
    for cell, amount in cells.items():
        in_window = cell.day == day or cell.day in trailing or cell.day in weekdays
        is_leads = cell.scope == rules.model and cell.metric == "leads"
        is_spend = cell.scope == SPEND_SCOPE and cell.metric.startswith(SPEND_PREFIX)
        if cell.dimension != dimension or not in_window or not (is_leads or is_spend):
            continue

        value = found[cell.value]
        if is_leads:
            value.leads += amount if cell.day == day else 0
            value.trailing_leads += amount if cell.day in trailing else 0
            value.weekday_leads += amount if cell.day in weekdays else 0
        else:
            currency = cell.metric.removeprefix(SPEND_PREFIX)
            value.spend[currency] += amount if cell.day == day else 0
            value.trailing_spend[currency] += amount if cell.day in trailing else 0
        if cell.day in weekdays and amount:
            value.weekdays_with_data.add(cell.day)
    return found


def _cpl(spend_minor: int, leads_units: int, currency: str) -> Fraction:
    return Fraction(spend_minor * UNIT, leads_units * 10 ** minor_exponent(currency))


def _spend_without_leads(
    dimension: str, name: str, day: str, value: _Value
) -> list[Alert]:
    if value.leads:
        return []
    return [
        Alert(
            SPEND_WITHOUT_LEADS,
            dimension,
            name,
            day,
            currency,
            observed={"spend": format_minor(spend, currency), "leads": "0"},
            threshold="at least one lead on a day with spend",
            reason=(
                f"spend without leads: {format_minor(spend, currency)} {currency}"
                f" spent on {day} and 0 leads, so CPL is undefined"
            ),
        )
        for currency, spend in sorted(value.spend.items())
        if spend > 0
    ]


def _cpl_spike(
    dimension: str, name: str, day: str, value: _Value, rules: AlertRules
) -> list[Alert]:
    currencies = value.currencies()
    if len(currencies) != 1 or not (value.leads and value.trailing_leads):
        return []
    [currency] = currencies
    spend, trailing_spend = value.spend[currency], value.trailing_spend[currency]
    if spend <= 0 or trailing_spend <= 0:
        return []

    cpl = _cpl(spend, value.leads, currency)
    trailing_cpl = _cpl(trailing_spend, value.trailing_leads, currency)
    limit = rules.cpl_factor * trailing_cpl
    if cpl <= limit:
        return []
    days = rules.trailing_days
    factor = _decimal(rules.cpl_factor)
    return [
        Alert(
            CPL_SPIKE,
            dimension,
            name,
            day,
            currency,
            observed={
                "cpl": round2(cpl),
                "spend": format_minor(spend, currency),
                "leads": credits(value.leads),
                "trailing_cpl": round2(trailing_cpl),
                "trailing_spend": format_minor(trailing_spend, currency),
                "trailing_leads": credits(value.trailing_leads),
            },
            threshold=f"{factor} x trailing {days}-day CPL = {round2(limit)}",
            reason=(
                f"CPL spike: {round2(cpl)} {currency} per lead on {day}, above"
                f" {factor} x the {round2(trailing_cpl)} of the {days} days before"
            ),
        )
    ]


def _same_weekdays_text(day: str, weeks: int) -> str:
    """ "the last Monday", "the average of the last 4 Mondays"."""
    weekday = WEEKDAYS[date.fromisoformat(day).weekday()]
    if weeks == 1:
        return f"the last {weekday}"
    return f"the average of the last {weeks} {weekday}s"


def _lead_volume_drop(
    dimension: str, name: str, day: str, value: _Value, rules: AlertRules
) -> list[Alert]:
    if len(value.weekdays_with_data) < rules.volume_weeks:
        return []
    average = Fraction(value.weekday_leads, rules.volume_weeks * UNIT)
    if value.weekday_leads <= 0 or average < rules.volume_min_daily_leads:
        return []
    limit = rules.volume_ratio * average
    leads = Fraction(value.leads, UNIT)
    if leads >= limit:
        return []

    baseline = _same_weekdays_text(day, rules.volume_weeks)
    return [
        Alert(
            LEAD_VOLUME_DROP,
            dimension,
            name,
            day,
            None,
            observed={
                "leads": credits(value.leads),
                "weekday_average_leads": round2(average),
                "weekday_leads": credits(value.weekday_leads),
            },
            threshold=f"{_decimal(rules.volume_ratio)} x {baseline} = {round2(limit)}",
            reason=(
                f"lead volume drop: {credits(value.leads)} leads on {day}, below"
                f" {_decimal(rules.volume_ratio)} x {baseline} ({round2(average)});"
                " check that links and forms still carry their tags"
            ),
        )
    ]


def evaluate(
    cells: Mapping[Cell, int], dimension: str, day: date, rules: AlertRules
) -> list[Alert]:
    """Every alert of ``day`` for the values of ``dimension``, by rule then value.

    ``cells`` must hold the days of ``days_for(day, rules)``; other days are
    ignored.
    """
    shown = day.isoformat()
    found: list[Alert] = []
    for name, value in _values(cells, dimension, shown, rules).items():
        found += _spend_without_leads(dimension, name, shown, value)
        found += _cpl_spike(dimension, name, shown, value, rules)
        found += _lead_volume_drop(dimension, name, shown, value, rules)
    return sorted(found, key=lambda a: (RULES.index(a.rule), a.value, a.currency or ""))


def counts(alerts: Iterable[Alert]) -> dict[str, int]:
    """How many alerts each rule has, every rule listed."""
    found = dict.fromkeys(RULES, 0)
    for alert in alerts:
        found[alert.rule] += 1
    return found
