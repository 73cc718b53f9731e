"""The read side on a real Redis: store, ``leadroi report``, the API, the dashboard.

Cells are laid down with ``Store.write_cells`` (HINCRBY into the workers' keys);
every answer is checked against ``streams.roi`` on the same cells.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner, Result
from playwright.async_api import Page, async_playwright

from leadroi.api import make_app
from leadroi.cli import main
from leadroi.reporting import to_csv
from leadroi.store import Store
from schemas.names import Names
from streams import roi
from streams.config import Settings
from streams.ledger import ALL_TIME, Cell
from tests.integration.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.roi_cases import HOSTILE_SOURCE, cells_of, showcase_events

pytestmark = pytest.mark.integration

AS_OF = date(2026, 11, 30)
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
SCREENSHOT = Path("/tmp/leadroi-dashboard.png")


@pytest.fixture(scope="module")
def cells() -> dict[Cell, int]:
    return cells_of(showcase_events())


@pytest.fixture()
async def store(redis_url: str, names: Names) -> AsyncIterator[Store]:
    store = Store.from_url(redis_url, names)
    yield store
    keys = [key async for key in store.client.scan_iter(f"{names.prefix}:*")]
    if keys:
        await store.client.delete(*keys)
    await store.aclose()


@pytest.fixture()
async def filled(store: Store, cells: dict[Cell, int]) -> Store:
    await store.write_cells(cells)
    return store


def expected(
    cells: dict[Cell, int],
    by: str = "source",
    window: str = "all",
    models: list[str] | None = None,
) -> roi.Report:
    period = roi.window(window, AS_OF)
    return roi.report(cells, by, period, models or roi.models_in(cells))


def _run_report(redis_url: str, names: Names, *args: str) -> Result:
    env = {"LEADROI_REDIS_URL": redis_url, "LEADROI_PREFIX": names.prefix}
    return CliRunner().invoke(main, ["report", *args], env=env)


async def report_cli(redis_url: str, names: Names, *args: str) -> Result:
    # The command runs its own event loop, so it cannot share the test's.
    return await asyncio.to_thread(_run_report, redis_url, names, *args)


class TestStore:
    async def test_snapshot_all_time_returns_written_cells(
        self, filled: Store, cells: dict[Cell, int]
    ) -> None:
        snapshot = await filled.snapshot("campaign", [ALL_TIME])

        want = {
            c: n
            for c, n in cells.items()
            if (c.dimension, c.day) == ("campaign", "all")
        }
        assert snapshot.cells == want
        assert snapshot.models == roi.models_in(cells)
        assert {"first_touch", "markov", "markov_global"} <= set(snapshot.models)

    async def test_snapshot_window_reads_only_its_days(
        self, filled: Store, cells: dict[Cell, int]
    ) -> None:
        days = roi.window("7d", date(2026, 11, 29)).buckets()
        snapshot = await filled.snapshot("source", days)

        want = {
            c: n for c, n in cells.items() if c.dimension == "source" and c.day in days
        }
        assert snapshot.cells == want
        assert "2026-11-30" not in {c.day for c in snapshot.cells}

    async def test_snapshot_without_scopes_set_falls_back_to_scan(
        self, filled: Store, names: Names
    ) -> None:
        listed = await filled.snapshot("channel", [ALL_TIME])
        await filled.client.delete(names.scopes_key)

        scanned = await filled.snapshot("channel", [ALL_TIME])

        assert scanned.cells == listed.cells
        assert scanned.models == listed.models

    async def test_write_cells_twice_doubles_counts(
        self, store: Store, names: Names
    ) -> None:
        cell = Cell("spend", "source", "2026-11-30", "google / cpc", "spend:USD")
        await store.write_cells({cell: 150})
        await store.write_cells({cell: 150})

        snapshot = await store.snapshot("source", ["2026-11-30"])

        assert snapshot.cells == {cell: 300}


class TestReportCli:
    async def test_json_equals_roi_on_same_cells(
        self, filled: Store, redis_url: str, names: Names, cells: dict[Cell, int]
    ) -> None:
        result = await report_cli(redis_url, names, "--format", "json")

        assert result.exit_code == 0, result.output
        assert orjson.loads(result.output) == orjson.loads(
            orjson.dumps(expected(cells).as_dict())
        )

    async def test_csv_window_equals_roi_on_same_cells(
        self, filled: Store, redis_url: str, names: Names, cells: dict[Cell, int]
    ) -> None:
        args = ["--format", "csv", "--by", "channel", "--window", "7d"]
        result = await report_cli(redis_url, names, *args, "--as-of", "2026-11-30")

        assert result.exit_code == 0, result.output
        assert result.output == to_csv(expected(cells, "channel", "7d"))

    async def test_table_shows_f17_rows_with_na(
        self, filled: Store, redis_url: str, names: Names
    ) -> None:
        result = await report_cli(redis_url, names, "--model", "first_touch")

        lines = result.output.splitlines()
        linkedin = next(line for line in lines if line.startswith("linkedin"))
        google = next(line for line in lines if line.startswith("google / cpc"))
        assert lines[0] == "first_touch: by source, all time"
        assert linkedin.split()[-4:] == ["n/a", "n/a", "-100.00", "0.00"]
        assert "13.64" in google.split()

    async def test_table_rows_in_roi_order(
        self, filled: Store, redis_url: str, names: Names, cells: dict[Cell, int]
    ) -> None:
        args = ["--model", "linear", "--by", "channel"]
        result = await report_cli(redis_url, names, *args)

        lines = result.output.splitlines()[2:]
        rows = expected(cells, "channel", models=["linear"]).rows
        assert len(lines) == len(rows)
        assert all(
            line.startswith(r.value) for line, r in zip(lines, rows, strict=True)
        )

    async def test_unknown_model_names_the_known_ones(
        self, filled: Store, redis_url: str, names: Names, cells: dict[Cell, int]
    ) -> None:
        result = await report_cli(redis_url, names, "--model", "shapley")

        assert result.exit_code == 1
        assert "model: 'shapley' has no figures" in result.output
        assert ", ".join(roi.models_in(cells)) in result.output

    async def test_unknown_currency_in_redis_clear_error(
        self, filled: Store, redis_url: str, names: Names
    ) -> None:
        cell = Cell("linear", "source", ALL_TIME, "google / cpc", "revenue:ZZZ")
        await filled.write_cells({cell: 100})

        result = await report_cli(redis_url, names, "--model", "linear")

        assert result.exit_code == 1
        assert result.output.startswith("Error: currency: 'ZZZ' is not an ISO 4217")

    async def test_unreachable_redis_clear_error_without_traceback(
        self, names: Names
    ) -> None:
        result = await report_cli(UNREACHABLE_REDIS, names)

        assert result.exit_code == 1
        assert result.output.startswith(
            "Error: redis: cannot reach redis://127.0.0.1:1/0"
        )
        assert "Traceback" not in result.output


@pytest.fixture()
async def client(
    filled: Store, redis_url: str, names: Names
) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(make_app(redis_url, names, Settings()))) as client:
        yield client


class TestApi:
    async def test_roi_json_equals_roi_on_same_cells(
        self, client: TestClient[Any, Any], cells: dict[Cell, int]
    ) -> None:
        query = {
            "model": "linear",
            "by": "campaign",
            "window": "30d",
            "as_of": "2026-11-30",
        }
        response = await client.get("/api/roi", params=query)

        assert response.status == 200
        want = expected(cells, "campaign", "30d", ["linear"]).as_dict()
        assert await response.json() == orjson.loads(orjson.dumps(want))

    async def test_roi_csv_has_header_and_same_rows(
        self, client: TestClient[Any, Any], cells: dict[Cell, int]
    ) -> None:
        response = await client.get("/api/roi", params={"format": "csv"})
        text = await response.text()

        assert response.content_type == "text/csv"
        assert text == to_csv(expected(cells))
        rows = list(csv.DictReader(io.StringIO(text)))
        linkedin = next(r for r in rows if r["value"] == "linkedin / paid_social")
        assert (linkedin["cpl"], linkedin["roi_pct"]) == ("", "-100.00")

    async def test_roi_week_cpl_from_summed_days(
        self, client: TestClient[Any, Any]
    ) -> None:
        query = {"model": "first_touch", "window": "7d", "as_of": "2026-11-29"}
        body = await (await client.get("/api/roi", params=query)).json()

        google = next(r for r in body["rows"] if r["value"] == "google / cpc")
        assert (google["spend"], google["leads"], google["cpl"]) == (
            "150.00",
            "11",
            "13.64",
        )
        assert (body["first_day"], body["last_day"]) == ("2026-11-23", "2026-11-29")

    async def test_roi_bad_parameters_400_per_field(
        self, client: TestClient[Any, Any]
    ) -> None:
        query = {"by": "country", "window": "14d", "as_of": "2026-02-30"}
        response = await client.get("/api/roi", params=query)

        assert response.status == 400
        fields = [e["field"] for e in (await response.json())["errors"]]
        assert fields == ["by", "window", "as_of"]

    async def test_roi_unknown_model_400(self, client: TestClient[Any, Any]) -> None:
        response = await client.get("/api/roi", params={"model": "shapley"})

        assert response.status == 400
        assert (await response.json())["errors"][0]["field"] == "model"

    async def test_models_lists_models_present(
        self, client: TestClient[Any, Any], cells: dict[Cell, int]
    ) -> None:
        response = await client.get("/api/models")

        assert await response.json() == {"models": roi.models_in(cells)}

    async def test_healthz_ok_when_redis_answers(
        self, client: TestClient[Any, Any]
    ) -> None:
        response = await client.get("/healthz")

        assert (response.status, await response.json()) == (200, {"status": "ok"})

    async def test_metrics_count_rows_served(
        self, client: TestClient[Any, Any]
    ) -> None:
        body = await (await client.get("/api/roi", params={"model": "linear"})).json()
        metrics = await (await client.get("/metrics")).text()

        served = f"leadroi_api_roi_rows_served_total {float(len(body['rows']))}"
        assert served in metrics.splitlines()
        assert "leadroi_api_redis_up 1.0" in metrics.splitlines()
        assert "leadroi_api_report_seconds_count 1.0" in metrics.splitlines()

    async def test_roi_corrupt_field_500_names_key(
        self, client: TestClient[Any, Any], store: Store, names: Names
    ) -> None:
        key = names.agg_key("linear", "source", ALL_TIME)
        await store.client.hset(key, "google / cpc", "12")

        response = await client.get("/api/roi", params={"model": "linear"})

        assert response.status == 500
        assert key in (await response.json())["reason"]

    async def test_redis_down_503_with_reason(self, names: Names) -> None:
        app = make_app(UNREACHABLE_REDIS, names, Settings())
        async with TestClient(TestServer(app)) as client:
            health = await client.get("/healthz")
            report = await client.get("/api/roi")

            assert (health.status, report.status) == (503, 503)
            assert "cannot reach" in (await report.json())["reason"]


@pytest.fixture()
async def served(filled: Store, redis_url: str, names: Names) -> AsyncIterator[str]:
    runner = web.AppRunner(make_app(redis_url, names, Settings()))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}"
    await runner.cleanup()


@pytest.fixture()
async def page() -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        yield await context.new_page()
        await browser.close()


async def table_rows(page: Page) -> list[list[str]]:
    rows: list[list[str]] = await page.eval_on_selector_all(
        "#roi tbody tr",
        "trs => trs.map(tr => [...tr.cells].map(td => td.textContent))",
    )
    return rows


def _seen(row: roi.RoiRow) -> list[str]:
    """A row as the dashboard shows it, without thousands separators."""
    fields = ["leads", "won", "lost", "revenue", "refunds", "net_revenue", "spend"]
    fields += ["cpl", "cac", "roi_pct"]
    fields += ["roas", "win_rate_pct", "avg_deal"]
    values = row.as_dict()
    shown = ["n/a" if values[f] is None else str(values[f]) for f in fields]
    return [row.value, row.currency or "", *shown]


class TestDashboard:
    async def test_dashboard_shows_redis_rows_and_follows_model(
        self, served: str, page: Page, cells: dict[Cell, int]
    ) -> None:
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        await page.goto(f"{served}/?model=first_touch")
        await page.wait_for_selector("#roi tbody tr >> nth=6")
        first = await table_rows(page)
        await page.select_option("#model", "linear")
        await page.wait_for_function(
            "() => document.querySelector('#period').textContent.startsWith('linear')"
        )
        linear = await table_rows(page)
        await page.screenshot(path=str(SCREENSHOT), full_page=True)

        def plain(rows: list[list[str]]) -> list[list[str]]:
            return [[text.replace(",", "") for text in row] for row in rows]

        assert plain(first) == [
            _seen(r) for r in expected(cells, models=["first_touch"]).rows
        ]
        assert plain(linear) == [
            _seen(r) for r in expected(cells, models=["linear"]).rows
        ]
        assert first != linear
        assert errors == []

    async def test_dashboard_draws_bars_per_currency(
        self, served: str, page: Page
    ) -> None:
        await page.goto(f"{served}/?model=first_touch")
        await page.wait_for_selector(".chart svg")

        titles = await page.eval_on_selector_all(
            ".chart h2", "hs => hs.map(h => h.textContent)"
        )
        bars = await page.eval_on_selector_all(".chart .bar-spend", "bs => bs.length")
        assert titles == ["Revenue vs spend, USD", "Revenue vs spend, BRL"]
        assert bars == 6

    async def test_dashboard_shows_markup_labels_as_text(
        self, served: str, page: Page
    ) -> None:
        await page.goto(f"{served}/?by=source")
        await page.wait_for_selector("#roi tbody tr >> nth=6")

        cells_text = await page.eval_on_selector_all(
            "#roi tbody td:first-child", "tds => tds.map(td => td.textContent)"
        )
        assert f"{HOSTILE_SOURCE} / referral" in cells_text
        assert await page.evaluate("() => window.__xss") is None
        assert await page.locator("#roi img").count() == 0

    async def test_dashboard_refreshes_new_figures(
        self, served: str, page: Page, store: Store
    ) -> None:
        await page.goto(f"{served}/?model=first_touch")
        await page.wait_for_selector("#roi tbody tr >> nth=6")

        extra = Cell("spend", "source", "all", "linkedin / paid_social", "spend:USD")
        await store.write_cells({extra: 5000})
        await page.wait_for_function(
            "() => [...document.querySelectorAll('#roi tbody td')]"
            ".some(td => td.textContent === '300.00')",
            timeout=15_000,
        )
