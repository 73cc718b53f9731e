from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from leadroi import olist
from streams import roi
from streams.ledger import DIMENSIONS, Cell
from tests.roi_cases import cells_of, deal, f17_events, lead, spend

F17_DAY = date(2026, 11, 30)
MODELS = ("first_touch", "last_touch", "linear")


def _rows(
    cells: dict[Cell, int],
    model: str = "first_touch",
    by: str = "source",
    window: str = "all",
    as_of: date = F17_DAY,
) -> dict[tuple[str, str | None], roi.RoiRow]:
    report = roi.report(cells, by, roi.window(window, as_of), [model])
    return {(row.value, row.currency): row for row in report.rows}


@pytest.fixture(scope="module")
def f17_cells() -> dict[Cell, int]:
    return cells_of(f17_events())


class TestF17:
    def test_spend_without_leads_has_no_cpl_and_loses_everything(
        self, f17_cells: dict[Cell, int]
    ) -> None:
        row = _rows(f17_cells)[("linkedin / paid_social", "USD")]

        assert (row.spend, row.leads, row.won, row.revenue) == (
            "250.00",
            "0",
            "0",
            "0.00",
        )
        assert row.cpl is None
        assert row.cac is None
        assert Decimal(row.roi_pct or "nan") == Decimal("-100.0")
        assert row.roas == "0.00"

    def test_leads_without_spend_cost_nothing_and_have_no_roi(
        self, f17_cells: dict[Cell, int]
    ) -> None:
        row = _rows(f17_cells)[("newsletter / email", "USD")]

        assert (row.spend, row.leads, row.won, row.revenue) == (
            "0.00",
            "3",
            "1",
            "1200.00",
        )
        assert (row.cpl, row.cac) == ("0.00", "0.00")
        assert row.roi_pct is None
        assert row.roas is None
        assert row.avg_deal == "1200.00"

    def test_week_cpl_is_summed_spend_over_summed_leads_not_mean_of_days(
        self, f17_cells: dict[Cell, int]
    ) -> None:
        week = _rows(f17_cells, window="7d", as_of=date(2026, 11, 29))
        row = week[("google / cpc", "USD")]

        assert (row.spend, row.leads) == ("150.00", "11")
        assert row.cpl == "13.64"
        assert row.cpl != "30.00"

    def test_week_window_excludes_days_after_its_end(
        self, f17_cells: dict[Cell, int]
    ) -> None:
        week = _rows(f17_cells, window="7d", as_of=date(2026, 11, 29))

        assert ("linkedin / paid_social", "USD") not in week
        assert ("newsletter / email", "USD") not in week

    def test_window_counts_its_end_day_and_drops_the_day_before_its_start(
        self, f17_cells: dict[Cell, int]
    ) -> None:
        # 2026-11-24..30: day B of google counts, day A (the 23rd) does not.
        row = _rows(f17_cells, window="7d")[("google / cpc", "USD")]

        assert (row.spend, row.leads, row.cpl) == ("50.00", "1", "50.00")

    def test_every_model_shows_spend_without_conversions(
        self, f17_cells: dict[Cell, int]
    ) -> None:
        for model in MODELS:
            row = _rows(f17_cells, model=model)[("linkedin / paid_social", "USD")]
            assert (row.model, row.cpl, row.roi_pct) == (model, None, "-100.00")

    def test_rows_sorted_by_revenue_then_leads(
        self, f17_cells: dict[Cell, int]
    ) -> None:
        report = roi.report(
            f17_cells, "source", roi.window("all", F17_DAY), ["first_touch"]
        )

        assert [row.value for row in report.rows] == [
            "newsletter / email",
            "google / cpc",
            "linkedin / paid_social",
        ]

    def test_channel_dimension_joins_spend_by_channel(
        self, f17_cells: dict[Cell, int]
    ) -> None:
        rows = _rows(f17_cells, by="channel")

        assert rows[("Paid Social", "USD")].roi_pct == "-100.00"
        assert rows[("Paid Search", "USD")].cpl == "13.64"
        assert rows[("Email", "USD")].roi_pct is None


class TestCredits:
    def test_linear_splits_leads_into_exact_fractions(self) -> None:
        events = lead("L1", "2026-11-02", ("google", "cpc"), ("newsletter", "email"))
        events += lead("L2", "2026-11-03", ("google", "cpc"))
        events += [spend("2026-11-02", "google", "cpc", "30.00")]
        rows = _rows(cells_of(events), model="linear")

        google = rows[("google / cpc", "USD")]
        assert google.leads == "1.5"
        assert google.cpl == "20.00"
        assert rows[("newsletter / email", None)].leads == "0.5"

    def test_linear_thirds_add_up_to_whole_leads(self) -> None:
        touches = (("google", "cpc"), ("bing", "cpc"), ("newsletter", "email"))
        rows = _rows(cells_of(lead("L1", "2026-11-02", *touches)), model="linear")

        leads = [Decimal(row.leads) for row in rows.values()]
        assert sorted(leads) == [
            Decimal("0.333333"),
            Decimal("0.333333"),
            Decimal("0.333334"),
        ]
        assert sum(leads) == 1

    def test_lost_deals_set_win_rate(self) -> None:
        events = lead("W", "2026-11-02", ("google", "cpc"))
        events += lead("L", "2026-11-02", ("google", "cpc"))
        events += lead("M", "2026-11-02", ("google", "cpc"))
        events += [
            deal("W", "2026-11-05", "won", "900.00"),
            deal("L", "2026-11-05", "lost"),
            deal("M", "2026-11-06", "lost"),
        ]
        row = _rows(cells_of(events))[("google / cpc", "USD")]

        assert (row.won, row.lost, row.win_rate_pct) == ("1", "2", "33.33")
        assert row.avg_deal == "900.00"


