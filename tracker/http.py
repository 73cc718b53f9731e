"""What every handler shares: the tracker's state, refusals and JSON answers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from schemas.errors import LeadroiError
from tracker.intake import Intake
from tracker.metrics import Metrics
from tracker.settings import Settings
from tracker.sink import SinkUnavailable

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=orjson.dumps(data),
        status=status,
        content_type="application/json",
        headers=headers,
    )


class Refusal(LeadroiError):
    """A request answered with a 4xx or 5xx and a short machine-readable reason."""

    def __init__(
        self,
        status: int,
        error: str,
        reason: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.error = error
        self.reason = reason
        self.headers = dict(headers or {})

    def response(self) -> web.Response:
        body = {"error": self.error, "reason": self.reason}
        return json_response(body, self.status, self.headers)


def refuse_long_urls(
    values: Mapping[str, Any], names: tuple[str, ...], limit: int, status: int
) -> None:
    """Refuse (414 for a query, 413 for a body) a URL longer than the tracker
    stores whole; a URL is never cut, since click ids sit at its end."""
    for name in names:
        value = values.get(name)
        if isinstance(value, str) and len(value) > limit:
            error = "uri_too_long" if status == 414 else "too_large"
            reason = f"{name}: {len(value)} characters; at most {limit}"
            raise Refusal(status, error, reason)


def unavailable() -> Refusal:
    """503: the client may resend, and event ids make resending safe."""
    return Refusal(
        503,
        "kafka_unavailable",
        "events not stored; retry later",
        {"Retry-After": str(RETRY_AFTER_S)},
    )


@dataclass
class Tracker:
    settings: Settings
    intake: Intake
    metrics: Metrics
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def spawn(self, what: str, work: Coroutine[Any, Any, Any]) -> None:
        """Run ``work`` after the response; failures are counted and logged."""
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(lambda done: self._finished(what, done))

    def _finished(self, what: str, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, SinkUnavailable):
            self.metrics.sink_failures.labels(what).inc()
            log.warning("%s not stored: %s", what, exc)
        elif exc is not None:
            log.error("background %s failed", what, exc_info=exc)

    async def drain(self, timeout_s: float) -> None:
        """Wait for background sends before the producer stops."""
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=timeout_s)


TRACKER = web.AppKey("tracker", Tracker)
