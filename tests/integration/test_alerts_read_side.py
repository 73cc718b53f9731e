"""Alerts on a real Redis: ``GET /api/alerts``, the gauges on ``/metrics``,
``leadroi alerts`` and ``leadroi watch`` with a webhook.

Cells come from events run through the engine and are laid down with
``Store.write_cells``; every answer is checked against ``streams.alerts`` on the
same cells.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner, Result

from leadroi.api import make_app
from leadroi.cli import main
from leadroi.store import Store
from leadroi.watch import Watcher, WatchSettings
from schemas.names import Names
from streams import alerts
from streams.alerts import AlertRules
from streams.config import Settings
from streams.ledger import Cell
from tests.roi_cases import cells_of, f17_events, lead, spend

pytestmark = pytest.mark.integration

F17_DAY = date(2026, 11, 30)
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def _yesterday_events() -> list[dict[str, Any]]:
    """Spend without leads on yesterday (UTC), and a lead elsewhere."""
    yesterday = (datetime.now(Settings().zone).date() - timedelta(days=1)).isoformat()
    events = [spend(yesterday, "linkedin", "paid_social", "80.00")]
    events += lead("L-y", yesterday, ("newsletter", "email"))
    return events


@pytest.fixture(scope="module")
def cells() -> dict[Cell, int]:
    return cells_of([*f17_events(), *_yesterday_events()])


@pytest.fixture()
async def store(
    redis_url: str, names: Names, cells: dict[Cell, int]
) -> AsyncIterator[Store]:
    store = Store.from_url(redis_url, names)
    await store.write_cells(cells)
    yield store
    keys = [key async for key in store.client.scan_iter(f"{names.prefix}:*")]
    if keys:
        await store.client.delete(*keys)
    await store.aclose()


@pytest.fixture()
async def client(
    store: Store, redis_url: str, names: Names
) -> AsyncIterator[TestClient[Any, Any]]:
    app = make_app(redis_url, names, Settings())
    async with TestClient(TestServer(app)) as client:
        yield client


def _expected(cells: dict[Cell, int], by: str, day: date) -> list[object]:
    found = alerts.evaluate(cells, by, day, AlertRules())
    listed: list[object] = orjson.loads(orjson.dumps([a.as_dict() for a in found]))
    return listed


class TestApiAlerts:
    async def test_f17_day_answers_spend_without_leads(
        self, client: TestClient[Any, Any], cells: dict[Cell, int]
    ) -> None:
        response = await client.get("/api/alerts", params={"as_of": "2026-11-30"})
        body = await response.json()

        assert response.status == 200
        assert body["alerts"] == _expected(cells, "source", F17_DAY)
        [alert] = body["alerts"]
        assert (alert["rule"], alert["value"]) == (
            "spend_without_leads",
            "linkedin / paid_social",
        )
        assert alert["reason"].startswith("spend without leads")
        assert body["thresholds"]["cpl_factor"] == "2"

    async def test_channel_and_spike_day(
        self, client: TestClient[Any, Any], cells: dict[Cell, int]
    ) -> None:
        query = {"as_of": "2026-11-24", "by": "channel"}
        body = await (await client.get("/api/alerts", params=query)).json()

        assert body["alerts"] == _expected(cells, "channel", date(2026, 11, 24))
        assert [(a["rule"], a["value"]) for a in body["alerts"]] == [
            ("cpl_spike", "Paid Search")
        ]

    async def test_bad_parameters_400_per_field(
        self, client: TestClient[Any, Any]
    ) -> None:
        query = {"by": "campaign", "as_of": "2026-13-01", "model": "no such"}
        response = await client.get("/api/alerts", params=query)

        assert response.status == 400
        fields = [e["field"] for e in (await response.json())["errors"]]
        assert fields == ["by", "model", "as_of"]

    async def test_model_without_figures_400_names_known(
        self, client: TestClient[Any, Any]
    ) -> None:
        query = {"model": "shapley", "as_of": "2026-11-30"}
        response = await client.get("/api/alerts", params=query)

        assert response.status == 400
        [error] = (await response.json())["errors"]
        assert error["field"] == "model"
        assert "last_non_direct" in error["reason"]

    async def test_metrics_gauges_count_yesterdays_alerts(
        self, client: TestClient[Any, Any]
    ) -> None:
        lines = (await (await client.get("/metrics")).text()).splitlines()

        def gauge(rule: str, dimension: str) -> str:
            labels = f'dimension="{dimension}",rule="{rule}"'
            return f"leadroi_alerts_active{{{labels}}}"

        assert f"{gauge('spend_without_leads', 'source')} 1.0" in lines
        assert f"{gauge('spend_without_leads', 'channel')} 1.0" in lines
        assert f"{gauge('cpl_spike', 'source')} 0.0" in lines
        assert f"{gauge('lead_volume_drop', 'channel')} 0.0" in lines
        assert "leadroi_api_redis_up 1.0" in lines

    async def test_redis_down_alerts_503_and_metrics_still_answer(
        self, names: Names
    ) -> None:
        app = make_app(UNREACHABLE_REDIS, names, Settings())
        async with TestClient(TestServer(app)) as client:
            answer = await client.get("/api/alerts")
            metrics = await client.get("/metrics")

            assert answer.status == 503
            assert metrics.status == 200
            assert "leadroi_api_redis_up 0.0" in (await metrics.text()).splitlines()


def _run(redis_url: str, names: Names, args: list[str], **env: str) -> Result:
    env = {"LEADROI_REDIS_URL": redis_url, "LEADROI_PREFIX": names.prefix, **env}
    return CliRunner().invoke(main, args, env=env)


async def cli(redis_url: str, names: Names, *args: str, **env: str) -> Result:
    # The command runs its own event loop, so it cannot share the test's.
    return await asyncio.to_thread(_run, redis_url, names, list(args), **env)


class TestAlertsCli:
    async def test_json_equals_rules_on_same_cells(
        self, store: Store, redis_url: str, names: Names, cells: dict[Cell, int]
    ) -> None:
        args = ["alerts", "--as-of", "2026-11-24", "--format", "json"]
        result = await cli(redis_url, names, *args)

        assert result.exit_code == 0, result.output
        body = orjson.loads(result.output)
        assert body["alerts"] == _expected(cells, "source", date(2026, 11, 24))
        assert body["day"] == "2026-11-24"

    async def test_table_lists_reason(
        self, store: Store, redis_url: str, names: Names
    ) -> None:
        result = await cli(redis_url, names, "alerts", "--as-of", "2026-11-30")

        lines = result.output.splitlines()
        assert lines[0] == "alerts by source on 2026-11-30 (leads of last_non_direct)"
        assert lines[2].startswith("spend_without_leads  linkedin / paid_social")

    async def test_threshold_from_env_changes_answer(
        self, store: Store, redis_url: str, names: Names
    ) -> None:
        args = ["alerts", "--as-of", "2026-11-24", "--format", "json"]
        result = await cli(redis_url, names, *args, LEADROI_ALERT_CPL_FACTOR="5")

        assert orjson.loads(result.output)["alerts"] == []

    async def test_bad_threshold_clear_error(
        self, store: Store, redis_url: str, names: Names
    ) -> None:
        result = await cli(redis_url, names, "alerts", LEADROI_ALERT_VOLUME_RATIO="x")

        assert result.exit_code == 1
        assert result.output.startswith("Error: LEADROI_ALERT_VOLUME_RATIO: 'x'")


class Hook:
    """A webhook that records what it is sent, and can be told to fail."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.failing = False

    async def handle(self, request: web.Request) -> web.Response:
        if self.failing:
            return web.Response(status=502, text="upstream down")
        self.received.append(await request.json())
        return web.Response(status=204)


