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


FRIDAY = D
SATURDAY, SUNDAY = D + timedelta(days=1), D + timedelta(days=2)
# A B2B week: 20 leads on each weekday, 3 on Saturday and on Sunday. Against the
# 7 days before it a normal weekend day is below a fifth of 106 / 7 = 15.14.
WORKDAY_LEADS, WEEKEND_LEADS = 20, 3


def _weekly(tag: tuple[str, str], before: date, weeks: int = 4) -> list[dict[str, Any]]:
    """``weeks`` weeks of the B2B week, the days up to the one before ``before``."""
    events: list[dict[str, Any]] = []
    for back in range(1, 7 * weeks + 1):
        day = before - timedelta(days=back)
        count = WEEKEND_LEADS if day.weekday() >= 5 else WORKDAY_LEADS
        events += _leads(tag, day, count)
    return events


def _fridays(tag: tuple[str, str], *counts: int) -> list[dict[str, Any]]:
    """Leads on the Fridays before ``FRIDAY``, the latest first."""
    events: list[dict[str, Any]] = []
    for back, count in enumerate(counts, start=1):
        events += _leads(tag, FRIDAY - timedelta(weeks=back), count)
    return events


class TestLeadVolume:
    @pytest.mark.parametrize("day", [SATURDAY, SUNDAY])
    def test_normal_weekend_after_busy_week_is_quiet(self, day: date) -> None:
        events = _weekly(GOOGLE, day) + _leads(GOOGLE, day, WEEKEND_LEADS)

        assert _judge(events, day) == {}

    def test_weekday_collapse_against_its_weekdays_fires(self) -> None:
        events = _weekly(GOOGLE, FRIDAY) + _leads(GOOGLE, FRIDAY, 3)

        alert = _judge(events)[("lead_volume_drop", "google / cpc")]
        assert alert.observed == {
            "leads": "3",
            "weekday_average_leads": "20.00",
            "weekday_leads": "80",
        }
        assert alert.currency is None
        assert alert.threshold == "0.2 x the average of the last 4 Fridays = 4.00"
        assert alert.reason == (
            "lead volume drop: 3 leads on 2026-11-20, below 0.2 x the average of"
            " the last 4 Fridays (20.00); check that links and forms still carry"
            " their tags"
        )

    def test_weekend_collapse_against_its_weekends_fires(self) -> None:
        events = _weekly(GOOGLE, SUNDAY)  # and no lead on Sunday itself

        alert = _judge(events, SUNDAY)[("lead_volume_drop", "google / cpc")]
        assert alert.observed["weekday_average_leads"] == "3.00"
        assert "the last 4 Sundays (3.00)" in alert.reason

    def test_exactly_the_ratio_is_no_collapse(self) -> None:
        events = _weekly(GOOGLE, FRIDAY) + _leads(GOOGLE, FRIDAY, 4)

        assert _judge(events) == {}

    def test_baseline_averages_every_week_not_the_last(self) -> None:
        events = _fridays(GOOGLE, 40, 30, 20, 10) + _leads(GOOGLE, FRIDAY, 4)

        alert = _judge(events)[("lead_volume_drop", "google / cpc")]
        assert alert.observed["weekday_average_leads"] == "25.00"

    def test_day_without_any_cell_still_judged(self) -> None:
        events = _fridays(GOOGLE, 10, 10, 10, 10)

        assert ("lead_volume_drop", "google / cpc") in _judge(events)

    def test_weeks_before_the_baseline_do_not_count(self) -> None:
        # With the fifth Friday the average would be 208, and 3 leads a drop.
        events = _fridays(GOOGLE, 10, 10, 10, 10, 1000) + _leads(GOOGLE, FRIDAY, 3)

        assert _judge(events) == {}

    def test_quiet_weekday_below_minimum_average_is_not_judged(self) -> None:
        events = _fridays(("reddit", "social"), 3, 3, 2, 3)  # 2.75 a Friday

        assert _judge(events) == {}
        lower = AlertRules(volume_min_daily_leads=Fraction(11, 4))
        assert ("lead_volume_drop", "reddit / social") in _judge(events, rules=lower)

    def test_new_source_raises_nothing(self) -> None:
        events = _leads(("tiktok", "paid_social"), D, 2, "30.00")

        assert _judge(events) == {}

    def test_weekday_missing_from_history_is_not_judged(self) -> None:
        # Three Fridays of history: the fourth week back has no data at all.
        events = _fridays(GOOGLE, 20, 20, 20)

        assert _judge(events) == {}
        three_weeks = AlertRules(volume_weeks=3)
        assert ("lead_volume_drop", "google / cpc") in _judge(events, rules=three_weeks)

    def test_weekday_with_spend_and_no_lead_is_history(self) -> None:
        events = _fridays(GOOGLE, 20, 20, 20)
        events.append(spend((FRIDAY - timedelta(weeks=4)).isoformat(), *GOOGLE, "9.00"))

        alert = _judge(events)[("lead_volume_drop", "google / cpc")]
        assert alert.observed["weekday_average_leads"] == "15.00"

    def test_one_week_baseline_names_the_last_weekday(self) -> None:
        rules = AlertRules(volume_weeks=1)
        events = _fridays(GOOGLE, 20)

        alert = _judge(events, rules=rules)[("lead_volume_drop", "google / cpc")]
        assert alert.threshold == "0.2 x the last Friday = 4.00"


