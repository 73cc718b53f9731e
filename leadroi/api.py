"""The read API: ROI rows as JSON or CSV, the dashboard, health and metrics.

``GET /api/roi?model=&by=&window=&as_of=&format=json|csv`` answers the same rows
as ``leadroi report``; ``GET /api/markov`` the removal effects and time of the
live Markov generation; ``GET /`` is the dashboard that polls them.
``GET /api/alerts?by=&as_of=&model=`` answers the same alerts as ``leadroi
alerts``. Each scrape of ``/metrics`` judges yesterday's alerts first, so the
gauge of active alerts is as fresh as the scrape.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from pathlib import Path

import click
import orjson
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.aiohttp import make_aiohttp_handler

from leadroi.alerting import ALERT_DIMENSIONS, AlertQuery, load_alerts
from leadroi.reporting import ModelNotFound, Query, load_report, to_csv, to_json
from leadroi.store import (
    Store,
    StoreUnavailable,
    names_from_env,
    redis_url_from_env,
    shown_url,
)
from schemas.errors import LeadroiError, Problem
from schemas.names import Names
from streams import alerts, roi
from streams.alerts import AlertRules
from streams.config import Settings
from streams.ledger import DIMENSIONS

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8081
API_FORMATS = ("json", "csv")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MODEL_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
DASHBOARD_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self';"
    " img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


class BadQuery(LeadroiError):
    """Query parameters that the ROI endpoint cannot answer."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.reason}" for p in problems))


class ApiMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.rows_served = Counter(
            "leadroi_api_roi_rows_served",
            "ROI rows answered by /api/roi, JSON and CSV",
            registry=registry,
        )
        self.last_rows = Gauge(
            "leadroi_api_roi_rows_last",
            "Rows in the most recent /api/roi answer",
            registry=registry,
        )
        self.report_seconds = Histogram(
            "leadroi_api_report_seconds",
            "Time to read one report's hashes from Redis and compute its rows",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=registry,
        )
        self.redis_up = Gauge(
            "leadroi_api_redis_up",
            "1 when the most recent Redis call succeeded, 0 when it failed",
            registry=registry,
        )
        self.alerts_active = Gauge(
            "leadroi_alerts_active",
            "Alerts of the last full day, per rule and dimension, as of the scrape",
            ["rule", "dimension"],
            registry=registry,
        )


STORE = web.AppKey("store", Store)
SETTINGS = web.AppKey("settings", Settings)
ALERT_RULES = web.AppKey("alert_rules", AlertRules)
METRICS = web.AppKey("metrics", ApiMetrics)


def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(body),
        status=status,
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


CHOICES: dict[str, tuple[tuple[str, ...], str]] = {
    "by": (DIMENSIONS, "source"),
    "window": (tuple(roi.WINDOW_DAYS), "all"),
    "format": (API_FORMATS, "json"),
}


def _day(text: str) -> date | None:
    if not DAY.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _choice(
    request: web.Request,
    name: str,
    choices: tuple[str, ...],
    default: str,
    problems: list[Problem],
) -> str:
    found = request.query.get(name) or default
    if found not in choices:
        reason = f"{found[:40]!r} is not one of: {', '.join(choices)}"
        problems.append(Problem(name, reason))
    return found


def _model_and_day(
    request: web.Request, problems: list[Problem]
) -> tuple[str | None, date | None]:
    model = request.query.get("model") or None
    if model is not None and not MODEL_NAME.match(model):
        problems.append(Problem("model", f"{model[:40]!r} is not a model name"))

    as_of_text = request.query.get("as_of") or None
    as_of = _day(as_of_text) if as_of_text else None
    if as_of_text and as_of is None:
        reason = f"{as_of_text[:40]!r} is not a day; expected YYYY-MM-DD"
        problems.append(Problem("as_of", reason))
    return model, as_of


def query_of(request: web.Request) -> tuple[Query, str]:
    """The report asked for, and the answer's format; BadQuery names every bad
    parameter."""
    problems: list[Problem] = []
    found = {
        name: _choice(request, name, choices, default, problems)
        for name, (choices, default) in CHOICES.items()
    }
    model, as_of = _model_and_day(request, problems)
    if problems:
        raise BadQuery(problems)
    return Query(found["by"], found["window"], as_of, model), found["format"]


def alert_query_of(request: web.Request) -> AlertQuery:
    problems: list[Problem] = []
    by = _choice(request, "by", ALERT_DIMENSIONS, "source", problems)
    model, as_of = _model_and_day(request, problems)
    if problems:
        raise BadQuery(problems)
    return AlertQuery(by, as_of, model)


async def _guarded(
    request: web.Request, call: Callable[[Store], Awaitable[web.Response]]
) -> web.Response:
    """Run ``call`` on the store, answering 503 when Redis is away and 500 with
    the reason when the tables hold what no worker writes."""
    metrics = request.app[METRICS]
    try:
        response = await call(request.app[STORE])
    except StoreUnavailable as exc:
        metrics.redis_up.set(0)
        logger.warning("%s %s: %s", request.method, request.path, exc)
        return _json({"status": "unavailable", "reason": str(exc)}, status=503)
    except LeadroiError as exc:
        metrics.redis_up.set(1)
        logger.error("%s %s: %s", request.method, request.path, exc)
        return _json({"status": "error", "reason": str(exc)}, status=500)
    metrics.redis_up.set(1)
    return response


