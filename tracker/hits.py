"""Touch events built from browser hits: the pixel and redirect links."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schemas.errors import Problem
from streams.times import iso_of_ms

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
# The schema's limit; nothing is read from the end of a user agent, so cutting
# it keeps the hit instead of refusing it.
MAX_USER_AGENT_CHARS = 2048
# Beyond year 9999 datetime cannot represent the instant.
MAX_EPOCH_MS = 253_402_300_799_999


def _tags(params: Mapping[str, str]) -> dict[str, str]:
    return {name: params[name] for name in UTM_FIELDS if params.get(name)}


def occurred_at_of(ts: str) -> str | Problem:
    """ISO time of a client clock in epoch milliseconds, or what is wrong with it."""
    text = ts.strip()
    if not text.isdigit() or int(text) > MAX_EPOCH_MS:
        return Problem("ts", f"{ts[:40]!r} is not a time; expected epoch milliseconds")
    return iso_of_ms(int(text))


def pixel_event(
    params: Mapping[str, str], visitor_id: str, user_agent: str
) -> tuple[dict[str, Any], list[Problem]]:
    """A pageview touch from the pixel's parameters, and what is wrong with them
    beyond the event schema (the time parameter)."""
    event: dict[str, Any] = {
        "type": "touch",
        "touch_kind": "pageview",
        "visitor_id": visitor_id,
        **_tags(params),
    }
    for param, name in (("url", "url"), ("ref", "referrer"), ("eid", "event_id")):
        if params.get(param):
            event[name] = params[param]
    if user_agent:
        event["user_agent"] = user_agent[:MAX_USER_AGENT_CHARS]

    problems: list[Problem] = []
    if params.get("ts"):
        occurred_at = occurred_at_of(params["ts"])
        if isinstance(occurred_at, Problem):
            problems.append(occurred_at)
        else:
            event["occurred_at"] = occurred_at
    return event, problems


def click_event(
    landing_url: str,
    params: Mapping[str, str],
    visitor_id: str,
    referrer: str,
    user_agent: str,
) -> dict[str, Any]:
    """The click touch of a redirect link, tagged as the landing page will be."""
    event: dict[str, Any] = {
        "type": "touch",
        "touch_kind": "click",
        "visitor_id": visitor_id,
        "url": landing_url,
        **_tags(params),
    }
    if referrer:
        event["referrer"] = referrer
    if user_agent:
        event["user_agent"] = user_agent[:MAX_USER_AGENT_CHARS]
    return event
