"""Endpoints that browsers hit directly: the pixel, redirect links, the snippet."""

from __future__ import annotations

import base64
import logging
import re
import uuid
from collections.abc import Mapping
from importlib import resources

from aiohttp import web

from tracker.hits import click_event, pixel_event
from tracker.http import TRACKER, Refusal, Tracker, now_ms, refuse_long_urls
from tracker.intake import Item
from tracker.query import append_query, params_of, split_query
from tracker.sink import SinkUnavailable

log = logging.getLogger(__name__)

GIF = base64.b64decode("R0lGODlhAQABAIABAAAAAP///yH5BAEAAAEALAAAAAABAAEAAAICTAEAOw==")
NO_STORE = {
    "Cache-Control": "no-store, no-cache, must-revalidate, max-age=0",
    "Pragma": "no-cache",
    "Expires": "0",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "cross-origin",
}
VISITOR_COOKIE = "lr_vid"
VISITOR_COOKIE_MAX_AGE_S = 365 * 24 * 3600
# Anything else in the cookie was not minted here; a fresh id beats an event
# that fails validation on every hit.
VISITOR_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def check_query(tracker: Tracker, raw_query: str, params: Mapping[str, str]) -> None:
    """414 for a query, or a URL inside it, longer than the tracker stores whole."""
    settings = tracker.settings
    if len(raw_query) > settings.max_query_bytes:
        reason = f"query: {len(raw_query)} bytes; at most {settings.max_query_bytes}"
        raise Refusal(414, "uri_too_long", reason)
    refuse_long_urls(params, ("url", "ref"), settings.max_url_chars, 414)


def cookie_visitor(request: web.Request) -> str:
    """The visitor id of the tracker's own cookie, or a new one."""
    cookie = request.cookies.get(VISITOR_COOKIE, "")
    return cookie if VISITOR_ID.fullmatch(cookie) else uuid.uuid4().hex


def set_visitor_cookie(
    request: web.Request, response: web.StreamResponse, visitor_id: str
) -> None:
    # Set by the server on each hit, so the year slides and Safari's seven-day
    # cap on script-written cookies does not apply.
    response.set_cookie(
        VISITOR_COOKIE,
        visitor_id,
        max_age=VISITOR_COOKIE_MAX_AGE_S,
        path="/",
        samesite="Lax",
        httponly=True,
        secure=request.secure or None,
    )


async def pixel(request: web.Request) -> web.Response:
    """Always the GIF, even for bad input, so no page ever shows a broken image."""
    tracker = request.app[TRACKER]
    received_at_ms = now_ms()
    raw_query = request.rel_url.raw_query_string
    params = params_of(split_query(raw_query))
    check_query(tracker, raw_query, params)

    from_cookie = not params.get("vid")
    visitor_id = cookie_visitor(request) if from_cookie else params["vid"]
    user_agent = request.headers.get("User-Agent", "")
    event, problems = pixel_event(params, visitor_id, user_agent)
    try:
        if request.method != "HEAD":
            await tracker.intake.take(
                [Item(event, raw_query, problems)], request.path, received_at_ms
            )
    except SinkUnavailable as exc:
        tracker.metrics.sink_failures.labels("pixel").inc()
        log.warning("pixel hit not stored: %s", exc)

    response = web.Response(body=GIF, content_type="image/gif", headers=NO_STORE)
    if from_cookie:
        set_visitor_cookie(request, response, visitor_id)
    return response


async def redirect(request: web.Request) -> web.Response:
    """302 to the link's stored target with the incoming query appended.

    The target comes only from the links file, never from the request, so the
    tracker cannot be used to send people to arbitrary sites.
    """
    tracker = request.app[TRACKER]
    received_at_ms = now_ms()
    slug = request.match_info["slug"]
    target = tracker.settings.links.get(slug)
    if target is None:
        raise Refusal(404, "unknown_link", f"slug: {slug[:100]!r} is not a link")

    raw_query = request.rel_url.raw_query_string
    params = params_of(split_query(raw_query))
    check_query(tracker, raw_query, params)
    location = append_query(target, raw_query)

    visitor_id = cookie_visitor(request)
    referrer = request.headers.get("Referer", "")
    user_agent = request.headers.get("User-Agent", "")
    event = click_event(location, params, visitor_id, referrer, user_agent)
    # Kafka's acknowledgement must not delay the visitor's landing page. HEAD
    # comes from link checkers and previews, not from people clicking.
    if request.method != "HEAD":
        work = tracker.intake.take(
            [Item(event, raw_query)], request.path, received_at_ms
        )
        tracker.spawn("click", work)

    response = web.Response(
        status=302, headers={"Location": location, "Cache-Control": "no-store"}
    )
    set_visitor_cookie(request, response, visitor_id)
    return response


SNIPPET = resources.files("tracker").joinpath("static/t.js").read_bytes()


async def snippet(request: web.Request) -> web.Response:
    return web.Response(
        body=SNIPPET,
        content_type="application/javascript",
        charset="utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )
