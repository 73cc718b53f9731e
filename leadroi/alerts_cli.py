"""``leadroi alerts`` and ``leadroi watch``: the watch rules on the ROI tables."""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import datetime

import aiohttp
import click

from leadroi.alerting import (
    ALERT_DIMENSIONS,
    FORMATS,
    RENDERERS,
    AlertQuery,
    AlertReport,
    load_alerts,
)
from leadroi.store import Store, names_from_env, redis_url_from_env
from leadroi.watch import Watcher, WatchSettings
from schemas.errors import LeadroiError
from streams.alerts import Alert, AlertRules
from streams.config import Settings

logger = logging.getLogger(__name__)

AS_OF = click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    help="The day to judge. Default: yesterday in LEADROI_TIMEZONE.",
)


async def _load(query: AlertQuery) -> AlertReport:
    store = Store.from_url(redis_url_from_env(), names_from_env())
    try:
        return await load_alerts(
            store, query, AlertRules.from_env(os.environ), Settings.from_env()
        )
    finally:
        await store.aclose()


@click.command("alerts")
@click.option(
    "--by",
    "dimension",
    type=click.Choice(ALERT_DIMENSIONS),
    default="source",
    show_default=True,
)
@AS_OF
@click.option("--model", help="Whose leads count. Default: LEADROI_ALERT_MODEL.")
@click.option(
    "--format", "output", type=click.Choice(FORMATS), default="table", show_default=True
)
def alerts(
    dimension: str, as_of: datetime | None, model: str | None, output: str
) -> None:
    """CPL spikes, spend without leads and lead volume drops of one day.

    A CPL spike is the day's CPL above LEADROI_ALERT_CPL_FACTOR (2) times the
    CPL of the LEADROI_ALERT_TRAILING_DAYS (7) days before. A volume drop is the
    day's leads below LEADROI_ALERT_VOLUME_RATIO (0.2) times the average of the
    same weekday over the LEADROI_ALERT_VOLUME_WEEKS (4) weeks before, when that
    average is at least LEADROI_ALERT_VOLUME_MIN_DAILY_LEADS (3). Leads are
    those of LEADROI_ALERT_MODEL (last_non_direct).
    """
    query = AlertQuery(dimension, as_of.date() if as_of else None, model)
    try:
        report = asyncio.run(_load(query))
    except LeadroiError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(RENDERERS[output](report), nl=False)


async def _watch(
    settings: WatchSettings, once: bool, as_of: datetime | None
) -> list[Alert]:
    store = Store.from_url(redis_url_from_env(), names_from_env())
    rules = AlertRules.from_env(os.environ)
    day = as_of.date() if as_of else None
    try:
        async with aiohttp.ClientSession() as session:
            watcher = Watcher(store, rules, Settings.from_env(), settings, session)
            if once:
                return await watcher.round(day)
            logger.info(
                "watch: every %.0f s, webhook %s",
                settings.interval_s,
                "set" if settings.webhook_url else "not set",
            )
            await watcher.forever(day)
            return []
    finally:
        await store.aclose()


@click.command("watch")
@click.option("--once", is_flag=True, help="Judge once, send, and exit.")
@AS_OF
def watch(once: bool, as_of: datetime | None) -> None:
    """Judge the alert rules every LEADROI_ALERT_INTERVAL_S seconds (60) and
    POST each new alert once to LEADROI_ALERT_WEBHOOK.

    The rules and their LEADROI_ALERT_* settings are those of `leadroi alerts`.
    New alerts are also printed, one line each. Without a webhook they are
    only printed, still once.
    """
    try:
        settings = WatchSettings.from_env(os.environ)
        new = asyncio.run(_watch(settings, once, as_of))
    except LeadroiError as exc:
        raise click.ClickException(str(exc)) from exc
    for alert in new:
        click.echo(f"{alert.key}: {alert.reason}")
