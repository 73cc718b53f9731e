"""The stream's figures against ``leadroi analyze`` on the same events.

A few hundred ChannelAttribution journeys and DP6's repeat buyers go through the
HTTP tracker, Kafka and a worker; once the pipeline has drained and the leader
has a Markov generation that read its inputs after that, every model's won
deals and revenue per channel in Redis must equal the batch analyzer's on the
same touches.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from leadroi.analyze_cli import analyze as analyze_command
from leadroi.drain import wait_drained
from leadroi.replay import post_events
from schemas.names import Names
from streams.attribution import UNIT
from streams.batch import event_journeys, path_counts
from streams.markov import removal_effects
from tests.integration.conftest import WorkerProcess
from tests.markov_cases import (
    ANALYZE_COLUMNS,
    Case,
    Figures,
    channel_figures,
    path_case,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def case(data_dir: Path) -> Case:
    return path_case(data_dir)


@pytest.fixture()
def worker_env(
    worker_env: dict[str, str], case: Case, tmp_path: Path
) -> dict[str, str]:
    rules = case.rules_file(tmp_path / "rules.json")
    return {**worker_env, "LEADROI_CHANNEL_RULES": str(rules)}


def _send(url: str, events: list[dict[str, Any]], bootstrap: str, names: Names) -> None:
    result = asyncio.run(post_events(url, events, batch_size=200))
    assert result.accepted == len(events), result.rejected[:3]
    asyncio.run(wait_drained(bootstrap, names, timeout_s=240))


def _analyzed(case: Case, tmp_path: Path) -> Figures:
    """(model, channel, metric) -> amount, from ``leadroi analyze events``."""
    export = case.export_csv(tmp_path / "export.csv")
    options = ["--lookback-days=0", "--format=csv"]
    result = CliRunner().invoke(
        analyze_command, ["events", str(export), *ANALYZE_COLUMNS, *options]
    )
    assert result.exit_code == 0, result.output
    figures: Figures = {}
    for line in result.stdout.splitlines()[1:]:
        model, _, channel, conversions, revenue = line.split(",")
        units = int(Decimal(conversions) * UNIT)
        revenue_minor = int(Decimal(revenue) * 100)
        if units:
            figures[model, channel, "won"] = units
        if revenue_minor:
            figures[model, channel, "revenue:USD"] = revenue_minor
    return figures


def _effects(case: Case) -> dict[str, float]:
    counts = path_counts(event_journeys(case.event_rows(), lookback_days=0))
    return removal_effects(counts, 1).removal_effects


def test_markov_stream_every_model_equals_leadroi_analyze_then_resend_keeps_it(
    worker: WorkerProcess,
    tracker_url: str,
    kafka_bootstrap: str,
    names: Names,
    redis_cells: Any,
    markov_settled: Any,
    case: Case,
    tmp_path: Path,
) -> None:
    expected = _analyzed(case, tmp_path)

    _send(tracker_url, case.events, kafka_bootstrap, names)
    model = markov_settled()
    first = redis_cells()
    _send(tracker_url, case.events[::-1], kafka_bootstrap, names)
    again = markov_settled()

    assert {m for m, _, _ in expected} >= {"markov", "markov_global", "linear"}
    assert channel_figures(first) == expected
    assert model["removal_effects"] == _effects(case)
    assert model["conversions"] == sum(1 for e in case.events if e["type"] == "deal")
    assert again["generation"] != model["generation"]
    assert redis_cells() == first
