"""ROI at read time: from aggregate cells to report rows.

Every ratio is one summed numerator over one summed denominator, kept exact as a
Fraction and rounded to two decimals (half up, i.e. away from zero on a tie) only
when it becomes text; an average of daily ratios is never taken. A ratio whose
denominator is zero is None, never zero, infinity or NaN.

Revenue is gross: what was sold, on the day of the sale. Refunds are their own
figure, on the day of the refund, charged to the touches credited with the sale in
its proportions; net revenue is revenue minus refunds, and ROI % and ROAS use net
revenue. A window holding a refund of a sale made before it can have a negative
net revenue. The average deal is gross revenue per won deal: what a deal sells for.

Money is never converted between currencies. A report has one row per model,
dimension value and currency; spend joins the model rows on dimension value and
currency. A ratio is None when part of the money it needs is in another currency
of the same dimension value, since the parts cannot be added.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from schemas.errors import LeadroiError
from streams.attribution import UNIT
from streams.ledger import ALL_TIME, DIMENSIONS, REFUNDS, SPEND_LINES, Cell
from streams.money import format_minor, minor_exponent

SPEND_SCOPE = "spend"
TOUCHES_SCOPE = "touches"
PATHS_SCOPE = "markov_paths"  # path counts of the Markov chain (streams.lead_paths)
NON_MODEL_SCOPES = (SPEND_SCOPE, TOUCHES_SCOPE, PATHS_SCOPE)
REVENUE_PREFIX = "revenue:"
SPEND_PREFIX = "spend:"

WINDOW_DAYS: dict[str, int | None] = {"all": None, "7d": 7, "30d": 30, "90d": 90}

Sums = dict[str, int]
Value = str | int | bool | None


class UnknownWindow(LeadroiError):
    """A rolling window name that reports do not offer."""


class UnknownDimension(LeadroiError):
    """A dimension that aggregates are not kept by."""


@dataclass(frozen=True)
class Window:
    """All time, or the ``days`` calendar days ending at ``last_day`` inclusive."""

    name: str
    days: int | None
    last_day: date

    @property
    def first_day(self) -> date | None:
        if self.days is None:
            return None
        return self.last_day - timedelta(days=self.days - 1)

    def buckets(self) -> list[str]:
        """The aggregate buckets whose sum is this window."""
        first = self.first_day
        if first is None:
            return [ALL_TIME]
        return [(first + timedelta(days=i)).isoformat() for i in range(self.days or 0)]


def window(name: str, as_of: date) -> Window:
    """The window called ``name`` ending at (and including) the day ``as_of``."""
    if name not in WINDOW_DAYS:
        expected = ", ".join(WINDOW_DAYS)
        raise UnknownWindow(
            f"window: {name!r} is not offered; expected one of {expected}"
        )
    return Window(name, WINDOW_DAYS[name], as_of)


@dataclass(frozen=True)
class RoiRow:
    """One model's figures for one dimension value in one currency.

    Counts of leads and deals are exact decimals of credit (fractional under
    models that split a conversion); money and ratios are decimal strings.
    """

    model: str
    dimension: str
    value: str
    currency: str | None
    leads: str
    won: str
    lost: str
    touches: int
    revenue: str  # gross: what was sold
    refunds: str
    net_revenue: str
    spend: str | None  # None: no spend line at all, unlike a known spend of 0
    cpl: str | None
    cac: str | None
    roi_pct: str | None
    roas: str | None
    win_rate_pct: str | None
    avg_deal: str | None
    mixed_currency: bool

    def as_dict(self) -> dict[str, Value]:
        return asdict(self)


FIELDS = tuple(RoiRow.__dataclass_fields__)


@dataclass(frozen=True)
class Report:
    dimension: str
    window: Window
    models: tuple[str, ...]
    rows: tuple[RoiRow, ...]

    def as_dict(self) -> dict[str, object]:
        first = self.window.first_day
        return {
            "dimension": self.dimension,
            "window": self.window.name,
            "first_day": first.isoformat() if first else None,
            "last_day": self.window.last_day.isoformat() if first else None,
            "models": list(self.models),
            "rows": [row.as_dict() for row in self.rows],
        }


def credits(units: int) -> str:
    """Credit units as an exact decimal: 3_500_000 → "3.5", 333_333 → "0.333333"."""
    return format(Decimal(units).scaleb(-6).normalize(), "f")


def round2(ratio: Fraction) -> str:
    """Two decimals, half away from zero, computed on integers."""
    magnitude = abs(ratio) * 100
    whole, remainder = divmod(magnitude.numerator, magnitude.denominator)
    if 2 * remainder >= magnitude.denominator:
        whole += 1
    signed = -whole if ratio < 0 else whole
    return format(Decimal(signed).scaleb(-2), "f")


def ratio(numerator: int, denominator: int, defined: bool = True) -> str | None:
    """``numerator / denominator`` to two decimals; None when undefined."""
    if denominator == 0 or not defined:
        return None
    return round2(Fraction(numerator, denominator))


def models_in(cells: Iterable[Cell]) -> list[str]:
    """The attribution models that wrote any of ``cells``."""
    return sorted({c.scope for c in cells if c.scope not in NON_MODEL_SCOPES})


def _sum(
    cells: Mapping[Cell, int], dimension: str, buckets: Collection[str]
) -> dict[tuple[str, str], Sums]:
    sums: dict[tuple[str, str], Sums] = defaultdict(lambda: defaultdict(int))
    for cell, amount in cells.items():
        if cell.dimension == dimension and cell.day in buckets:
            sums[(cell.scope, cell.value)][cell.metric] += amount
    return sums


def _money(sums: Sums, prefix: str) -> dict[str, int]:
    return {
        metric.removeprefix(prefix): amount
        for metric, amount in sums.items()
        if metric.startswith(prefix) and amount
    }


def _amount(amount_minor: int, currency: str | None) -> str:
    return format_minor(amount_minor, currency) if currency else str(amount_minor)


@dataclass(frozen=True)
class _Group:
    """What one model and the spend table hold for one dimension value."""

    model: str
    dimension: str
    value: str
    counts: Sums
    revenue: dict[str, int]
    refunds: dict[str, int]
    spend: dict[str, int]
    spend_known: frozenset[str]  # currencies with at least one spend line
    touches: int

    def currencies(self) -> list[str | None]:
        found: list[str | None] = [
            *sorted(
                self.revenue.keys()
                | self.refunds.keys()
                | self.spend.keys()
                | self.spend_known
            )
        ]
        return found or [None]

    def row(self, currency: str | None) -> RoiRow:
        leads, won, lost = (self.counts.get(m, 0) for m in ("leads", "won", "lost"))
        scale = 10 ** minor_exponent(currency) if currency else 1
        revenue_minor = self.revenue.get(currency or "", 0)
        refunds_minor = self.refunds.get(currency or "", 0)
        net_minor = revenue_minor - refunds_minor
        spend_minor = self.spend.get(currency or "", 0)

        # A sum is whole when none of it sits in another currency.
        only = {currency}
        # Without any spend line, spend is unknown: every ratio over it is null.
        known = currency in self.spend_known or spend_minor != 0
        spend_single = self.spend.keys() <= only
        spend_whole = spend_single and known
        revenue_whole = (self.revenue.keys() | self.refunds.keys()) <= only
        both_whole = spend_whole and revenue_whole

        return RoiRow(
            model=self.model,
            dimension=self.dimension,
            value=self.value,
            currency=currency,
            leads=credits(leads),
            won=credits(won),
            lost=credits(lost),
            touches=self.touches,
            revenue=_amount(revenue_minor, currency),
            refunds=_amount(refunds_minor, currency),
            net_revenue=_amount(net_minor, currency),
            spend=_amount(spend_minor, currency) if known else None,
            cpl=ratio(spend_minor * UNIT, leads * scale, spend_whole),
            cac=ratio(spend_minor * UNIT, won * scale, spend_whole),
            roi_pct=ratio((net_minor - spend_minor) * 100, spend_minor, both_whole),
            roas=ratio(net_minor, spend_minor, both_whole),
            win_rate_pct=ratio(won * 100, won + lost),
            avg_deal=ratio(revenue_minor * UNIT, won * scale, revenue_whole),
            mixed_currency=not (spend_single and revenue_whole),
        )


def _order(row: RoiRow) -> tuple[Decimal, Decimal, str, str]:
    # Revenue compares across currencies only as numbers; the order is for
    # reading, and it is stable.
    net = Decimal(row.net_revenue)
    return (-net, -Decimal(row.leads), row.value, row.currency or "")


def report(
    cells: Mapping[Cell, int],
    dimension: str,
    period: Window,
    models: Iterable[str],
) -> Report:
    """Rows for every model in ``models``, each model's rows by net revenue, then
    leads, descending.

    ``models`` is given by the caller rather than read from ``cells`` because a
    window with spend but no conversion must still show that spend under every
    model.
    """
    if dimension not in DIMENSIONS:
        expected = ", ".join(DIMENSIONS)
        raise UnknownDimension(
            f"dimension: {dimension!r} is not kept; expected one of {expected}"
        )

    sums = _sum(cells, dimension, set(period.buckets()))
    spend = {v: s for (scope, v), s in sums.items() if scope == SPEND_SCOPE}
    touches = {
        v: s.get("touches", 0)
        for (scope, v), s in sums.items()
        if scope == TOUCHES_SCOPE
    }
    chosen = tuple(dict.fromkeys(models))

    rows: list[RoiRow] = []
    for model in chosen:
        values = (
            {v for scope, v in sums if scope == model} | spend.keys() | touches.keys()
        )
        groups = [
            _Group(
                model,
                dimension,
                value,
                counts=sums.get((model, value), {}),
                revenue=_money(sums.get((model, value), {}), REVENUE_PREFIX),
                refunds=_money(sums.get((model, value), {}), REFUNDS),
                spend=_money(spend.get(value, {}), SPEND_PREFIX),
                spend_known=frozenset(_money(spend.get(value, {}), SPEND_LINES)),
                touches=touches.get(value, 0),
            )
            for value in values
        ]
        model_rows = [g.row(c) for g in groups for c in g.currencies()]
        rows.extend(sorted(model_rows, key=_order))
    return Report(dimension, period, chosen, tuple(rows))
