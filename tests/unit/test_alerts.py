"""Watch rules (field case F17 and kin) on cells built by ``streams.engine``."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction
from typing import Any

import pytest

from streams import alerts
from streams.alerts import Alert, AlertRules, BadAlertSetting
from streams.ledger import Cell
from tests.roi_cases import cells_of, f17_events, lead, spend

F17_DAY = date(2026, 11, 30)
D = date(2026, 11, 20)  # the judged day of the variants; 11-13..11-19 trail it


def _judge(
    events: list[dict[str, Any]],
    day: date = D,
    by: str = "source",
    rules: AlertRules | None = None,
) -> dict[tuple[str, str], Alert]:
    found = alerts.evaluate(cells_of(events), by, day, rules or AlertRules())
    return {(a.rule, a.value): a for a in found}


def _leads(
    tag: tuple[str, str], day: date, count: int, spend_amount: str | None = None
) -> list[dict[str, Any]]:
    """``count`` single-touch leads through ``tag`` on ``day``, and its spend."""
    source, medium = tag
    events: list[dict[str, Any]] = []
    for n in range(count):
        events += lead(f"{source}-{medium}-{day}-{n}", day.isoformat(), tag)
    if spend_amount is not None:
        events.append(spend(day.isoformat(), source, medium, spend_amount))
    return events


def _trailing_week(
    tag: tuple[str, str], leads_a_day: int, spend_a_day: str | None
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for back in range(1, 8):
        events += _leads(tag, D - timedelta(days=back), leads_a_day, spend_a_day)
    return events


GOOGLE = ("google", "cpc")


class TestF17:
    def test_spend_without_leads_fires_with_reason(self) -> None:
        found = _judge(f17_events(), F17_DAY)

        alert = found[("spend_without_leads", "linkedin / paid_social")]
        assert alert.reason.startswith("spend without leads")
        assert (alert.day, alert.currency) == ("2026-11-30", "USD")
        assert alert.observed == {"spend": "250.00", "leads": "0"}

    def test_leads_without_spend_raise_nothing(self) -> None:
        found = _judge(f17_events(), F17_DAY)

        assert [key for key in found if key[1] == "newsletter / email"] == []
        assert list(found) == [("spend_without_leads", "linkedin / paid_social")]

    def test_channel_view_fires_on_paid_social(self) -> None:
        found = _judge(f17_events(), F17_DAY, by="channel")

        assert list(found) == [("spend_without_leads", "Paid Social")]

    def test_cpl_of_day_b_spikes_over_day_a(self) -> None:
        # Day A: 100.00 for 10 leads (10.00); day B: 50.00 for 1 lead (50.00).
        found = _judge(f17_events(), date(2026, 11, 24))

        alert = found[("cpl_spike", "google / cpc")]
        assert alert.observed["cpl"] == "50.00"
        assert alert.observed["trailing_cpl"] == "10.00"
        assert alert.threshold == "2 x trailing 7-day CPL = 20.00"
        assert len(found) == 1


class TestCplSpike:
    def test_cpl_exactly_twice_trailing_is_no_spike(self) -> None:
        events = _trailing_week(GOOGLE, 10, "100.00")  # 10.00 a lead
        events += _leads(GOOGLE, D, 10, "200.00")

        assert ("cpl_spike", "google / cpc") not in _judge(events)

    def test_cpl_a_cent_over_twice_trailing_spikes(self) -> None:
        events = _trailing_week(GOOGLE, 10, "100.00")
        events += _leads(GOOGLE, D, 10, "200.01")  # 20.001 a lead

        alert = _judge(events)[("cpl_spike", "google / cpc")]
        assert (alert.observed["cpl"], alert.observed["trailing_cpl"]) == (
            "20.00",
            "10.00",
        )

    def test_trailing_cpl_sums_parts_not_daily_ratios(self) -> None:
        # Trailing: 6 days of 10 leads at 10.00, one of 1 lead at 100.00: the
        # mean of daily CPLs is 22.86, the summed CPL (700 / 61) 11.48.
        events: list[dict[str, Any]] = []
        for back in range(2, 8):
            events += _leads(GOOGLE, D - timedelta(days=back), 10, "100.00")
        events += _leads(GOOGLE, D - timedelta(days=1), 1, "100.00")
        events += _leads(GOOGLE, D, 2, "50.00")  # 25.00 a lead

        alert = _judge(events)[("cpl_spike", "google / cpc")]
        assert alert.observed["trailing_cpl"] == "11.48"

    def test_higher_factor_setting_silences_spike(self) -> None:
        events = _trailing_week(GOOGLE, 10, "100.00")
        events += _leads(GOOGLE, D, 10, "250.00")
        rules = AlertRules(cpl_factor=Fraction(3))

        assert ("cpl_spike", "google / cpc") in _judge(events)
        assert ("cpl_spike", "google / cpc") not in _judge(events, rules=rules)

    def test_no_baseline_spend_means_no_spike(self) -> None:
        events = _trailing_week(GOOGLE, 10, "0.00")
        events += _leads(GOOGLE, D, 10, "500.00")

        assert _judge(events) == {}

    def test_spend_in_two_currencies_is_not_compared(self) -> None:
        events = _trailing_week(GOOGLE, 10, "100.00")
        events += _leads(GOOGLE, D, 1, "500.00")
        events.append(spend(D.isoformat(), "google", "cpc", "900.00", "BRL"))

        assert ("cpl_spike", "google / cpc") not in _judge(events)


class TestSpendWithoutLeads:
    def test_zero_spend_line_without_leads_is_quiet(self) -> None:
        events = [spend(D.isoformat(), "bing", "cpc", "0.00")]

        assert _judge(events) == {}

    def test_each_currency_with_spend_fires(self) -> None:
        events = [
            spend(D.isoformat(), "bing", "cpc", "10.00", "USD"),
            spend(D.isoformat(), "bing", "cpc", "1000", "JPY"),
        ]
        found = alerts.evaluate(cells_of(events), "source", D, AlertRules())

        assert [(a.rule, a.currency) for a in found] == [
            ("spend_without_leads", "JPY"),
            ("spend_without_leads", "USD"),
        ]

    def test_spend_with_fractional_lead_is_not_without_leads(self) -> None:
        events = lead("L-x", D.isoformat(), ("bing", "cpc"), ("newsletter", "email"))
        events.append(spend(D.isoformat(), "bing", "cpc", "10.00"))

        linear = AlertRules(model="linear")
        assert _judge(events, rules=linear) == {}
        # Last touch gives bing nothing: its spend has no lead.
        assert list(_judge(events, rules=AlertRules(model="last_touch"))) == [
            ("spend_without_leads", "bing / cpc")
        ]


class TestLeadVolume:
    def test_collapse_below_a_fifth_of_trailing_average_fires(self) -> None:
        events = _trailing_week(GOOGLE, 10, None)
        events += _leads(GOOGLE, D, 1)

        alert = _judge(events)[("lead_volume_drop", "google / cpc")]
        assert alert.observed == {
            "leads": "1",
            "trailing_daily_leads": "10.00",
            "trailing_leads": "70",
        }
        assert alert.currency is None
        assert "tags" in alert.reason

    def test_day_without_any_cell_still_judged(self) -> None:
        events = _trailing_week(GOOGLE, 10, None)

        assert ("lead_volume_drop", "google / cpc") in _judge(events)

    def test_exactly_a_fifth_is_no_collapse(self) -> None:
        events = _trailing_week(GOOGLE, 10, None)
        events += _leads(GOOGLE, D, 2)

        assert _judge(events) == {}

    def test_quiet_source_below_minimum_average_is_not_judged(self) -> None:
        events = _trailing_week(("reddit", "social"), 2, None)

        assert _judge(events) == {}

    def test_new_source_raises_nothing(self) -> None:
        events = _leads(("tiktok", "paid_social"), D, 2, "30.00")

        assert _judge(events) == {}

    def test_days_outside_trailing_window_do_not_count(self) -> None:
        events: list[dict[str, Any]] = []
        for back in range(8, 15):  # the week before the trailing week
            events += _leads(GOOGLE, D - timedelta(days=back), 10)

        assert _judge(events) == {}


class TestSettings:
    def test_from_env_reads_every_threshold_exactly(self) -> None:
        env = {
            "LEADROI_ALERT_MODEL": "linear",
            "LEADROI_ALERT_CPL_FACTOR": "1.5",
            "LEADROI_ALERT_TRAILING_DAYS": "14",
            "LEADROI_ALERT_VOLUME_RATIO": "0.1",
            "LEADROI_ALERT_VOLUME_MIN_DAILY_LEADS": "0.5",
        }
        rules = AlertRules.from_env(env)

        assert rules == AlertRules(
            "linear", Fraction(3, 2), 14, Fraction(1, 10), Fraction(1, 2)
        )
        assert rules.as_dict()["volume_ratio"] == "0.1"
        assert AlertRules.from_env({}) == AlertRules()

    @pytest.mark.parametrize(
        ("variable", "text", "says"),
        [
            ("LEADROI_ALERT_CPL_FACTOR", "two", "not a decimal number"),
            ("LEADROI_ALERT_CPL_FACTOR", "0", "is not above 0"),
            ("LEADROI_ALERT_TRAILING_DAYS", "7.5", "whole number of days"),
            ("LEADROI_ALERT_VOLUME_RATIO", "1.5", "at most 1"),
            ("LEADROI_ALERT_MODEL", "lastclick", "a model name"),
        ],
    )
    def test_from_env_bad_value_names_variable(
        self, variable: str, text: str, says: str
    ) -> None:
        with pytest.raises(BadAlertSetting, match=variable) as caught:
            AlertRules.from_env({variable: text})

        assert says in str(caught.value)

    def test_longer_trailing_window_reads_more_days(self) -> None:
        rules = AlertRules(trailing_days=14)

        days = alerts.days_for(D, rules)
        assert (days[0], days[-1], len(days)) == ("2026-11-06", "2026-11-20", 15)


def test_alert_key_and_counts_cover_every_rule() -> None:
    found = alerts.evaluate(cells_of(f17_events()), "source", F17_DAY, AlertRules())

    assert [a.key for a in found] == [
        "spend_without_leads|source|linkedin / paid_social|2026-11-30"
    ]
    assert alerts.counts(found) == {
        "spend_without_leads": 1,
        "cpl_spike": 0,
        "lead_volume_drop": 0,
    }


def test_cells_of_other_dimensions_and_models_are_ignored() -> None:
    cells = {
        Cell("last_non_direct", "channel", "2026-11-20", "Paid Search", "leads"): 1,
        Cell("spend", "campaign", "2026-11-20", "g / cpc / x", "spend:USD"): 100,
        Cell("first_touch", "source", "2026-11-19", "g / cpc", "leads"): 90_000_000,
    }

    assert alerts.evaluate(cells, "source", D, AlertRules()) == []
    assert alerts.evaluate(cells, "campaign", D, AlertRules()) != []
