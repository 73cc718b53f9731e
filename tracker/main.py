"""Run the tracker: create the topics, connect the producer, serve HTTP."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from streams.topics import ensure_topics
from tracker.app import make_app
from tracker.settings import Settings
from tracker.sink import KafkaSink

log = logging.getLogger(__name__)


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Serve until ``stop`` is set (or SIGINT / SIGTERM when none is given)."""
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)

    names = settings.names
    await ensure_topics(settings.kafka_bootstrap, names, settings.partitions)
    sink = KafkaSink(
        settings.kafka_bootstrap,
        linger_ms=settings.linger_ms,
        delivery_timeout_s=settings.delivery_timeout_s,
    )
    await sink.start()
    runner = web.AppRunner(make_app(settings, sink), access_log=None)
    try:
        await runner.setup()
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
        log.info(
            "tracker on http://%s:%d, topics %s.*, %d links",
            settings.host,
            settings.port,
            names.prefix,
            len(settings.links),
        )
        await stop.wait()
    finally:
        # The runner first, so background click sends finish before the
        # producer goes away.
        await runner.cleanup()
        await sink.stop()
        log.info("tracker stopped")


def run() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    asyncio.run(serve(Settings.from_env()))


if __name__ == "__main__":
    run()
