"""``leadroi report``: the ROI tables in Redis as a table, CSV or JSON."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import click

from leadroi.reporting import FORMATS, RENDERERS, Query, load_report, markov_text
from leadroi.store import Store, names_from_env, redis_url_from_env
from schemas.errors import LeadroiError
from streams import roi
from streams.attribution import MARKOV_MODELS
from streams.config import Settings
from streams.ledger import DIMENSIONS


async def _load(query: Query) -> tuple[roi.Report, dict[str, Any] | None]:
    """The report, and the Markov generation behind it when it shows a Markov
    model."""
    store = Store.from_url(redis_url_from_env(), names_from_env())
    try:
        report = await load_report(store, query, Settings.from_env())
        if not set(report.models).intersection(MARKOV_MODELS):
            return report, None
        return report, await store.markov_model()
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
    empty in CSV and null in JSON. The table ends with the removal effects of
    the Markov generation it shows.
    """
    query = Query(dimension, window, as_of.date() if as_of else None, model)
    try:
        result, markov = asyncio.run(_load(query))
    except LeadroiError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(RENDERERS[output](result), nl=False)
    if output == "table" and markov is not None:
        click.echo(f"\n{markov_text(markov)}", nl=False)