class TestSettings:
    def test_from_env_reads_every_threshold_exactly(self) -> None:
        env = {
            "LEADROI_ALERT_MODEL": "linear",
            "LEADROI_ALERT_CPL_FACTOR": "1.5",
            "LEADROI_ALERT_TRAILING_DAYS": "14",
            "LEADROI_ALERT_VOLUME_RATIO": "0.1",
            "LEADROI_ALERT_VOLUME_WEEKS": "6",
            "LEADROI_ALERT_VOLUME_MIN_DAILY_LEADS": "0.5",
        }
        rules = AlertRules.from_env(env)

        assert rules == AlertRules(
            model="linear",
            cpl_factor=Fraction(3, 2),
            trailing_days=14,
            volume_ratio=Fraction(1, 10),
            volume_weeks=6,
            volume_min_daily_leads=Fraction(1, 2),
        )
        assert rules.as_dict()["volume_ratio"] == "0.1"
        assert rules.as_dict()["volume_weeks"] == 6
        assert AlertRules.from_env({}) == AlertRules()

    @pytest.mark.parametrize(
        ("variable", "text", "says"),
        [
            ("LEADROI_ALERT_CPL_FACTOR", "two", "not a decimal number"),
            ("LEADROI_ALERT_CPL_FACTOR", "0", "is not above 0"),
            ("LEADROI_ALERT_TRAILING_DAYS", "7.5", "whole number of days"),
            ("LEADROI_ALERT_VOLUME_RATIO", "1.5", "at most 1"),
            ("LEADROI_ALERT_VOLUME_WEEKS", "four", "whole number of weeks"),
            ("LEADROI_ALERT_VOLUME_WEEKS", "-1", "whole number of weeks"),
            ("LEADROI_ALERT_VOLUME_WEEKS", "0", "is not 1 or more"),
            ("LEADROI_ALERT_MODEL", "lastclick", "a model name"),
        ],
    )
    def test_from_env_bad_value_names_variable(
        self, variable: str, text: str, says: str
    ) -> None:
        with pytest.raises(BadAlertSetting, match=variable) as caught:
            AlertRules.from_env({variable: text})

        assert says in str(caught.value)

    def test_days_for_reads_same_weekdays_and_trailing_days(self) -> None:
        days = alerts.days_for(D, AlertRules())

        assert days == ["2026-10-23", "2026-10-30", "2026-11-06"] + [
            f"2026-11-{n}" for n in range(13, 21)
        ]

    def test_longer_windows_read_more_days(self) -> None:
        rules = AlertRules(trailing_days=14, volume_weeks=5)

        days = alerts.days_for(D, rules)
        assert (days[0], days[-1], len(days)) == ("2026-10-16", "2026-11-20", 18)


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