@pytest.fixture()
async def hook() -> AsyncIterator[tuple[Hook, str]]:
    recorder = Hook()
    app = web.Application()
    app.router.add_post("/hook", recorder.handle)
    async with TestServer(app) as server:
        yield recorder, str(server.make_url("/hook"))


class TestWatch:
    async def test_watch_posts_each_alert_once_across_rounds(
        self, store: Store, hook: tuple[Hook, str], redis_url: str, names: Names
    ) -> None:
        recorder, url = hook
        env = {"LEADROI_ALERT_WEBHOOK": url}
        args = ["watch", "--once", "--as-of", "2026-11-30"]

        first = await cli(redis_url, names, *args, **env)
        second = await cli(redis_url, names, *args, **env)

        assert first.exit_code == 0, first.output
        assert first.output.splitlines() == [
            "spend_without_leads|source|linkedin / paid_social|2026-11-30:"
            " spend without leads: 250.00 USD spent on 2026-11-30 and 0 leads,"
            " so CPL is undefined",
            "spend_without_leads|channel|Paid Social|2026-11-30:"
            " spend without leads: 250.00 USD spent on 2026-11-30 and 0 leads,"
            " so CPL is undefined",
        ]
        assert second.output == ""
        assert [body["alert"]["value"] for body in recorder.received] == [
            "linkedin / paid_social",
            "Paid Social",
        ]
        assert recorder.received[0]["text"].startswith("leadroi source")

    async def test_failed_post_is_sent_in_next_round(
        self, store: Store, hook: tuple[Hook, str]
    ) -> None:
        recorder, url = hook
        settings = WatchSettings(url, 1.0, ("source",))
        async with aiohttp.ClientSession() as session:
            watcher = Watcher(store, AlertRules(), Settings(), settings, session)
            recorder.failing = True
            failed = await watcher.round(F17_DAY)
            recorder.failing = False
            retried = await watcher.round(F17_DAY)
            again = await watcher.round(F17_DAY)

        assert (failed, again) == ([], [])
        assert [a.value for a in retried] == ["linkedin / paid_social"]
        assert len(recorder.received) == 1
