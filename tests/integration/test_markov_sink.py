"""The Markov glue on a real Redis: inputs, generations swapped in whole, and the
read side showing them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner
from redis.exceptions import ResponseError

from leadroi.api import make_app
from leadroi.cli import main
from leadroi.drain import wait_markov
from leadroi.store import Store
from schemas.names import SEP, Names
from streams import markov_sink
from streams.config import Settings
from streams.lead_paths import MarkovInput, path_label
from streams.ledger import ALL_TIME, Cell
from streams.markov_credits import generation
from streams.markov_sink import MarkovSink, refresh
from streams.sink import RedisSink

pytestmark = pytest.mark.integration


def _input(cid: str, channels: str, day: str, value_minor: int) -> MarkovInput:
    touches = tuple((c, c, "cpc", "(not set)") for c in channels.split())
    return MarkovInput(cid, "won", day, value_minor, "USD", touches)


def _path_cell(path: str, metric: str, day: str = "2026-03-01") -> Cell:
    return Cell("markov_paths", "path", day, path_label(path.split()), metric)


@pytest.fixture()
async def sinks(
    redis_url: str, names: Names
) -> AsyncIterator[tuple[RedisSink, MarkovSink]]:
    records = RedisSink(redis_url, names)
    yield records, MarkovSink(records.client, names)
    keys = [key async for key in records.client.scan_iter(f"{names.prefix}:*")]
    if keys:
        await records.client.delete(*keys)
    await records.close()


async def _agg_keys(sink: MarkovSink, scope: str) -> set[str]:
    pattern = f"{sink.names.prefix}:agg:{scope}:*"
    return {key.decode() async for key in sink.client.scan_iter(pattern)}


async def _live_cells(sink: MarkovSink, keys: set[str]) -> dict[Cell, int]:
    cells: dict[Cell, int] = {}
    for key in keys:
        parts = sink.names.agg_parts(key)
        assert parts is not None
        for field, amount in (await sink.client.hgetall(key)).items():
            assert isinstance(field, bytes)
            value, _, metric = field.decode().rpartition(SEP)
            cells[Cell(*parts, value, metric)] = int(amount)
    return cells


async def test_markov_sink_inputs_replaced_whole_and_emptied(
    sinks: tuple[RedisSink, MarkovSink],
) -> None:
    _, markov = sinks
    first = [
        _input("deal:1", "a b", "2026-03-01", 500),
        _input("deal:2", "b", "2026-03-02", 0),
    ]
    await markov.put_inputs("L1", first)
    await markov.put_inputs("L2", [_input("deal:3", "", "2026-03-03", 70)])
    await markov.put_inputs("L2", [])

    _, inputs = await markov.read()

    assert inputs == first


async def test_markov_sink_refresh_reads_path_records_and_swaps_generations(
    sinks: tuple[RedisSink, MarkovSink],
) -> None:
    records, markov = sinks
    path = {_path_cell("a b", "conversions"): 1, _path_cell("a b", "value:USD"): 900}
    await records.apply({"paths|L1": path, "paths|L2": {_path_cell("a", "nulls"): 1}})
    await markov.put_inputs("L1", [_input("deal:1", "a b", "2026-03-01", 900)])

    first = await refresh(markov, order=1)
    first_keys = await _agg_keys(markov, "markov")
    # The deal moves to another day: the old day's hashes must go.
    await markov.put_inputs("L1", [_input("deal:1", "a b", "2026-03-05", 900)])
    second = await refresh(markov, order=1)
    second_keys = await _agg_keys(markov, "markov")

    assert first.result.removal_effects == pytest.approx({"a": 1.0, "b": 1.0})
    assert any(key.endswith(":2026-03-01") for key in first_keys)
    assert not any(key.endswith(":2026-03-01") for key in second_keys)
    assert any(key.endswith(":2026-03-05") for key in second_keys)
    assert await _live_cells(markov, second_keys) == {
        c: a for c, a in second.cells.items() if c.scope == "markov"
    }
    staged = [
        k async for k in markov.client.scan_iter(f"{markov.names.prefix}:staged:*")
    ]
    assert staged == []
    scopes = await markov.client.smembers(markov.names.scopes_key)
    assert {b"markov", b"markov_global"} <= scopes


async def test_markov_sink_expired_staged_keys_leave_live_generation(
    sinks: tuple[RedisSink, MarkovSink],
    names: Names,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, markov = sinks
    inputs = [_input("deal:1", "a", "2026-03-01", 100)]
    fields = {(path_label(["a"]), "conversions"): 1}
    await markov.publish(generation(fields, inputs, 1), 1000)
    live_key = names.agg_key("markov", "channel", ALL_TIME)
    before = await markov.client.hgetall(live_key)

    # A staged key that expires before the swap, as after a stalled leader.
    monkeypatch.setattr(markov_sink, "STAGED_TTL_S", 0)
    with pytest.raises(ResponseError, match="is gone"):
        await markov.publish(generation(fields, inputs * 2, 1), 2000)

    assert await markov.client.hgetall(live_key) == before
    store = Store.from_url(redis_url, names)
    try:
        model = await store.markov_model()
    finally:
        await store.aclose()
    assert model is not None and model["generated_at_ms"] == 1000


@pytest.fixture()
async def published(
    redis_url: str, names: Names, sinks: tuple[RedisSink, MarkovSink]
) -> dict[str, Any]:
    _, markov = sinks
    fields = {
        (path_label(["a", "b"]), "conversions"): 1,
        (path_label(["b"]), "conversions"): 1,
        (path_label(["a", "b"]), "nulls"): 1,
    }
    inputs = [
        _input("deal:1", "a b", "2026-03-01", 900),
        _input("deal:2", "b", "2026-03-02", 100),
    ]
    await markov.publish(generation(fields, inputs, 1), 1_770_000_000_000)
    store = Store.from_url(redis_url, names)
    try:
        model = await wait_markov(store, 1_770_000_000_000, timeout_s=5)
    finally:
        await store.aclose()
    return model


async def test_api_markov_and_roi_show_the_generation(
    published: dict[str, Any], redis_url: str, names: Names
) -> None:
    app = make_app(redis_url, names, Settings())
    async with TestClient(TestServer(app)) as client:
        markov = await (await client.get("/api/markov")).json()
        models = await (await client.get("/api/models")).json()
        rows = await (
            await client.get(
                "/api/roi", params={"model": "markov_global", "by": "channel"}
            )
        ).json()

    assert markov["markov"] == published
    assert markov["markov"]["removal_effects"] == pytest.approx({"a": 2 / 3, "b": 1.0})
    assert {"markov", "markov_global"} <= set(models["models"])
    won = {row["value"]: Decimal(row["won"]) for row in rows["rows"]}
    assert won == {"a": Decimal("0.8"), "b": Decimal("1.2")}


async def test_report_table_ends_with_removal_effects(
    published: dict[str, Any], redis_url: str, names: Names
) -> None:
    env = {"LEADROI_REDIS_URL": redis_url, "LEADROI_PREFIX": names.prefix}

    def run() -> Any:
        return CliRunner().invoke(
            main, ["report", "--model", "markov", "--by", "channel"], env=env
        )

    result = await asyncio.to_thread(run)

    assert result.exit_code == 0, result.output
    assert result.output.startswith("markov: by channel, all time")
    last = result.output.splitlines()[-1]
    assert "order 1" in last and "b 1.0000, a 0.6667" in last