async def roi_handler(request: web.Request) -> web.Response:
    try:
        query, output = query_of(request)
    except BadQuery as exc:
        return _json({"errors": [p.as_dict() for p in exc.problems]}, status=400)
    metrics = request.app[METRICS]

    async def answer(store: Store) -> web.Response:
        started_s = time.perf_counter()
        try:
            report = await load_report(store, query, request.app[SETTINGS])
        except ModelNotFound as exc:
            problem = Problem("model", exc.reason)
            return _json({"errors": [problem.as_dict()]}, status=400)
        metrics.report_seconds.observe(time.perf_counter() - started_s)
        metrics.rows_served.inc(len(report.rows))
        metrics.last_rows.set(len(report.rows))

        if output == "csv":
            return web.Response(
                text=to_csv(report),
                content_type="text/csv",
                headers={
                    "Cache-Control": "no-store",
                    "Content-Disposition": 'inline; filename="leadroi-roi.csv"',
                },
            )
        return web.Response(
            body=to_json(report),
            content_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    return await _guarded(request, answer)


async def alerts_handler(request: web.Request) -> web.Response:
    try:
        query = alert_query_of(request)
    except BadQuery as exc:
        return _json({"errors": [p.as_dict() for p in exc.problems]}, status=400)

    async def answer(store: Store) -> web.Response:
        rules, settings = request.app[ALERT_RULES], request.app[SETTINGS]
        try:
            report = await load_alerts(store, query, rules, settings)
        except ModelNotFound as exc:
            problem = Problem("model", exc.reason)
            return _json({"errors": [problem.as_dict()]}, status=400)
        return _json(report.as_dict())

    return await _guarded(request, answer)


async def refresh_alert_gauges(app: web.Application) -> None:
    """Judge the last full day for every alert dimension and set the gauges;
    on trouble the gauges keep their last values and ``redis_up`` tells."""
    metrics = app[METRICS]
    try:
        for dimension in ALERT_DIMENSIONS:
            query = AlertQuery(dimension)
            report = await load_alerts(
                app[STORE], query, app[ALERT_RULES], app[SETTINGS]
            )
            for rule, count in alerts.counts(report.alerts).items():
                metrics.alerts_active.labels(rule, dimension).set(count)
    except StoreUnavailable as exc:
        metrics.redis_up.set(0)
        logger.warning("metrics: alerts not judged: %s", exc)
        return
    except LeadroiError as exc:
        logger.warning("metrics: alerts not judged: %s", exc)
    metrics.redis_up.set(1)


async def models_handler(request: web.Request) -> web.Response:
    async def answer(store: Store) -> web.Response:
        return _json({"models": await store.models()})

    return await _guarded(request, answer)


async def markov_handler(request: web.Request) -> web.Response:
    async def answer(store: Store) -> web.Response:
        return _json({"markov": await store.markov_model()})

    return await _guarded(request, answer)


async def health_handler(request: web.Request) -> web.Response:
    async def answer(store: Store) -> web.Response:
        await store.ping()
        return _json({"status": "ok"})

    return await _guarded(request, answer)


async def dashboard_handler(request: web.Request) -> web.FileResponse:
    return web.FileResponse(
        STATIC_DIR / "dashboard.html",
        headers={"Content-Security-Policy": DASHBOARD_CSP, "Cache-Control": "no-cache"},
    )


@web.middleware
async def nosniff(
    request: web.Request,
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def make_app(
    redis_url: str,
    names: Names,
    settings: Settings,
    registry: CollectorRegistry | None = None,
    alert_rules: AlertRules | None = None,
) -> web.Application:
    """The API application; Redis is opened on start-up and closed on clean-up."""
    registry = registry or CollectorRegistry()
    app = web.Application(middlewares=[nosniff])
    app[SETTINGS] = settings
    app[METRICS] = ApiMetrics(registry)
    app[ALERT_RULES] = alert_rules or AlertRules()
    exposition = make_aiohttp_handler(registry)

    async def metrics_handler(request: web.Request) -> web.StreamResponse:
        await refresh_alert_gauges(request.app)
        return await exposition(request)

    async def store_context(app: web.Application) -> AsyncIterator[None]:
        app[STORE] = Store.from_url(redis_url, names)
        yield
        await app[STORE].aclose()
        logger.info("api: stopped, Redis connection closed")

    app.cleanup_ctx.append(store_context)
    app.router.add_get("/api/roi", roi_handler)
    app.router.add_get("/api/alerts", alerts_handler)
    app.router.add_get("/api/models", models_handler)
    app.router.add_get("/api/markov", markov_handler)
    app.router.add_get("/healthz", health_handler)
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/", dashboard_handler)
    app.router.add_static("/static/", STATIC_DIR, follow_symlinks=False)
    return app


def _port_from_env() -> int:
    text = os.environ.get("LEADROI_API_PORT", str(DEFAULT_PORT))
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise click.ClickException(
            f"LEADROI_API_PORT: {text!r} is not a port; expected 1 to 65535"
        )
    return int(text)


@click.command("api")
def api() -> None:
    """Serve the ROI API and dashboard (LEADROI_API_HOST, LEADROI_API_PORT)."""
    host = os.environ.get("LEADROI_API_HOST", DEFAULT_HOST)
    port = _port_from_env()
    url = redis_url_from_env()
    try:
        rules = AlertRules.from_env(os.environ)
    except LeadroiError as exc:
        raise click.ClickException(str(exc)) from exc
    app = make_app(url, names_from_env(), Settings.from_env(), alert_rules=rules)
    logger.info("api: serving on http://%s:%d/ from %s", host, port, shown_url(url))
    web.run_app(app, host=host, port=port, print=None)
