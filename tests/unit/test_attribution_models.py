"""Hand-computed pins for every attribution model, edge cases included."""

from __future__ import annotations

from fractions import Fraction

import pytest

from streams.attribution import (
    DAY_MS,
    DEFAULT_PARAMS,
    UNATTRIBUTED,
    UNIT,
    BadModelSetting,
    Conversion,
    ModelParams,
    Touch,
    UnknownModel,
    attribute,
    journey_for,
    markov_falls_back,
    shares,
    split,
)


def _touches(*channels: str, gap_ms: int = DAY_MS) -> list[Touch]:
    return [Touch(f"e{i}", i * gap_ms, c) for i, c in enumerate(channels)]


def _weights(
    model: str,
    touches: list[Touch],
    conversion: Conversion | None = None,
    params: ModelParams = DEFAULT_PARAMS,
) -> list[Fraction]:
    at = conversion or Conversion("c", touches[-1].occurred_at_ms, 1000)
    numerators, denominator = shares(model, touches, at, params)
    return [Fraction(a, denominator) for a in numerators]


F = Fraction


class TestPositionModels:
    @pytest.mark.parametrize(
        ("model", "expected"),
        [
            ("first_touch", [1, 0, 0, 0]),
            ("last_touch", [0, 0, 0, 1]),
            ("linear", [F(1, 4)] * 4),
            ("u_shaped", [F(2, 5), F(1, 10), F(1, 10), F(2, 5)]),
            ("j_shaped", [F(1, 5), F(1, 10), F(1, 10), F(3, 5)]),
            ("inverse_j", [F(3, 5), F(1, 10), F(1, 10), F(1, 5)]),
        ],
    )
    def test_position_four_touches_pinned(self, model: str, expected: list[F]) -> None:
        assert _weights(model, _touches("a", "b", "c", "d")) == expected

    @pytest.mark.parametrize(
        ("model", "expected"),
        [
            ("u_shaped", [F(1, 2), F(1, 2)]),
            ("j_shaped", [F(1, 4), F(3, 4)]),
            ("inverse_j", [F(3, 4), F(1, 4)]),
        ],
    )
    def test_position_two_touches_renormalised(
        self, model: str, expected: list[F]
    ) -> None:
        assert _weights(model, _touches("a", "b")) == expected

    @pytest.mark.parametrize(
        "model",
        [
            "u_shaped",
            "j_shaped",
            "inverse_j",
            "w_shaped",
            "full_path",
            "time_decay",
            "linear",
            "last_non_direct",
        ],
    )
    def test_single_touch_gets_everything(self, model: str) -> None:
        assert _weights(model, _touches("a")) == [1]


class TestLastNonDirect:
    def test_last_non_direct_later_direct_skipped(self) -> None:
        # field case F10: organic search, then a direct return visit.
        assert _weights("last_non_direct", _touches("Organic Search", "Direct")) == [
            1,
            0,
        ]

    def test_last_non_direct_case_of_direct_ignored(self) -> None:
        assert _weights("last_non_direct", _touches("seo", "direct", "DIRECT")) == [
            1,
            0,
            0,
        ]

    def test_last_non_direct_all_direct_last_wins(self) -> None:
        assert _weights("last_non_direct", _touches("Direct", "Direct")) == [0, 1]


