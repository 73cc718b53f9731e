"""The watch loop: judge the alert rules every few seconds, send each new alert
once to a webhook.

"Once" is kept in Redis per alert key (rule, dimension, value, day), claimed
before the POST and given back when the POST fails, so the next round retries
it and several watchers never send the same alert twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import aiohttp

from leadroi.alerting import ALERT_DIMENSIONS, AlertQuery, load_alerts
from leadroi.store import Store, StoreUnavailable
from schemas.errors import LeadroiError
from streams.alerts import Alert, AlertRules
from streams.config import Settings

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 60.0
WEBHOOK_TIMEOUT_S = 10.0
# A day is judged while it is yesterday (its data may still grow then); the mark
# outlives that by far, so an alert goes out once.
SENT_MARK_TTL_S = 35 * 86_400


class BadWatchSetting(LeadroiError):
    """A watch setting that is not usable."""


class WebhookFailed(LeadroiError):
    """The webhook did not take an alert; the next round sends it again."""

    retryable = True


@dataclass(frozen=True)
class WatchSettings:
    webhook_url: str | None = None
    interval_s: float = DEFAULT_INTERVAL_S
    dimensions: tuple[str, ...] = ALERT_DIMENSIONS

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WatchSettings:
        url = env.get("LEADROI_ALERT_WEBHOOK", "").strip() or None
        if url is not None and not url.startswith(("http://", "https://")):
            raise BadWatchSetting(
                f"LEADROI_ALERT_WEBHOOK: {url[:80]!r} is not an http(s) URL"
            )
        text = env.get("LEADROI_ALERT_INTERVAL_S", str(DEFAULT_INTERVAL_S))
        try:
            interval_s = float(text)
        except ValueError:
            interval_s = 0.0
        if not interval_s > 0:
            raise BadWatchSetting(
                f"LEADROI_ALERT_INTERVAL_S: {text!r} is not a number of seconds"
                " above 0; expected e.g. '60'"
            )
        return cls(url, interval_s)


def webhook_body(alert: Alert) -> dict[str, Any]:
    """The alert, plus a one-line ``text`` that chat webhooks show as is."""
    text = f"leadroi {alert.dimension} {alert.value!r}: {alert.reason}"
    return {"text": text, "alert": alert.as_dict()}


async def post_alert(session: aiohttp.ClientSession, url: str, alert: Alert) -> None:
    timeout = aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT_S)
    try:
        async with session.post(url, json=webhook_body(alert), timeout=timeout) as resp:
            if resp.status >= 300:
                body = (await resp.text())[:200]
                raise WebhookFailed(
                    f"webhook: {resp.status} for alert {alert.key!r}: {body!r};"
                    " expected a 2xx answer"
                )
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise WebhookFailed(
            f"webhook: alert {alert.key!r} not delivered ({exc!r})"
        ) from exc


class Watcher:
    def __init__(
        self,
        store: Store,
        rules: AlertRules,
        settings: Settings,
        watch: WatchSettings,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.store = store
        self.rules = rules
        self.settings = settings
        self.watch = watch
        self.session = session

    async def round(self, as_of: date | None = None) -> list[Alert]:
        """Judge every dimension once; return the alerts new in this round."""
        new: list[Alert] = []
        for dimension in self.watch.dimensions:
            query = AlertQuery(dimension, as_of)
            report = await load_alerts(self.store, query, self.rules, self.settings)
            for alert in report.alerts:
                if await self._send_once(alert):
                    new.append(alert)
        return new

    async def _send_once(self, alert: Alert) -> bool:
        if not await self.store.claim_alert(alert.key, SENT_MARK_TTL_S):
            return False
        if self.watch.webhook_url is None or self.session is None:
            return True
        try:
            await post_alert(self.session, self.watch.webhook_url, alert)
        except WebhookFailed as exc:
            await self.store.release_alert(alert.key)
            logger.warning("%s; retrying in the next round", exc)
            return False
        return True

    async def forever(self, as_of: date | None = None) -> None:
        """Rounds every ``interval_s`` until cancelled; Redis trouble waits for
        the next round."""
        while True:
            try:
                for alert in await self.round(as_of):
                    logger.warning("alert %s: %s", alert.key, alert.reason)
            except StoreUnavailable as exc:
                logger.warning(
                    "watch: %s; next round in %.0f s", exc, self.watch.interval_s
                )
            await asyncio.sleep(self.watch.interval_s)
