"""``leadroi tracker``: run the public ingest service."""

from __future__ import annotations

import asyncio
import dataclasses

import click


@click.command()
@click.option("--host", help="Listen address [env LEADROI_TRACKER_HOST].")
@click.option("--port", type=int, help="Listen port [env LEADROI_TRACKER_PORT].")
def tracker(host: str | None, port: int | None) -> None:
    """Run the tracker (pixel, redirects, event endpoints) until interrupted."""
    # Imported here so other subcommands do not pay for aiohttp and aiokafka.
    from tracker.main import serve
    from tracker.settings import Settings

    settings = Settings.from_env()
    if host is not None:
        settings = dataclasses.replace(settings, host=host)
    if port is not None:
        settings = dataclasses.replace(settings, port=port)
    asyncio.run(serve(settings))