class TestTimeDecay:
    def test_time_decay_one_half_life_apart_two_to_one(self) -> None:
        touches = _touches("a", "b", gap_ms=7 * DAY_MS)
        assert _weights("time_decay", touches) == [F(1, 3), F(2, 3)]

    def test_time_decay_measured_from_conversion_same_ratios(self) -> None:
        touches = _touches("a", "b", "c", gap_ms=2 * DAY_MS)
        late = Conversion("c", touches[-1].occurred_at_ms + 30 * DAY_MS)
        # halving every 2 days: 1/4, 1/2, 1 normalised.
        params = ModelParams(time_decay_half_life_days=2)
        assert _weights("time_decay", touches, late, params) == [
            F(1, 7),
            F(2, 7),
            F(4, 7),
        ]

    def test_time_decay_same_time_equal_and_tie_to_earlier(self) -> None:
        touches = [Touch("e1", 0, "a"), Touch("e2", 0, "b"), Touch("e3", 0, "c")]
        credits = attribute("time_decay", touches, Conversion("c", 0, 100))
        assert [c.credit_units for c in credits] == [333_334, 333_333, 333_333]
        assert [c.value_minor for c in credits] == [34, 33, 33]

    def test_time_decay_zero_half_life_rejected(self) -> None:
        with pytest.raises(BadModelSetting, match="time_decay_half_life_days"):
            ModelParams(time_decay_half_life_days=0)


class TestMilestones:
    touches = _touches("first", "b", "lead", "d", "opp", "f")

    def _at(self, lead: int | None, opportunity: int | None) -> Conversion:
        return Conversion("deal", 10 * DAY_MS, 0, lead, opportunity)

    def test_w_shaped_three_milestones_pinned(self) -> None:
        weights = _weights("w_shaped", self.touches, self._at(2 * DAY_MS, 4 * DAY_MS))
        # 30 % to each milestone, 10 % over the three others.
        third = F(1, 30)
        assert weights == [F(3, 10), third, F(3, 10), third, F(3, 10), third]

    def test_w_shaped_milestone_is_last_touch_at_or_before(self) -> None:
        weights = _weights(
            "w_shaped", self.touches, self._at(2 * DAY_MS + 5, 4 * DAY_MS - 1)
        )
        # Lead at touch 2 (just after it); opportunity falls back to touch 3.
        assert weights[2] == F(3, 10) and weights[3] == F(3, 10)

    def test_w_shaped_missing_opportunity_shared_by_present(self) -> None:
        weights = _weights("w_shaped", self.touches, self._at(2 * DAY_MS, None))
        # 45 % to first and lead, 10 % over four others.
        other = F(1, 40)
        assert weights == [F(9, 20), other, F(9, 20), other, other, other]

    def test_w_shaped_milestone_before_journey_missing(self) -> None:
        weights = _weights("w_shaped", self.touches, self._at(-DAY_MS, None))
        assert weights[0] == F(9, 10)
        assert weights[1:] == [F(1, 50)] * 5

    def test_w_shaped_milestones_on_same_touch_add_up(self) -> None:
        weights = _weights("w_shaped", self.touches, self._at(0, 4 * DAY_MS))
        other = F(1, 40)
        assert weights == [F(3, 5), other, other, other, F(3, 10), other]

    def test_w_shaped_no_other_touch_shares_by_milestones(self) -> None:
        touches = _touches("first", "lead")
        weights = _weights("w_shaped", touches, Conversion("d", DAY_MS, 0, DAY_MS, 0))
        # first carries first + opportunity (2 of 3 milestones), lead 1 of 3.
        assert weights == [F(2, 3), F(1, 3)]

    def test_full_path_four_milestones_pinned(self) -> None:
        weights = _weights("full_path", self.touches, self._at(2 * DAY_MS, 4 * DAY_MS))
        quarter = F(9, 40)  # 22.5 %
        assert weights == [quarter, F(1, 20), quarter, F(1, 20), quarter, quarter]

    def test_full_path_missing_lead_and_opportunity(self) -> None:
        weights = _weights("full_path", self.touches, self._at(None, None))
        # First and closed-won share 90 %, the four others 10 %.
        assert weights == [F(9, 20)] + [F(1, 40)] * 4 + [F(9, 20)]

    def test_full_path_three_distinct_milestone_touches_no_others(self) -> None:
        touches = _touches("first", "lead", "won")
        weights = _weights(
            "full_path", touches, Conversion("d", 2 * DAY_MS, 0, DAY_MS, DAY_MS)
        )
        assert weights == [F(1, 4), F(1, 2), F(1, 4)]


