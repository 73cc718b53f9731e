"""``leadroi report``: the ROI tables in Redis as a table, CSV or JSON."""

from __future__ import annotations

import asyncio
from datetime import datetime

import click

from leadroi.reporting import FORMATS, RENDERERS, Query, load_report
from leadroi.store import Store, names_from_env, redis_url_from_env
from schemas.errors import LeadroiError
from streams import roi
from streams.config import Settings
from streams.ledger import DIMENSIONS


async def _load(query: Query) -> roi.Report:
    store = Store.from_url(redis_url_from_env(), names_from_env())
    try:
        return await load_report(store, query, Settings.from_env())
    finally:
        await store.aclose()


@click.command("report")
@click.option("--model", help="One attribution model. Default: every model.")
@click.option(
    "--by",
    "dimension",
    type=click.Choice(DIMENSIONS),
    default="source",
    show_default=True,
    help="Rows per channel, per 'source / medium' or per campaign.",
)
@click.option(
    "--format",
    "output",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
)
@click.option(
    "--window",
    type=click.Choice(list(roi.WINDOW_DAYS)),
    default="all",
    show_default=True,
    help="All time, or the last 7/30/90 days up to and including --as-of.",
)
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Last day of a rolling window. Default: today in LEADROI_TIMEZONE.",
)
def report(
    model: str | None,
    dimension: str,
    output: str,
    window: str,
    as_of: datetime | None,
) -> None:
    """Leads, won deals, revenue, spend, CPL, CAC, ROI % and ROAS per model.

    Reads the tables the stream workers keep in Redis (LEADROI_REDIS_URL,
    LEADROI_PREFIX). A ratio with nothing to divide by is "n/a" in the table,
    empty in CSV and null in JSON.
    """
    query = Query(dimension, window, as_of.date() if as_of else None, model)
    try:
        result = asyncio.run(_load(query))
    except LeadroiError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(RENDERERS[output](result), nl=False)
