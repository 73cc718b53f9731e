"""How long a Markov generation takes, and what the Markov part adds per event.

    python -m tests.benchmarks.bench_markov --data ../shared/data \
        --redis-url redis://127.0.0.1:16379/0

Every ChannelAttribution journey (19,785 won deals over 10,000 paths, 68,602
open journeys) becomes path counts and one input per won deal, each path's deals
a day apart through a year. A generation is timed in process for each order,
then end to end through Redis (read, compute, staged write, swap) under a fresh
prefix, which is removed afterwards. Olist's leads then time ``records`` against
``lead_markov``, the per-event work a worker adds. Prints figures; asserts
nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import statistics
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import redis.asyncio as aioredis

from leadroi import olist
from schemas.names import SEP, Names
from schemas.validate import check_event
from streams.config import Settings
from streams.engine import Engine
from streams.journey import records
from streams.lead_paths import MarkovInput, lead_markov, path_label
from streams.markov_credits import generation
from streams.markov_sink import MarkovSink, encode_inputs, refresh
from streams.normalize import normalise
from streams.roi import PATHS_SCOPE

FIRST_DAY = date(2026, 1, 1)


def path_inputs(data_dir: Path) -> tuple[dict[tuple[str, str], int], list[MarkovInput]]:
    fields: dict[tuple[str, str], int] = {}
    inputs: list[MarkovInput] = []
    with (data_dir / "channelattribution_paths.csv").open(newline="") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            channels = [c.strip() for c in row["path"].split(">")]
            label = path_label(_collapsed(channels))
            conversions, nulls = int(row["total_conversions"]), int(row["total_null"])
            value_minor = int(Decimal(row["total_conversion_value"]) * 1000)
            for metric, amount in (
                ("conversions", conversions),
                ("nulls", nulls),
                ("value:USD", value_minor),
            ):
                if amount:
                    key = (label, metric)
                    fields[key] = fields.get(key, 0) + amount
            touches = tuple((c, c, "cpc", "(not set)") for c in channels)
            for i in range(conversions):
                day = (FIRST_DAY + timedelta(days=i % 365)).isoformat()
                each = value_minor // conversions
                inputs.append(
                    MarkovInput(f"{label}#{i}", "won", day, each, "USD", touches)
                )
    return fields, inputs


def _collapsed(channels: list[str]) -> list[str]:
    return [c for i, c in enumerate(channels) if i == 0 or channels[i - 1] != c]


def time_generations(
    fields: dict[tuple[str, str], int], inputs: list[MarkovInput]
) -> None:
    for order in (1, 2, 3):
        started = time.perf_counter()
        found = generation(fields, inputs, order)
        took_s = time.perf_counter() - started
        print(
            f"generation in process, order {order}: {took_s * 1000:7.0f} ms"
            f" ({found.paths:,} paths, {len(inputs):,} won deals,"
            f" {len(found.cells):,} cells)"
        )


async def time_refresh(
    redis_url: str, fields: dict[tuple[str, str], int], inputs: list[MarkovInput]
) -> None:
    names = Names(prefix=f"bench{uuid.uuid4().hex[:8]}")
    client = aioredis.Redis.from_url(redis_url)
    sink = MarkovSink(client, names)
    try:
        paths = {f"{label}{SEP}{m}": n for (label, m), n in fields.items()}
        await client.hset(names.agg_key(PATHS_SCOPE, "path", "all"), mapping=paths)
        # One lead per won deal: the most inputs fields a generation reads.
        leads = {f"lead{i}": encode_inputs([item]) for i, item in enumerate(inputs)}
        await client.hset(names.markov_inputs_key, mapping=leads)  # type: ignore[arg-type]
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            await refresh(sink, 1)
            runs.append(time.perf_counter() - started)
        median_ms = statistics.median(runs) * 1000
        print(
            f"generation through Redis, order 1: {median_ms:7.0f} ms"
            " median of 3 (read, compute, staged write, swap)"
        )
    finally:
        keys = [key async for key in client.scan_iter(f"{names.prefix}:*", 5000)]
        for start in range(0, len(keys), 5000):
            await client.delete(*keys[start : start + 5000])
        await client.aclose()


def time_per_lead(data_dir: Path) -> None:
    settings = Settings(deal_lookback_days=0)
    wire = [normalise(check_event(e), 0, b"k") for e in olist.events(data_dir)]
    engine = Engine(settings).run(wire)
    leads = list(engine.leads.items())
    for name, step in (
        ("records", lambda lead, state: records(lead, state, settings)),
        ("lead_markov", lambda lead, state: lead_markov(lead, state, settings)),
    ):
        started = time.perf_counter()
        for lead, state in leads:
            step(lead, state)
        took_s = time.perf_counter() - started
        print(
            f"{name:>11} per Olist lead: {took_s / len(leads) * 1e6:6.1f} µs"
            f" ({len(leads):,} leads)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:16379/0")
    args = parser.parse_args()
    fields, inputs = path_inputs(args.data)
    time_generations(fields, inputs)
    asyncio.run(time_refresh(args.redis_url, fields, inputs))
    time_per_lead(args.data)