class TestMarkovSplit:
    def test_markov_split_by_removal_effects_over_distinct_channels(self) -> None:
        params = ModelParams(removal_effects={"a": 0.75, "b": 0.25})
        # a's 75 % is spread over its two touches.
        assert _weights("markov", _touches("a", "b", "a"), params=params) == [
            F(3, 8),
            F(1, 4),
            F(3, 8),
        ]

    def test_markov_all_zero_effects_falls_back_to_linear(self) -> None:
        params = ModelParams(removal_effects={"a": 0.0, "b": 0.0})
        touches = _touches("a", "b", "b")
        assert markov_falls_back(touches, params)
        assert _weights("markov", touches, params=params) == [F(1, 3)] * 3

    def test_markov_without_effects_falls_back(self) -> None:
        assert markov_falls_back(_touches("a"), ModelParams())

    def test_markov_global_per_journey_rejected(self) -> None:
        with pytest.raises(UnknownModel, match="markov_global"):
            attribute("markov_global", _touches("a"), Conversion("c", 0))


class TestExactSums:
    def test_split_thirds_tie_to_earlier(self) -> None:
        assert split(UNIT, [F(1, 3)] * 3) == [333_334, 333_333, 333_333]

    def test_split_ties_follow_touch_order_key(self) -> None:
        touches = sorted(
            [Touch("b", 5, "x"), Touch("a", 5, "y"), Touch("c", 1, "z")],
            key=lambda t: t.order_key,
        )
        credits = attribute("linear", touches, Conversion("c", 9, 2))
        # Two spare minor units go to the earliest touch, then the smaller id.
        assert [
            (c.touch.event_id if c.touch else "", c.value_minor) for c in credits
        ] == [
            ("c", 1),
            ("a", 1),
            ("b", 0),
        ]

    @pytest.mark.parametrize("model", ["linear", "u_shaped", "time_decay", "w_shaped"])
    def test_credits_add_up_exactly(self, model: str) -> None:
        touches = _touches("a", "b", "c", "d", "e", "f", "g", gap_ms=DAY_MS // 3)
        credits = attribute(model, touches, Conversion("c", 3 * DAY_MS, 1_000_003))
        assert sum(c.credit_units for c in credits) == UNIT
        assert sum(c.value_minor for c in credits) == 1_000_003

    def test_refund_reuses_original_split(self) -> None:
        touches = _touches("google / cpc", "newsletter / email")
        gross = attribute("linear", touches, Conversion("d", DAY_MS, 2_000_000))
        net = attribute("linear", touches, Conversion("d", DAY_MS, 1_500_000))
        assert [c.value_minor for c in gross] == [1_000_000, 1_000_000]
        assert [c.value_minor for c in net] == [750_000, 750_000]
        assert split(-5, [F(1, 2), F(1, 2)]) == [-3, -2]

    def test_no_touch_in_window_unattributed(self) -> None:
        conversion = Conversion("d", 400 * DAY_MS, 900)
        journey = journey_for(_touches("bing"), conversion, None, 90)
        assert journey == []
        [credit] = attribute("u_shaped", journey, conversion)
        assert (credit.touch, credit.credit_units, credit.value_minor) == (
            None,
            UNIT,
            900,
        )
        assert UNATTRIBUTED == "(unattributed)"

    def test_journey_after_previous_conversion_and_in_window(self) -> None:
        touches = _touches("a", "b", "c", "d", "e")
        conversion = Conversion("d", 3 * DAY_MS, 0)
        journey = journey_for(
            touches, conversion, previous_conversion_ms=DAY_MS, lookback_days=0
        )
        assert [t.channel for t in journey] == ["c", "d"]
        windowed = journey_for(touches, conversion, None, lookback_days=1)
        assert [t.channel for t in windowed] == ["c", "d"]
