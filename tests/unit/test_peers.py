"""leadroi against frozen outputs of ChannelAttribution 2.2.5 and
marketing-attribution-models 2.1.1 (see tests/data/peers/README.md)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from leadroi.analyze_cli import analyze

PEERS = Path(__file__).resolve().parent.parent / "data" / "peers"
CA_FILE = "channelattribution_paths.csv"
DP6_FILES = ("dp6_mam_test_dataset", "dp6_mam_test_dataset_multiple_conversions")
HEURISTICS = ("first_touch", "last_touch", "linear")
CONVERSIONS_TOLERANCE = 1e-9
MONEY_TOLERANCE = 0.01  # one USD minor unit


def _peer(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((PEERS / name).read_text())
    result: dict[str, Any] = document["result"]
    return result


def _run(*args: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(analyze, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def _by_model(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["model"], r["channel"]): r for r in rows}


def _paths(data_dir: Path, *extra: str) -> list[dict[str, Any]]:
    # Six decimals keep the file's values (floats with up to 17 digits) to well
    # under a cent over all 10,000 rows.
    return _run("paths", str(data_dir / CA_FILE), "--value-decimals", "6", *extra)


def _events(data_dir: Path, stem: str, *extra: str) -> list[dict[str, Any]]:
    return _run(
        "events",
        str(data_dir / f"{stem}.csv"),
        "--user-col",
        "user_pseudo_id",
        "--time-col",
        "event_time",
        "--channel-col",
        "source_medium",
        "--conversion-col",
        "is_conversion_purchase",
        "--lookback-days",
        "0",
        *extra,
    )


def _assert_equal(
    ours: dict[tuple[str, str], dict[str, Any]],
    theirs: dict[str, dict[str, dict[str, float]]],
) -> None:
    for model in HEURISTICS:
        channels = {c for (m, c) in ours if m == model}
        assert channels >= set(theirs[model])
        for channel in channels:
            peer = theirs[model].get(channel, {"conversions": 0.0, "value": 0.0})
            mine = ours[model, channel]
            assert mine["conversions"] == pytest.approx(
                peer["conversions"], abs=CONVERSIONS_TOLERANCE
            ), (model, channel)
            assert abs(mine["revenue"] - peer.get("value", 0.0)) <= MONEY_TOLERANCE, (
                model,
                channel,
            )


@pytest.mark.parametrize("peer", ["ca_heuristics", "mam"])
def test_paths_heuristics_exact_equal_peer(data_dir: Path, peer: str) -> None:
    ours = _by_model(_paths(data_dir, "--models", ",".join(HEURISTICS), "--exact"))
    _assert_equal(ours, _peer(f"{peer}_channelattribution_paths.json"))


@pytest.mark.parametrize("stem", DP6_FILES)
@pytest.mark.parametrize("peer", ["ca_heuristics", "mam"])
def test_dp6_events_heuristics_exact_equal_peer(
    data_dir: Path, stem: str, peer: str
) -> None:
    ours = _by_model(
        _events(data_dir, stem, "--models", ",".join(HEURISTICS), "--exact")
    )
    _assert_equal(ours, _peer(f"{peer}_{stem}.json"))


def test_paths_fixed_point_within_rounding_of_exact(data_dir: Path) -> None:
    """Each path row is split once, so a channel's printed figure is off the exact
    sum by less than one unit per row it appears in."""
    rows_with: dict[str, int] = {}
    with (data_dir / CA_FILE).open(newline="") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            for channel in {c.strip() for c in row["path"].split(">")}:
                rows_with[channel] = rows_with.get(channel, 0) + 1

    models = ",".join(HEURISTICS)
    exact = _by_model(_paths(data_dir, "--models", models, "--exact"))
    fixed = _by_model(_paths(data_dir, "--models", models))
    for (model, channel), row in fixed.items():
        bound = rows_with[channel]
        assert (
            abs(row["conversions"] - exact[model, channel]["conversions"])
            < bound * 1e-6
        )
        assert abs(row["revenue"] - exact[model, channel]["revenue"]) < bound * 1e-6


def test_markov_removal_effects_equal_mam_exact(data_dir: Path) -> None:
    from streams.markov import PathCounts, removal_effects

    counts = PathCounts()
    with (data_dir / CA_FILE).open(newline="") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            channels = [c.strip() for c in row["path"].split(">")]
            counts.add(
                channels, int(row["total_conversions"]), 0, int(row["total_null"])
            )

    theirs = _peer("mam_channelattribution_paths.json")["markov_removal_effects"]
    ours = removal_effects(counts, 1).removal_effects
    assert ours.keys() == theirs.keys()
    for channel, effect in theirs.items():
        assert ours[channel] == pytest.approx(effect, abs=1e-9), channel


def test_markov_global_within_one_percent_of_channelattribution(data_dir: Path) -> None:
    theirs = _peer("ca_markov_order1_channelattribution_paths.json")["channels"]
    rows = _paths(data_dir, "--models", "markov_global", "--exact")
    ours = {r["channel"]: r["conversions"] for r in rows if r["order"] == 1}
    total = sum(ours.values())

    assert total == pytest.approx(19_785, abs=1e-6)
    assert ours.keys() == theirs.keys()
    for channel, peer in theirs.items():
        assert abs(ours[channel] - peer["conversions"]) <= 0.01 * total, channel
