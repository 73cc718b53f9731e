"""``leadroi worker`` and ``leadroi topics``: run and prepare the stream side."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from schemas.names import Names

# streams.app and streams.topics pull in faust and aiokafka (a third of a second);
# they are imported inside the commands so that other subcommands start fast.


@click.command()
@click.option("--loglevel", default="info", show_default=True)
def worker(loglevel: str) -> None:
    """Run a stream worker (faust) until interrupted."""
    from faust import Worker

    from streams.app import WorkerSettings, create_app
    from streams.topics import ensure_topics

    settings = WorkerSettings.from_env()
    Path(settings.datadir).mkdir(parents=True, exist_ok=True)
    asyncio.run(
        ensure_topics(
            settings.kafka_bootstrap, Names(settings.prefix), settings.partitions
        )
    )
    app = create_app(settings)
    Worker(app, loglevel=loglevel).execute_from_commandline()


@click.command()
def topics() -> None:
    """Create leadroi's Kafka topics (safe to run again)."""
    from streams.app import WorkerSettings
    from streams.topics import ensure_topics

    settings = WorkerSettings.from_env()
    created = asyncio.run(
        ensure_topics(
            settings.kafka_bootstrap, Names(settings.prefix), settings.partitions
        )
    )
    click.echo(
        f"created {len(created)} topics"
        + (f": {', '.join(created)}" if created else "")
    )
