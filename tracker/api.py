"""JSON endpoints: one event, a batch, and the browser beacon.

Answers: 202 with the event id for an accepted event (204 for the beacon);
400 ``invalid_event`` with one problem per failing field; 400
``malformed_json`` when the body is not JSON; 413 beyond the size limits;
503 with Retry-After when Kafka does not acknowledge. A batch answers item by
item: 200 when every item was accepted, 207 when some were, 400 when none.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from aiohttp import web

from schemas.errors import Problem
from schemas.validate import KINDS
from tracker.hits import MAX_USER_AGENT_CHARS
from tracker.http import (
    TRACKER,
    Refusal,
    Tracker,
    json_response,
    now_ms,
    refuse_long_urls,
    unavailable,
)
from tracker.intake import Item, Refused, Verdict
from tracker.settings import host_is_own
from tracker.sink import SinkUnavailable

log = logging.getLogger(__name__)

# Kinds a browser sends; the beacon fills their user agent from the request.
BROWSER_KINDS = ("touch", "identify")


async def read_body(request: web.Request, limit_bytes: int) -> bytes:
    """The body, refused with 413 as soon as it passes ``limit_bytes``."""
    too_large = Refusal(413, "too_large", f"body: more than {limit_bytes} bytes")
    if request.content_length is not None and request.content_length > limit_bytes:
        raise too_large
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > limit_bytes:
            raise too_large
    return bytes(body)


async def parse_body(
    tracker: Tracker, request: web.Request, limit_bytes: int, received_at_ms: int
) -> tuple[Any, str]:
    """The parsed JSON body and its text; a body that is not JSON is refused
    with 400 and kept on the dead-letter topic."""
    body = await read_body(request, limit_bytes)
    raw = body.decode("utf-8", "replace")
    try:
        return orjson.loads(body), raw
    except orjson.JSONDecodeError as exc:
        reason = str(exc)
        problems = [Problem("(body)", reason)]
        await tracker.intake.reject(
            Refused(
                request.path, raw, "unknown", "malformed_json", problems, received_at_ms
            )
        )
        raise Refusal(400, "malformed_json", reason) from exc


def check_urls(tracker: Tracker, event: Any) -> None:
    """413 for one event whose URL is too long to store whole; in a batch the
    schema refuses such an item on its own."""
    if isinstance(event, dict):
        limit = tracker.settings.max_url_chars
        refuse_long_urls(event, ("url", "referrer"), limit, 413)


def item_of(event: Any, raw: str, kind: str | None = None) -> Item:
    """An item whose type, when the endpoint names a kind, must be that kind."""
    if kind is None or not isinstance(event, dict):
        return Item(event, raw)
    event = {"type": kind, **event}
    if event["type"] == kind:
        return Item(event, raw)
    problem = Problem("type", f"{event['type']!r} is sent to the {kind!r} endpoint")
    return Item(event, raw, [problem])


async def take(
    tracker: Tracker, items: list[Item], request: web.Request, received_at_ms: int
) -> list[Verdict]:
    try:
        return await tracker.intake.take(items, request.path, received_at_ms)
    except SinkUnavailable as exc:
        tracker.metrics.sink_failures.labels("events").inc(len(items))
        log.warning("%d event(s) from %s not stored: %s", len(items), request.path, exc)
        raise unavailable() from exc


def single_answer(verdict: Verdict, accepted_status: int) -> web.Response:
    if not verdict.accepted:
        problems = [p.as_dict() for p in verdict.problems]
        return json_response({"error": "invalid_event", "problems": problems}, 400)
    if accepted_status == 204:
        return web.Response(status=204)
    body = {"status": "accepted", "event_id": verdict.event_id}
    return json_response(body, accepted_status)


def batch_answer(verdicts: list[Verdict], all_accepted_status: int) -> web.Response:
    results: list[dict[str, Any]] = []
    for index, verdict in enumerate(verdicts):
        if verdict.accepted:
            results.append(
                {"index": index, "status": "accepted", "event_id": verdict.event_id}
            )
        else:
            problems = [p.as_dict() for p in verdict.problems]
            results.append({"index": index, "status": "rejected", "problems": problems})

    accepted = sum(v.accepted for v in verdicts)
    if accepted == len(verdicts):
        status = all_accepted_status
    else:
        status = 207 if accepted else 400
    if status == 204:
        return web.Response(status=204)
    body = {"accepted": accepted, "rejected": len(verdicts) - accepted}
    return json_response({**body, "results": results}, status)


async def batch_items(
    tracker: Tracker, request: web.Request, body: Any, raw: str, received_at_ms: int
) -> list[Item]:
    """The items of ``{"events": [...]}``; any other shape is refused."""
    events = body.get("events") if isinstance(body, dict) else None
    limit = tracker.settings.max_batch_events
    if isinstance(events, list) and len(events) > limit:
        raise Refusal(413, "too_many_events", f"events: {len(events)}; at most {limit}")
    if isinstance(events, list) and events:
        return [item_of(e, orjson.dumps(e).decode()) for e in events]

    reason = 'expected {"events": [...]} with at least one event'
    problems = [Problem("events", reason)]
    await tracker.intake.reject(
        Refused(request.path, raw, "unknown", "invalid_batch", problems, received_at_ms)
    )
    raise Refusal(400, "invalid_batch", reason)


async def post_event(request: web.Request) -> web.Response:
    """POST /v1/events (kind from ``type``) and /v1/events/{kind}."""
    tracker = request.app[TRACKER]
    kind = request.match_info.get("kind")
    if kind is not None and kind not in KINDS:
        raise Refusal(404, "unknown_kind", f"kind: {kind[:40]!r}; one of {KINDS}")

    received_at_ms = now_ms()
    limit = tracker.settings.max_event_bytes
    event, raw = await parse_body(tracker, request, limit, received_at_ms)
    check_urls(tracker, event)
    verdicts = await take(tracker, [item_of(event, raw, kind)], request, received_at_ms)
    return single_answer(verdicts[0], 202)


async def post_batch(request: web.Request) -> web.Response:
    tracker = request.app[TRACKER]
    received_at_ms = now_ms()
    limit = tracker.settings.max_batch_bytes
    body, raw = await parse_body(tracker, request, limit, received_at_ms)
    items = await batch_items(tracker, request, body, raw, received_at_ms)
    return batch_answer(await take(tracker, items, request, received_at_ms), 200)


def with_user_agent(item: Item, user_agent: str) -> Item:
    event = item.event
    if not user_agent or not isinstance(event, dict) or "user_agent" in event:
        return item
    if event.get("type") not in BROWSER_KINDS:
        return item
    event = {**event, "user_agent": user_agent[:MAX_USER_AGENT_CHARS]}
    return Item(event, item.raw, item.problems)


async def post_beacon(request: web.Request) -> web.Response:
    """navigator.sendBeacon: JSON sent as text/plain, which needs no preflight.
    One event, or ``{"events": [...]}``; 204 when everything was accepted."""
    tracker = request.app[TRACKER]
    received_at_ms = now_ms()
    limit = tracker.settings.max_event_bytes
    body, raw = await parse_body(tracker, request, limit, received_at_ms)
    user_agent = request.headers.get("User-Agent", "")

    if isinstance(body, dict) and "events" in body:
        items = await batch_items(tracker, request, body, raw, received_at_ms)
        items = [with_user_agent(item, user_agent) for item in items]
        return batch_answer(await take(tracker, items, request, received_at_ms), 204)

    check_urls(tracker, body)
    item = with_user_agent(item_of(body, raw), user_agent)
    verdicts = await take(tracker, [item], request, received_at_ms)
    return single_answer(verdicts[0], 204)


def allowed_origin(tracker: Tracker, origin: str) -> str | None:
    """The Access-Control-Allow-Origin for ``origin``: any origin when no own
    domains are configured, else only origins on them."""
    own = tracker.settings.own_domains
    if not own:
        return "*"
    host = origin.split("://", 1)[-1].split(":", 1)[0]
    return origin if host_is_own(host, own) else None


async def preflight(request: web.Request) -> web.Response:
    headers = {
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": "86400",
    }
    return web.Response(status=204, headers=headers)