class TestCurrencies:
    def test_revenue_and_spend_in_different_currencies_have_no_roi(self) -> None:
        events = lead("L1", "2026-11-02", ("google", "cpc"))
        events += [
            deal("L1", "2026-11-03", "won", "500.00", "BRL"),
            spend("2026-11-02", "google", "cpc", "40.00", "USD"),
        ]
        rows = _rows(cells_of(events))

        brl, usd = rows[("google / cpc", "BRL")], rows[("google / cpc", "USD")]
        assert (brl.revenue, brl.spend, usd.revenue, usd.spend) == (
            "500.00",
            None,  # no spend line in BRL: unknown, not zero
            "0.00",
            "40.00",
        )
        assert (brl.roi_pct, brl.roas, usd.roi_pct, usd.roas) == (None,) * 4
        assert (usd.cpl, usd.cac, brl.cpl) == ("40.00", "40.00", None)
        assert (brl.avg_deal, usd.avg_deal) == ("500.00", None)
        assert brl.mixed_currency and usd.mixed_currency

    def test_each_currency_keeps_its_own_minor_unit(self) -> None:
        events = lead("L1", "2026-11-02", ("yahoo", "cpc"))
        events += lead("L2", "2026-11-02", ("yahoo", "cpc"))
        events += lead("L3", "2026-11-02", ("yahoo", "cpc"))
        events += [
            spend("2026-11-02", "yahoo", "cpc", "1000", "JPY"),
            deal("L1", "2026-11-04", "won", "4000", "JPY"),
        ]
        row = _rows(cells_of(events))[("yahoo / cpc", "JPY")]

        assert (row.spend, row.revenue, row.cpl) == ("1000", "4000", "333.33")
        assert (row.roi_pct, row.roas, row.mixed_currency) == ("300.00", "4.00", False)

    def test_value_without_money_has_one_row_without_currency(self) -> None:
        rows = _rows(cells_of(lead("L1", "2026-11-02", ("reddit", "social"))))

        row = rows[("reddit / social", None)]
        assert (row.revenue, row.spend, row.cpl, row.cac, row.roi_pct) == (
            "0",
            None,  # no spend line: spend and every ratio over it are unknown
            None,
            None,
            None,
        )

    def test_zero_spend_line_is_known_spend(self) -> None:
        events = lead("L1", "2026-11-02", ("reddit", "social"))
        events.append(spend("2026-11-02", "reddit", "social", "0.00", "USD"))

        row = _rows(cells_of(events))[("reddit / social", "USD")]

        assert (row.spend, row.cpl, row.roi_pct) == ("0.00", "0.00", None)


class TestRounding:
    @pytest.mark.parametrize(
        ("value", "text"),
        [
            (Fraction(150, 11), "13.64"),
            (Fraction(1, 200), "0.01"),
            (Fraction(-1, 200), "-0.01"),
            (Fraction(2345, 1000), "2.35"),
            (Fraction(4999, 1000000), "0.00"),
            (Fraction(-100), "-100.00"),
        ],
    )
    def test_round2_half_away_from_zero_exact(self, value: Fraction, text: str) -> None:
        assert roi.round2(value) == text

    def test_ratio_zero_denominator_none(self) -> None:
        assert roi.ratio(5, 0) is None

    def test_credits_exact_decimal_without_exponent(self) -> None:
        assert [roi.credits(u) for u in (30_000_000, 3_500_000, 1, 0)] == [
            "30",
            "3.5",
            "0.000001",
            "0",
        ]


class TestWindows:
    def test_window_unknown_name_raises(self) -> None:
        with pytest.raises(roi.UnknownWindow, match="window: '14d'"):
            roi.window("14d", F17_DAY)

    def test_window_30d_spans_thirty_days_ending_as_of(self) -> None:
        period = roi.window("30d", F17_DAY)

        assert period.buckets()[0] == "2026-11-01"
        assert period.buckets()[-1] == "2026-11-30"
        assert len(period.buckets()) == 30

    def test_report_unknown_dimension_raises(self) -> None:
        with pytest.raises(roi.UnknownDimension, match="dimension: 'country'"):
            roi.report({}, "country", roi.window("all", F17_DAY), MODELS)


NUMBER_FIELDS = [*("leads", "won", "lost", "revenue", "spend", "cpl", "cac")]
NUMBER_FIELDS += ["roi_pct", "roas", "win_rate_pct", "avg_deal"]


def _finite(row: roi.RoiRow) -> bool:
    values = row.as_dict()
    texts = [values[name] for name in NUMBER_FIELDS]
    return all(t is None or Decimal(str(t)).is_finite() for t in texts)


def test_olist_reports_finite_and_conserve_leads(data_dir: Path) -> None:
    cells = cells_of(olist.events(data_dir))
    mqls = sum(1 for e in olist.lead_events(data_dir) if e["type"] == "identify")
    periods = [roi.window(name, date(2018, 6, 30)) for name in roi.WINDOW_DAYS]
    reports = [
        roi.report(cells, by, period, roi.models_in(cells))
        for by in DIMENSIONS
        for period in periods
    ]

    assert all(_finite(row) for report in reports for row in report.rows)
    for report in reports:
        if report.window.name != "all":
            continue
        # markov_global splits won deals only, all at once.
        for model in set(report.models).difference({"markov_global"}):
            leads = [Decimal(r.leads) for r in report.rows if r.model == model]
            assert sum(leads) == mqls
