"""Refunds (field case F15): gross stays, refunds follow the sale's credit, ROI
uses net. Every figure comes from events run through ``streams.engine.Engine``
and read with ``streams.roi``."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from itertools import permutations
from typing import Any

import pytest

from schemas.errors import InvalidEvent
from schemas.validate import check_event, problems_of
from streams import roi
from streams.config import DEFAULT_MODELS, Settings
from streams.deals import refund_split
from streams.engine import Engine
from streams.ledger import Cell
from streams.normalize import normalise
from tests.roi_cases import cells_of, deal, lead, refund, spend

NOVEMBER = roi.window("30d", date(2026, 11, 30))
DECEMBER = roi.window("30d", date(2026, 12, 31))
EVERYTHING = roi.window("all", date(2026, 12, 31))
GOOGLE, NEWSLETTER = "google / cpc", "newsletter / email"


def _rows(
    cells: dict[Cell, int],
    model: str = "linear",
    period: roi.Window = NOVEMBER,
    by: str = "source",
) -> dict[tuple[str, str | None], roi.RoiRow]:
    report = roi.report(cells, by, period, [model])
    return {(row.value, row.currency): row for row in report.rows}


def _money(row: roi.RoiRow) -> tuple[str, str, str]:
    return (row.revenue, row.refunds, row.net_revenue)


def f15_sale() -> list[dict[str, Any]]:
    """L-15 reached through google/cpc then newsletter/email; D-1501 won."""
    events = lead("L-15", "2026-11-01", ("google", "cpc"), ("newsletter", "email"))
    events.append(
        {
            "type": "deal",
            "deal_id": "D-1501",
            "lead_id": "L-15",
            "status": "won",
            "amount": "20000.00",
            "currency": "USD",
            "occurred_at": "2026-11-02T12:00:00Z",
        }
    )
    return events


def f15_refund(refunded: str, at: str = "2026-11-20T09:00:00Z") -> dict[str, Any]:
    """The refund as a revision of D-1501: still won, refunded so far."""
    return {
        "type": "deal",
        "deal_id": "D-1501",
        "lead_id": "L-15",
        "status": "won",
        "amount": "20000.00",
        "refunded_amount": refunded,
        "currency": "USD",
        "occurred_at": at,
    }


class TestF15:
    def test_full_refund_keeps_gross_and_nets_zero_in_november(self) -> None:
        cells = cells_of([*f15_sale(), f15_refund("20000.00")])
        rows = _rows(cells, period=NOVEMBER)

        for value in (GOOGLE, NEWSLETTER):
            assert _money(rows[(value, "USD")]) == ("10000.00", "10000.00", "0.00")
        by_channel = roi.report(cells, "channel", NOVEMBER, ["linear"]).rows
        assert sum(Decimal(r.revenue) for r in by_channel) == Decimal("20000.00")
        assert sum(Decimal(r.refunds) for r in by_channel) == Decimal("20000.00")
        assert sum(Decimal(r.net_revenue) for r in by_channel) == 0

    def test_partial_refund_splits_in_original_proportions(self) -> None:
        cells = cells_of([*f15_sale(), f15_refund("5000.00")])
        rows = _rows(cells)

        for value in (GOOGLE, NEWSLETTER):
            assert _money(rows[(value, "USD")]) == ("10000.00", "2500.00", "7500.00")

    def test_roi_uses_net_revenue(self) -> None:
        events = [*f15_sale(), f15_refund("5000.00")]
        events.append(spend("2026-11-01", "google", "cpc", "2500.00"))
        row = _rows(cells_of(events))[(GOOGLE, "USD")]

        # (7,500 - 2,500) / 2,500, not (10,000 - 2,500) / 2,500 = 300 %.
        assert row.roi_pct == "200.00"
        assert row.roas == "3.00"
        assert row.avg_deal == "20000.00"  # gross per won deal: 0.5 deal, 10,000

    def test_full_refund_roi_is_minus_100_with_spend(self) -> None:
        events = [*f15_sale(), f15_refund("20000.00")]
        events.append(spend("2026-11-01", "newsletter", "email", "300.00"))
        row = _rows(cells_of(events), model="last_touch")[(NEWSLETTER, "USD")]

        assert _money(row) == ("20000.00", "20000.00", "0.00")
        assert (row.roi_pct, row.roas) == ("-100.00", "0.00")

    def test_refunded_deal_stays_won(self) -> None:
        cells = cells_of([*f15_sale(), f15_refund("20000.00")])

        assert _rows(cells, model="first_touch")[(GOOGLE, "USD")].won == "1"

    def test_zero_amount_deal_counts_as_won_without_revenue(self) -> None:
        events = lead("L-16", "2026-11-20", ("bing", "cpc"))
        events.append(deal("L-16", "2026-11-21", "won", "0.00"))
        events.append(spend("2026-11-20", "bing", "cpc", "300.00"))
        row = _rows(cells_of(events))[("bing / cpc", "USD")]

        assert (row.won, row.revenue, row.net_revenue) == ("1", "0.00", "0.00")
        assert row.cac == "300.00"
        assert row.avg_deal == "0.00"

    def test_negative_amount_on_won_deal_is_refused_with_reason(self) -> None:
        closed = deal("L-17", "2026-11-22", "won", "-500.00") | {"deal_id": "D-1503"}

        with pytest.raises(InvalidEvent) as caught:
            normalise(check_event(closed), 0, b"k")

        [problem] = caught.value.problems
        assert problem.field == "amount"
        assert problem.reason == "negative amount on a won deal; send a refund instead"


class TestRefundDays:
    def test_refund_counts_on_its_own_day(self) -> None:
        cells = cells_of([*f15_sale(), f15_refund("20000.00", "2026-12-03T09:00:00Z")])

        november = _rows(cells, period=NOVEMBER)[(GOOGLE, "USD")]
        december = _rows(cells, period=DECEMBER)[(GOOGLE, "USD")]
        assert _money(november) == ("10000.00", "0.00", "10000.00")
        # The 30 days to Dec 31 start on Dec 2: the sale is out, the refund in.
        assert _money(december) == ("0.00", "10000.00", "-10000.00")
        assert _money(_rows(cells, period=EVERYTHING)[(GOOGLE, "USD")]) == (
            "10000.00",
            "10000.00",
            "0.00",
        )

    def test_two_partial_refunds_each_count_on_their_day(self) -> None:
        events = [*f15_sale(), f15_refund("5000.00")]
        events.append(f15_refund("8000.00", "2026-12-03T09:00:00Z"))
        cells = cells_of(events)

        assert _rows(cells)[(GOOGLE, "USD")].refunds == "2500.00"
        assert _rows(cells, period=DECEMBER)[(GOOGLE, "USD")].refunds == "1500.00"
        assert _money(_rows(cells, period=EVERYTHING)[(GOOGLE, "USD")]) == (
            "10000.00",
            "4000.00",
            "6000.00",
        )

    def test_refund_without_closed_at_leaves_sale_and_journey_alone(self) -> None:
        # A touch between the sale and the refund must not share the sale.
        late_touch = {
            "type": "touch",
            "event_id": "L-15-late",
            "visitor_id": "v-L-15",
            "occurred_at": "2026-11-10T10:00:00Z",
            "source": "bing",
            "medium": "cpc",
        }
        cells = cells_of([*f15_sale(), late_touch, f15_refund("5000.00")])
        day_cells = {c: n for c, n in cells.items() if c.metric == "revenue:USD"}

        assert {c.day for c in day_cells} == {"2026-11-02", "all"}
        assert ("bing / cpc", "USD") not in _rows(cells)

    def test_cancelled_refund_gives_back_on_its_day(self) -> None:
        events = [*f15_sale(), f15_refund("5000.00")]
        events.append(f15_refund("0", "2026-12-03T09:00:00Z"))
        cells = cells_of(events)

        assert _rows(cells)[(GOOGLE, "USD")].refunds == "2500.00"
        assert _rows(cells, period=DECEMBER)[(GOOGLE, "USD")].refunds == "-2500.00"
        assert _rows(cells, period=EVERYTHING)[(GOOGLE, "USD")].refunds == "0.00"


class TestCorrections:
    def _sale_refund_correction(self) -> list[dict[str, Any]]:
        correction = f15_refund("5000.00", "2026-11-25T09:00:00Z")
        correction = {k: v for k, v in correction.items() if k != "refunded_amount"}
        correction["amount"] = "18000.00"
        return [*f15_sale(), f15_refund("5000.00"), correction]

    def test_correction_after_refund_keeps_refund_without_resending_it(self) -> None:
        cells = cells_of(self._sale_refund_correction())

        assert _money(_rows(cells)[(GOOGLE, "USD")]) == (
            "9000.00",
            "2500.00",
            "6500.00",
        )

    def test_arrival_order_never_changes_figures(self) -> None:
        events = self._sale_refund_correction()
        head, crm = events[:-3], events[-3:]
        expected = cells_of(events)

        for order in permutations(crm):
            assert cells_of([*head, *order]) == expected

    def test_correction_before_refund_uses_corrected_amount(self) -> None:
        sale = f15_sale()
        correction = {**sale[-1], "amount": "18000.00"}
        correction["occurred_at"] = "2026-11-05T12:00:00Z"
        later = f15_refund("18000.00") | {"amount": "18000.00"}
        cells = cells_of([*sale, correction, later])

        for value in (GOOGLE, NEWSLETTER):
            assert _money(_rows(cells)[(value, "USD")]) == (
                "9000.00",
                "9000.00",
                "0.00",
            )

    def test_correction_below_refund_caps_refund_at_amount(self) -> None:
        events = [*f15_sale(), f15_refund("20000.00")]
        lowered = {**f15_sale()[-1], "amount": "12000.00"}
        lowered["occurred_at"] = "2026-11-25T12:00:00Z"
        cells = cells_of([*events, lowered])

        row = _rows(cells)[(GOOGLE, "USD")]
        assert _money(row) == ("6000.00", "6000.00", "0.00")

    def test_lost_correction_removes_sale_and_refund(self) -> None:
        events = [*f15_sale(), f15_refund("5000.00")]
        lost = {**f15_sale()[-1], "status": "lost", "amount": "0"}
        lost["occurred_at"] = "2026-11-26T12:00:00Z"
        cells = cells_of([*events, lost])

        assert not any(c.metric.startswith(("revenue:", "refunds:")) for c in cells)

    def test_duplicate_refund_delivery_counts_once(self) -> None:
        once = cells_of([*f15_sale(), f15_refund("5000.00")])
        twice = cells_of([*f15_sale(), f15_refund("5000.00"), f15_refund("5000.00")])

        assert once == twice


class TestModelsAndCurrencies:
    @pytest.mark.parametrize("model", DEFAULT_MODELS)
    def test_refund_follows_each_models_split(self, model: str) -> None:
        touches = [("google", "cpc"), ("bing", "cpc"), ("newsletter", "email")]
        events = lead("L-3", "2026-11-01", *touches)
        events.append(deal("L-3", "2026-11-02", "won", "100.01"))
        partial = cells_of([*events, refund("L-3", "2026-11-20", "100.01", "33.33")])
        full = cells_of([*events, refund("L-3", "2026-11-20", "100.01", "100.01")])

        rows = _rows(partial, model=model, period=EVERYTHING).values()
        sold = [Decimal(r.revenue) for r in rows]
        refunded = [Decimal(r.refunds) for r in rows]
        assert sum(refunded) == Decimal("33.33")
        for gross, back in zip(sold, refunded, strict=True):
            assert 0 <= back <= gross
            assert abs(back - gross * Decimal("33.33") / Decimal("100.01")) < 1
        for row in _rows(full, model=model, period=EVERYTHING).values():
            # A touch this model gives nothing has a row without money.
            assert row.net_revenue == ("0.00" if row.currency else "0")
            assert row.refunds == row.revenue

    def test_refund_in_one_currency_leaves_the_other_alone(self) -> None:
        events = lead("L-B", "2026-11-01", ("instagram", "cpc"))
        events += lead("L-U", "2026-11-01", ("instagram", "cpc"))
        events += [
            deal("L-B", "2026-11-02", "won", "2500.00", "BRL"),
            deal("L-U", "2026-11-02", "won", "900.00", "USD"),
            refund("L-B", "2026-11-20", "2500.00", "1000.00", "BRL"),
            spend("2026-11-01", "instagram", "cpc", "500.00", "BRL"),
        ]
        rows = _rows(cells_of(events))

        brl, usd = rows[("instagram / cpc", "BRL")], rows[("instagram / cpc", "USD")]
        assert _money(brl) == ("2500.00", "1000.00", "1500.00")
        assert _money(usd) == ("900.00", "0.00", "900.00")
        # Revenue in two currencies cannot be added: no ROI for either row.
        assert (brl.roi_pct, usd.roi_pct, brl.mixed_currency) == (None, None, True)

    def test_refund_only_window_row_has_its_currency(self) -> None:
        events = lead("L-J", "2026-11-01", ("yahoo", "cpc"))
        events += [
            deal("L-J", "2026-11-02", "won", "40000", "JPY"),
            refund("L-J", "2026-12-10", "40000", "40000", "JPY"),
            spend("2026-12-10", "yahoo", "cpc", "1000", "JPY"),
        ]
        row = _rows(cells_of(events), period=DECEMBER)[("yahoo / cpc", "JPY")]

        assert _money(row) == ("0", "40000", "-40000")
        assert row.roi_pct == "-4100.00"
        assert not row.mixed_currency


class TestRefundContract:
    def _refund_of(self, **fields: Any) -> dict[str, Any]:
        return {**f15_refund("5000.00"), **fields}

    @pytest.mark.parametrize(
        ("fields", "field", "says"),
        [
            ({"refunded_amount": "25000.00"}, "refunded_amount", "more than"),
            ({"status": "lost"}, "refunded_amount", "needs a won deal"),
            ({"amount": None}, "amount", "sent with the deal's amount"),
        ],
    )
    def test_bad_refund_refused_naming_field(
        self, fields: dict[str, Any], field: str, says: str
    ) -> None:
        event = {k: v for k, v in self._refund_of(**fields).items() if v is not None}

        with pytest.raises(InvalidEvent) as caught:
            normalise(check_event(event), 0, b"k")

        [problem] = caught.value.problems
        assert (problem.field, says in problem.reason) == (field, True)

    def test_negative_refund_breaks_schema(self) -> None:
        problems = problems_of(self._refund_of(refunded_amount="-1.00"))

        assert [p.field for p in problems] == ["refunded_amount"]

    def test_refund_in_minor_units_equals_major_units(self) -> None:
        minor = self._refund_of(refunded_amount_minor=500000)
        del minor["refunded_amount"]

        wire = normalise(check_event(minor), 0, b"k")
        assert wire["refunded_amount_minor"] == 500000
        assert wire == normalise(check_event(self._refund_of()), 0, b"k")

    def test_refunds_change_the_natural_event_id(self) -> None:
        ids = {
            normalise(check_event(f15_refund(r)), 0, b"k")["event_id"]
            for r in ("5000.00", "8000.00")
        }
        sale = normalise(check_event(f15_sale()[-1]), 0, b"k")["event_id"]

        assert len(ids) == 2
        assert sale not in ids


class TestRefundSplit:
    def test_split_never_exceeds_sale_and_full_refund_is_exact(self) -> None:
        rng = random.Random(1501)
        for _ in range(2000):
            sold = [rng.randrange(0, 50) for _ in range(rng.randrange(1, 6))]
            total = sum(sold)
            if total == 0:
                continue
            steps = sorted(rng.sample(range(total + 1), min(3, total + 1)))
            days = [(f"2026-11-{10 + i}", amount) for i, amount in enumerate(steps)]

            per_touch = [0] * len(sold)
            for _, amounts in refund_split(sold, days):
                per_touch = [a + b for a, b in zip(per_touch, amounts, strict=True)]

            assert sum(per_touch) == steps[-1]
            pairs = zip(per_touch, sold, strict=True)
            assert all(0 <= back <= gross for back, gross in pairs)
            [(_, full)] = refund_split(sold, [("2026-11-30", total)])
            assert full == sold

    def test_split_of_nothing_sold_is_empty(self) -> None:
        assert refund_split([0, 0], [("2026-11-20", 0)]) == []


def test_engine_refund_records_apply_per_deal_and_model() -> None:
    wire = [
        normalise(check_event(e), 0, b"k") for e in [*f15_sale(), f15_refund("5000.00")]
    ]
    engine = Engine(Settings(models=("linear",))).run(wire)

    record = engine.records["deal:D-1501|linear"]
    refunds = {c: n for c, n in record.items() if c.metric == "refunds:USD"}
    assert {
        (c.day, c.value, n) for c, n in refunds.items() if c.dimension == "source"
    } == {
        ("2026-11-20", GOOGLE, 250000),
        ("2026-11-20", NEWSLETTER, 250000),
    }
