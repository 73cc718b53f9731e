"""The leader's Markov generation: from path counts and conversion inputs to the
cells of ``markov`` and ``markov_global``, against the batch analyzer."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from schemas.validate import check_event
from streams.attribution import UNATTRIBUTED, UNIT, UnknownModel
from streams.batch import Selection, analyze, event_journeys
from streams.config import Settings
from streams.engine import Engine
from streams.lead_paths import MarkovInput, path_label
from streams.ledger import ALL_TIME, Cell
from streams.markov_credits import generation, path_totals
from streams.normalize import normalise
from tests.markov_cases import Case, Figures, channel_figures, path_case


def _settings(case: Case, tmp_path: Path) -> Settings:
    rules = case.rules_file(tmp_path / "rules.json")
    return Settings(deal_lookback_days=0, channel_rules_path=str(rules))


def _engine_cells(case: Case, settings: Settings, seed: int | None = None) -> Any:
    events = [normalise(check_event(e), 0, b"k") for e in case.events]
    if seed is not None:
        random.Random(seed).shuffle(events)
    return Engine(settings).run(events).totals()


def _batch(case: Case) -> Figures:
    """The batch analyzer's won deals and revenue on the export."""
    report = analyze(event_journeys(case.event_rows(), lookback_days=0), Selection())
    found: Figures = {}
    for figure in report.figures:
        for metric, amount in (
            ("won", figure.credit_units),
            ("revenue:USD", figure.value_minor),
        ):
            if amount:
                found[figure.model, figure.channel, metric] = amount
    return found


@pytest.fixture(scope="module")
def case(data_dir: Path) -> Case:
    return path_case(data_dir)


def test_generation_path_case_equals_batch_analyzer_for_every_model(
    case: Case, tmp_path: Path
) -> None:
    cells = _engine_cells(case, _settings(case, tmp_path))

    expected = _batch(case)
    got = channel_figures(cells)

    assert {model for model, _, _ in expected} == {model for model, _, _ in got}
    assert "markov" in {m for m, _, _ in got} and "markov_global" in {
        m for m, _, _ in got
    }
    assert got == expected


def test_generation_any_arrival_order_same_markov_cells(
    case: Case, tmp_path: Path
) -> None:
    settings = _settings(case, tmp_path)
    natural = _engine_cells(case, settings)

    for seed in (1, 2):
        assert _engine_cells(case, settings, seed) == natural


def test_generation_markov_credits_leads_and_all_time_sums_days(
    case: Case, tmp_path: Path
) -> None:
    cells = _engine_cells(case, _settings(case, tmp_path))
    markov = {c: a for c, a in cells.items() if c.scope == "markov"}

    for dimension in ("channel", "source", "campaign"):
        won = [
            a
            for c, a in markov.items()
            if c.dimension == dimension and c.metric == "won"
        ]
        days = sum(
            a
            for c, a in markov.items()
            if c.dimension == dimension and c.metric == "won" and c.day != ALL_TIME
        )
        assert sum(won) == 2 * days == 2 * 91 * UNIT


def _input(
    conversion_id: str,
    channels: str,
    value_minor: int = 0,
    currency: str = "USD",
    metric: str = "won",
    day: str = "2026-01-02",
) -> MarkovInput:
    touches = tuple((c, c, "m", "(not set)") for c in channels.split())
    return MarkovInput(conversion_id, metric, day, value_minor, currency, touches)


def _fields(*rows: tuple[str, str, int]) -> dict[tuple[str, str], int]:
    return {(path_label(path.split()), metric): amount for path, metric, amount in rows}


class TestGeneration:
    def test_path_totals_sum_value_per_currency(self) -> None:
        counts, values = path_totals(
            _fields(
                ("a b", "conversions", 2),
                ("a b", "value:USD", 700),
                ("b", "value:EUR", 40),
                ("b", "conversions", 1),
                ("a", "nulls", 3),
            )
        )
        assert counts.as_rows() == [
            [["a"], 0, 0, 3],
            [["a", "b"], 2, 0, 0],
            [["b"], 1, 0, 0],
        ]
        assert values == {"USD": 700, "EUR": 40}

    def test_generation_currencies_split_apart(self) -> None:
        fields = _fields(
            ("a b", "conversions", 1),
            ("a b", "value:USD", 1000),
            ("b", "conversions", 1),
            ("b", "value:EUR", 500),
            ("a", "nulls", 1),
        )
        inputs = [_input("deal:1", "a b", 1000), _input("deal:2", "b", 500, "EUR")]

        cells = generation(fields, inputs, 1).cells
        global_all = {
            (c.value, c.metric): a
            for c, a in cells.items()
            if c.scope == "markov_global" and c.day == ALL_TIME
        }

        assert sum(a for (_, m), a in global_all.items() if m == "revenue:USD") == 1000
        assert sum(a for (_, m), a in global_all.items() if m == "revenue:EUR") == 500
        assert sum(a for (_, m), a in global_all.items() if m == "won") == 2 * UNIT
        assert cells[Cell("markov", "channel", ALL_TIME, "b", "revenue:EUR")] == 500

    def test_generation_won_without_touch_unattributed_in_both(self) -> None:
        fields = _fields(("a", "conversions", 1), ("a", "value:USD", 300))
        inputs = [_input("deal:1", "a", 300), _input("deal:2", "", 200)]

        cells = generation(fields, inputs, 1).cells

        for scope in ("markov", "markov_global"):
            cell = Cell(scope, "channel", ALL_TIME, UNATTRIBUTED, "revenue:USD")
            assert cells[cell] == 200
            assert cells[cell._replace(metric="won")] == UNIT
        assert cells[Cell("markov_global", "channel", ALL_TIME, "a", "won")] == UNIT

    def test_generation_nothing_converted_markov_linear_no_global(self) -> None:
        fields = _fields(("a b", "nulls", 2))
        inputs = [_input("lead:1", "a b", metric="leads")]

        result = generation(fields, inputs, 1)

        assert result.fallbacks == 0
        assert not [c for c in result.cells if c.scope == "markov_global"]
        assert (
            result.cells[Cell("markov", "channel", ALL_TIME, "a", "leads")] == UNIT // 2
        )

    def test_generation_summary_names_effects_and_counts(self) -> None:
        fields = _fields(
            ("a b", "conversions", 1), ("b", "conversions", 1), ("a b", "nulls", 1)
        )

        summary = generation(fields, [], 1).summary()

        assert summary["removal_effects"] == pytest.approx({"a": 2 / 3, "b": 1.0})
        assert (summary["paths"], summary["conversions"], summary["nulls"]) == (2, 2, 1)

    def test_settings_markov_in_worker_models_rejected(self) -> None:
        with pytest.raises(UnknownModel, match="markov"):
            Settings(models=("linear", "markov"))
