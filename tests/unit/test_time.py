"""Event time: allowed lateness of touches, and day buckets across DST changes."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest

from streams.config import Settings
from streams.engine import Engine
from streams.journey import final_ms
from streams.times import day_of_ms, iso_of_ms, parse_ms
from tests.events import deal, figures, identify, metric_total, tagged, wire

CLOSED = "2026-11-10T12:00:00Z"
NEW_YORK = ZoneInfo("America/New_York")


def sale(received: str = CLOSED, amount: str = "100.00") -> list[dict[str, Any]]:
    """A lead whose journey is one Email touch, and its deal, both on time."""
    return [
        wire(tagged("t-mail", "v", "2026-11-01T10:00:00Z", "news", "email"), received),
        wire(
            identify("i", "2026-11-01T10:05:00Z", visitor_id="v", lead_id="L"), received
        ),
        wire(deal(f"d-{amount}", "D-1", CLOSED, amount, lead_id="L"), received),
    ]


def late_touch(received: str) -> dict[str, Any]:
    """A paid touch dated before the close that reached leadroi at ``received``."""
    return wire(
        tagged("t-paid", "v", "2026-11-09T10:00:00Z", "google", "cpc"), received
    )


def last_touch_revenue(engine: Engine) -> dict[str, int]:
    return {
        value: amount
        for (value, metric), amount in figures(engine, "last_touch").items()
        if metric == "revenue:USD"
    }


class TestAllowedLateness:
    @pytest.mark.parametrize(
        ("received", "credited"),
        [
            ("2026-11-10T13:00:00Z", "Paid Search"),
            ("2026-12-10T12:00:00Z", "Paid Search"),  # exactly 30 days after
            ("2026-12-10T12:00:00.001Z", "Email"),
            ("2027-03-01T00:00:00Z", "Email"),
        ],
    )
    def test_lateness_touch_counts_until_the_deal_is_final(
        self, received: str, credited: str
    ) -> None:
        engine = Engine(Settings()).run([*sale(), late_touch(received)])

        assert last_touch_revenue(engine) == {credited: 10000}
        assert metric_total(engine.totals(), "last_touch", "won") == 1_000_000

    def test_lateness_late_touch_is_kept_in_the_journey(self) -> None:
        engine = Engine(Settings()).run([*sale(), late_touch("2027-01-01T00:00:00Z")])

        touches = engine.nodes["lead:L"]["journey"]["touches"]
        assert sorted(touches) == ["t-mail", "t-paid"]

    def test_lateness_counts_from_receipt_of_an_imported_deal(self) -> None:
        imported = sale(received="2027-06-01T00:00:00Z")

        engine = Engine(Settings()).run([*imported, late_touch("2027-06-20T00:00:00Z")])

        assert last_touch_revenue(engine) == {"Paid Search": 10000}

    def test_lateness_correction_does_not_reopen_the_window(self) -> None:
        correction = wire(
            deal("d-fix", "D-1", CLOSED, "150.00", lead_id="L", revision=1),
            "2027-01-20T00:00:00Z",
        )

        engine = Engine(Settings()).run(
            [*sale(), correction, late_touch("2027-01-10T00:00:00Z")]
        )

        assert last_touch_revenue(engine) == {"Email": 15000}

    def test_lateness_correction_splits_new_amount_over_the_same_touches(
        self,
    ) -> None:
        social = wire(
            tagged("t-soc", "v", "2026-11-05T10:00:00Z", "facebook", "social"), CLOSED
        )
        correction = wire(
            deal("d-fix", "D-1", CLOSED, "150.01", lead_id="L", revision=1),
            "2027-01-20T00:00:00Z",
        )

        engine = Engine(Settings()).run(
            [*sale(), social, late_touch("2027-01-10T00:00:00Z"), correction]
        )

        revenue = {
            value: amount
            for (value, metric), amount in figures(engine, "linear").items()
            if metric == "revenue:USD"
        }
        # The sale's two touches, the odd cent to the earlier one; the late paid
        # touch gets nothing.
        assert revenue == {"Email": 7501, "Organic Social": 7500}

    def test_lateness_zero_days_lets_any_touch_count(self) -> None:
        engine = Engine(Settings(allowed_lateness_days=0)).run(
            [*sale(), late_touch("2030-01-01T00:00:00Z")]
        )

        assert last_touch_revenue(engine) == {"Paid Search": 10000}

    def test_lateness_same_result_whatever_comes_first(self) -> None:
        events = [*sale(), late_touch("2026-11-20T00:00:00Z")]

        forward = Engine(Settings()).run(events).totals()
        backward = Engine(Settings()).run(reversed(events)).totals()

        assert forward == backward

    def test_lateness_final_time_is_close_or_first_receipt_plus_days(self) -> None:
        deal_item = {"closed": 1_000, "r": 5_000, "t": 1_000}

        assert final_ms(deal_item, 1) == 5_000 + 86_400_000
        assert final_ms({**deal_item, "r": 10}, 1) == 1_000 + 86_400_000
        assert final_ms(deal_item, 0) is None

    def test_lateness_setting_is_read_from_the_environment(self) -> None:
        env = {
            "LEADROI_ALLOWED_LATENESS_DAYS": "7",
            "LEADROI_TRACKING_NUMBER_HOLD_MINUTES": "45",
        }

        settings = Settings.from_env(env)

        assert settings.allowed_lateness_days == 7
        assert settings.tracking_number_hold_minutes == 45
        assert Settings.from_env({}).allowed_lateness_days == 30


class TestDaylightSaving:
    @pytest.mark.parametrize(
        ("instant", "day"),
        [
            ("2026-03-08T04:59:59.999Z", "2026-03-07"),
            ("2026-03-08T05:00:00Z", "2026-03-08"),  # midnight EST
            ("2026-03-09T03:59:59.999Z", "2026-03-08"),
            ("2026-03-09T04:00:00Z", "2026-03-09"),  # midnight EDT: 23 hours later
            ("2026-11-01T03:59:59.999Z", "2026-10-31"),
            ("2026-11-01T04:00:00Z", "2026-11-01"),  # midnight EDT
            ("2026-11-02T04:59:59.999Z", "2026-11-01"),
            ("2026-11-02T05:00:00Z", "2026-11-02"),  # midnight EST: 25 hours later
        ],
    )
    def test_dst_day_bucket_edges_in_new_york(self, instant: str, day: str) -> None:
        assert day_of_ms(parse_ms(instant), NEW_YORK) == day

    @pytest.mark.parametrize(
        ("day", "first", "hours"),
        [
            ("2026-03-08", "2026-03-08T05:00:00Z", 23),
            ("2026-11-01", "2026-11-01T04:00:00Z", 25),
            ("2026-07-01", "2026-07-01T04:00:00Z", 24),
        ],
    )
    def test_dst_touches_hour_by_hour_fill_a_day_of_23_24_or_25_hours(
        self, day: str, first: str, hours: int
    ) -> None:
        start_ms = parse_ms(first)
        events = [
            wire(
                tagged(
                    f"t{h}",
                    f"v{h}",
                    iso_of_ms(start_ms + h * 3_600_000 - 1_800_000),
                    "news",
                    "email",
                )
            )
            for h in range(30)
        ]

        engine = Engine(Settings(timezone="America/New_York")).run(events)

        counted = figures(engine, "touches", "channel", day)
        assert counted[("Email", "touches")] == hours

    def test_dst_repeated_local_hour_counts_both_leads_on_one_day(self) -> None:
        events = [
            wire(tagged("t1", "v1", "2026-11-01T05:10:00Z", "news", "email")),
            wire(identify("i1", "2026-11-01T05:30:00Z", visitor_id="v1", lead_id="A")),
            wire(tagged("t2", "v2", "2026-11-01T06:10:00Z", "news", "email")),
            wire(identify("i2", "2026-11-01T06:30:00Z", visitor_id="v2", lead_id="B")),
        ]

        engine = Engine(Settings(timezone="America/New_York")).run(events)

        assert figures(engine, "linear", "channel", "2026-11-01") == {
            ("Email", "leads"): 2_000_000
        }
