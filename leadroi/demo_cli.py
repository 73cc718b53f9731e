"""``leadroi demo``: the real Olist funnel through the running services."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import replace
from decimal import Decimal
from itertools import chain
from pathlib import Path

import click
from tqdm import tqdm

from leadroi import facebook, olist
from leadroi.drain import wait_drained
from leadroi.replay import ReplayResult, post_events
from leadroi.reporting import Query, load_report, to_table
from leadroi.store import Store, names_from_env, redis_url_from_env
from streams import roi
from streams.config import Settings, kafka_bootstrap_from_env


async def _replay(tracker_url: str, data_dir: Path) -> ReplayResult:
    events = chain(olist.events(data_dir), facebook.events(data_dir))
    total = olist.event_count(data_dir) + facebook.event_count(data_dir)
    with tqdm(total=total, unit="ev", desc="replaying Olist + Facebook ads") as bar:
        return await post_events(tracker_url, events, on_batch=bar.update)


SHOWN_MODELS = ("last_non_direct", "first_touch", "linear")


async def _report(model: str, dimension: str = "source") -> roi.Report:
    store = Store.from_url(redis_url_from_env(), names_from_env())
    try:
        query = Query(dimension, "all", None, model)
        return await load_report(store, query, Settings.from_env())
    finally:
        await store.aclose()


def _won_by_origin(report: roi.Report) -> dict[str, int]:
    won: dict[str, int] = {}
    for row in report.rows:
        if row.model == "first_touch" and row.won != "0":
            origin = row.value.split(" / ")[0]
            won[origin] = won.get(origin, 0) + int(Decimal(row.won))
    return won


@click.command("demo")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("../shared/data"),
    show_default=True,
    help="Folder holding the Olist CSV files.",
)
@click.option(
    "--tracker",
    "tracker_url",
    default=f"http://127.0.0.1:{os.environ.get('LEADROI_TRACKER_PORT', '8080')}",
    show_default=True,
)
@click.option(
    "--api",
    "api_url",
    default=f"http://127.0.0.1:{os.environ.get('LEADROI_API_PORT', '8081')}",
    show_default=True,
)
def demo(data_dir: Path, tracker_url: str, api_url: str) -> None:
    """Replay real data through the tracker and print the ROI tables.

    Part 1 is the Olist marketing funnel (leads, won deals, revenue; no spend, so
    CPL, CAC and ROI show as n/a); part 2 the Facebook ad campaigns (spend and
    enquiries, so CPL). Expects the tracker, a worker and the API to be running
    (``make demo`` starts them).
    """
    started = time.monotonic()
    bootstrap = kafka_bootstrap_from_env()

    result = asyncio.run(_replay(tracker_url, data_dir))
    if result.rejected:
        raise click.ClickException(
            f"tracker rejected {len(result.rejected)} events: {result.rejected[:3]}"
        )
    click.echo(
        f"sent {result.accepted} events in {result.seconds:.1f} s "
        f"({result.events_per_s:.0f} events/s through the tracker)"
    )

    waited_s = asyncio.run(wait_drained(bootstrap, names_from_env()))
    click.echo(f"pipeline drained {waited_s:.1f} s after the last event was accepted")

    click.echo("\nPart 1, Olist funnel (BRL, no spend in the data):")
    for model in SHOWN_MODELS:
        report = asyncio.run(_report(model))
        rows = tuple(r for r in report.rows if not r.value.startswith(facebook.SOURCE))
        click.echo()
        click.echo(to_table(replace(report, rows=rows)), nl=False)

    click.echo(
        f"\nPart 2, Facebook ad campaigns (real spend and enquiries; the data has no"
        f" dates, currency or revenue: booked on {facebook.BOOKED_ON}"
        f" in {facebook.CURRENCY}, so ROI reads -100 %):\n"
    )
    report = asyncio.run(_report("last_non_direct", "campaign"))
    rows = tuple(r for r in report.rows if r.value.startswith(facebook.SOURCE))
    click.echo(to_table(replace(report, rows=rows)), nl=False)
    click.echo(
        "\nOther models: leadroi report --model M (time_decay, u_shaped, w_shaped, ...)"
    )

    expected = olist.won_by_origin(data_dir)
    # Only Olist's origins: other events sent to the same prefix don't count.
    found = {
        origin: won
        for origin, won in _won_by_origin(asyncio.run(_report("first_touch"))).items()
        if origin in expected
    }
    verdict = (
        "equal"
        if found == expected
        else f"DIFFERENT: pipeline {found} vs CSV {expected}"
    )
    click.echo(
        f"\nwon deals per origin (first touch) vs a direct count of the CSV: {verdict}"
    )
    early = expected.get("(unattributed)", 0)
    if early:
        click.echo(
            f"({early} deal(s) won before the lead's first contact: no touch to"
            " credit, so unattributed)"
        )
    click.echo(f"demo wall time {time.monotonic() - started:.1f} s")
    click.echo(
        f"JSON: {api_url}/api/roi?by=source   CSV: {api_url}/api/roi?format=csv   "
        f"dashboard: {api_url}/"
    )
