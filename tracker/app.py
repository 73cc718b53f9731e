"""The tracker's aiohttp application: routes, error handling, CORS, metrics."""

from __future__ import annotations

import logging
import time

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client.aiohttp import make_aiohttp_handler

from tracker import api, browser
from tracker.http import TRACKER, Refusal, Tracker, json_response
from tracker.intake import Intake
from tracker.metrics import Metrics
from tracker.settings import Settings
from tracker.sink import Sink

log = logging.getLogger(__name__)

JSON_PATHS = ("/v1/events", "/v1/events/{kind}", "/v1/batch", "/t/beacon")
JSON_HANDLERS = (api.post_event, api.post_event, api.post_batch, api.post_beacon)
# Room for the request line around the longest query the pixel accepts, so the
# pixel answers 414 itself instead of the parser answering 400.
REQUEST_LINE_MARGIN_BYTES = 8 * 1024
MAX_HEADER_BYTES = 16 * 1024


def route_of(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def add_cors(tracker: Tracker, request: web.Request, response: web.Response) -> None:
    origin = request.headers.get("Origin")
    if origin is None or route_of(request) not in JSON_PATHS:
        return
    allowed = api.allowed_origin(tracker, origin)
    if allowed is not None:
        response.headers["Access-Control-Allow-Origin"] = allowed
        response.headers["Vary"] = "Origin"


async def answer(request: web.Request, handler: Handler) -> web.Response:
    """The handler's response; refusals, aiohttp's own errors and bugs as JSON."""
    try:
        response = await handler(request)
    except Refusal as refusal:
        return refusal.response()
    except web.HTTPException as exc:
        headers = {k: v for k, v in exc.headers.items() if k == "Allow"}
        body = {"error": exc.reason.lower().replace(" ", "_"), "reason": exc.reason}
        return json_response(body, exc.status, headers)
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        body = {"error": "internal", "reason": "unexpected error; see server log"}
        return json_response(body, 500)
    assert isinstance(response, web.Response)
    return response


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    tracker = request.app[TRACKER]
    started = time.perf_counter()
    response = await answer(request, handler)

    route = route_of(request)
    if response.status in (413, 414):
        tracker.metrics.oversize.labels(route).inc()
    add_cors(tracker, request, response)
    tracker.metrics.latency.labels(route, request.method, response.status).observe(
        time.perf_counter() - started
    )
    return response


async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


def make_app(settings: Settings, sink: Sink) -> web.Application:
    """The tracker application; the caller starts and stops ``sink``."""
    metrics = Metrics()
    intake = Intake(
        settings.names, settings.hash_key, sink, metrics, settings.phone_region
    )
    tracker = Tracker(settings, intake, metrics)

    app = web.Application(
        middlewares=[observe],
        client_max_size=settings.max_batch_bytes,
        handler_args={
            "max_line_size": settings.max_query_bytes + REQUEST_LINE_MARGIN_BYTES,
            "max_field_size": MAX_HEADER_BYTES,
        },
    )
    app[TRACKER] = tracker

    app.router.add_get("/t/px", browser.pixel)
    app.router.add_get("/r/{slug}", browser.redirect)
    app.router.add_get("/t.js", browser.snippet)
    for path, handler in zip(JSON_PATHS, JSON_HANDLERS, strict=True):
        app.router.add_post(path, handler)
        app.router.add_route("OPTIONS", path, api.preflight)
    app.router.add_get("/metrics", make_aiohttp_handler(metrics.registry))
    app.router.add_get("/healthz", healthz)

    async def drain(app: web.Application) -> None:
        await tracker.drain(settings.delivery_timeout_s)

    app.on_cleanup.append(drain)
    return app
