"""Exact Markov removal effects: hand-solved chains, an independent dense solve,
and the path counts a stream worker keeps."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from streams.attribution import UNIT, Conversion, Touch, attribute
from streams.markov import (
    BadOrder,
    BadPathCount,
    PathCounts,
    collapse,
    global_credits,
    removal_effects,
)


def _counts(*rows: tuple[str, int, int, int]) -> PathCounts:
    counts = PathCounts()
    for path, conversions, value_minor, nulls in rows:
        counts.add(path.split(" > "), conversions, value_minor, nulls)
    return counts


class TestPathCounts:
    def test_collapse_consecutive_repeats_only(self) -> None:
        assert collapse(["a", "a", "b", "a", "a"]) == ("a", "b", "a")

    def test_path_counts_add_then_remove_leaves_nothing(self) -> None:
        counts = _counts(("a > b", 1, 500, 0))
        counts.add(["a", "a", "b"], nulls=2)
        assert counts.get(["a", "b"]).nulls == 2
        counts.remove(["a", "b"], 1, 500, 2)
        assert len(counts) == 0

    def test_open_journey_converting_moves_from_null(self) -> None:
        counts = _counts(("a", 0, 0, 1))
        counts.remove(["a"], nulls=1)
        counts.add(["a", "b"], conversions=1, value_minor=700)
        assert counts.as_rows() == [[["a", "b"], 1, 700, 0]]

    def test_path_counts_negative_rejected(self) -> None:
        with pytest.raises(BadPathCount, match="a > b"):
            _counts(("a > b", 1, 0, 0)).remove(["a", "b"], nulls=1)

    def test_path_counts_workers_merge_and_round_trip(self) -> None:
        left, right = (
            _counts(("a > b", 1, 10, 0)),
            _counts(("a > b", 2, 5, 3), ("c", 0, 0, 1)),
        )
        left.merge(right)
        assert left == _counts(("a > b", 3, 15, 3), ("c", 0, 0, 1))
        assert PathCounts.from_rows(left.as_rows()) == left


class TestHandSolved:
    def test_order_one_removal_effects(self) -> None:
        # start->a 2/3, start->b 1/3, a->b 1, b->conversion 2/3: P = 2/3.
        result = removal_effects(_counts(("a > b", 1, 0, 1), ("b", 1, 0, 0)), 1)
        assert result.conversion_probability == pytest.approx(2 / 3, abs=1e-12)
        assert result.removal_effects == pytest.approx(
            {"a": 2 / 3, "b": 1.0}, abs=1e-12
        )

    def test_order_two_separates_histories(self) -> None:
        counts = _counts(("a > b", 1, 0, 0), ("c > b", 0, 0, 1))
        first = removal_effects(counts, 1).removal_effects
        second = removal_effects(counts, 2).removal_effects
        assert first == pytest.approx({"a": 0.5, "b": 1.0, "c": 0.5}, abs=1e-12)
        # Only (a, b) converts, so c adds nothing once history is kept.
        assert second == pytest.approx({"a": 1.0, "b": 1.0, "c": 0.0}, abs=1e-12)

    def test_global_credits_split_by_effect_share(self) -> None:
        counts = _counts(("a > b", 1, 300, 1), ("b", 1, 200, 0))
        credits = global_credits(counts, removal_effects(counts, 1))
        # effects 2/3 and 1 -> shares 2/5 and 3/5 of 2 conversions and 500.
        assert [(c.channel, c.credit_units, c.value_minor) for c in credits] == [
            ("a", 800_000, 200),
            ("b", 1_200_000, 300),
        ]

    def test_nothing_converted_no_global_credit(self) -> None:
        counts = _counts(("a > b", 0, 0, 4))
        result = removal_effects(counts, 2)
        assert result.removal_effects == {"a": 0.0, "b": 0.0}
        assert global_credits(counts, result) == []

    def test_order_four_rejected(self) -> None:
        with pytest.raises(BadOrder, match="order"):
            removal_effects(_counts(("a", 1, 0, 0)), 4)

    def test_markov_journey_credit_follows_order_two_effects(self) -> None:
        counts = _counts(("a > b", 1, 0, 0), ("c > b", 0, 0, 1))
        params = removal_effects(counts, 2).params
        journey = [Touch("1", 1, "c"), Touch("2", 2, "b")]
        credits = attribute("markov", journey, Conversion("x", 3, 100), params)
        assert [
            (c.touch.channel if c.touch else "", c.credit_units) for c in credits
        ] == [
            ("b", UNIT),
        ]


def _dense_order_one(rows: list[tuple[list[str], int, int]]) -> dict[str, float]:
    """Removal effects the textbook way, written apart from streams.markov: a dense
    matrix over start, channels, conversion and null, the fundamental matrix, and
    removal by sending a channel's incoming transitions to null."""
    channels = sorted({c for path, _, _ in rows for c in path})
    names = ["(start)", *channels, "(conversion)", "(null)"]
    at = {name: i for i, name in enumerate(names)}
    counts = np.zeros((len(names), len(names)))
    for path, conversions, nulls in rows:
        steps = [
            "(start)",
            *[c for i, c in enumerate(path) if i == 0 or path[i - 1] != c],
        ]
        for a, b in zip(steps, steps[1:], strict=False):
            counts[at[a], at[b]] += conversions + nulls
        counts[at[steps[-1]], at["(conversion)"]] += conversions
        counts[at[steps[-1]], at["(null)"]] += nulls

    def conversion(matrix: np.ndarray) -> float:
        transient = len(names) - 2
        sums = matrix[:transient].sum(axis=1, keepdims=True)
        probabilities = np.divide(
            matrix[:transient],
            sums,
            where=sums > 0,
            out=np.zeros_like(matrix[:transient]),
        )
        q, r = probabilities[:, :transient], probabilities[:, transient:]
        absorbed = np.linalg.solve(np.eye(transient) - q, r)
        return float(absorbed[0, 0])

    base = conversion(counts)
    effects = {}
    for channel in channels:
        removed = counts.copy()
        removed[:, at["(null)"]] += removed[:, at[channel]]
        removed[:, at[channel]] = 0
        effects[channel] = 1 - conversion(removed) / base
    return effects


def test_order_one_equals_independent_dense_solve(data_dir: Path) -> None:
    rows = []
    counts = PathCounts()
    with (data_dir / "channelattribution_paths.csv").open(newline="") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            path = [c.strip() for c in row["path"].split(">")]
            conversions, nulls = int(row["total_conversions"]), int(row["total_null"])
            rows.append((path, conversions, nulls))
            counts.add(path, conversions, 0, nulls)

    expected = _dense_order_one(rows)
    result = removal_effects(counts, 1)
    assert result.removal_effects == pytest.approx(expected, abs=1e-9)

    total = sum(expected.values())
    for credit in global_credits(counts, result):
        share = 19_785 * expected[credit.channel] / total
        assert float(credit.exact_conversions) == pytest.approx(share, abs=1e-9)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_conversion_probability_is_observed_rate(data_dir: Path, order: int) -> None:
    """Every journey is a walk of the chain, so from the start the chain converts
    exactly as often as the journeys did, whatever the order."""
    counts = PathCounts()
    with (data_dir / "channelattribution_paths.csv").open(newline="") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            path = [c.strip() for c in row["path"].split(">")]
            counts.add(path, int(row["total_conversions"]), 0, int(row["total_null"]))
    result = removal_effects(counts, order)
    assert result.conversion_probability == pytest.approx(19_785 / 88_387, abs=1e-12)


def test_removal_effects_any_insertion_order_identical_bits(data_dir: Path) -> None:
    rows = []
    with (data_dir / "channelattribution_paths.csv").open(newline="") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            path = [c.strip() for c in row["path"].split(">")]
            rows.append((path, int(row["total_conversions"]), int(row["total_null"])))
    forward, backward = PathCounts(), PathCounts()
    for path, conversions, nulls in rows:
        forward.add(path, conversions, 0, nulls)
    for path, conversions, nulls in reversed(rows):
        backward.add(path, conversions, 0, nulls)

    for order in (1, 2, 3):
        # Exact equality: a last-bit difference can move a credit unit.
        assert (
            removal_effects(forward, order).removal_effects
            == removal_effects(backward, order).removal_effects
        )
