"""How long one ROI report takes to read from Redis and compute.

    python -m tests.benchmarks.bench_report --redis-url redis://127.0.0.1:6379/0

Lays down a year of day buckets for synthetic sources under a fresh prefix, times
reports for every window, then again after filling the database with
de-duplication records and dropping the scopes set (the SCAN fallback), and
removes everything it wrote. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import uuid
from datetime import date, timedelta

from leadroi.reporting import Query, load_report
from leadroi.store import Store
from schemas.names import Names
from streams import roi
from streams.config import Settings
from streams.ledger import ALL_TIME, Cell, dimension_values

MODELS = ("first_touch", "last_touch", "linear")
LAST_DAY = date(2026, 11, 30)


def synthetic_cells(days: int, sources: int, seed: int = 7) -> dict[Cell, int]:
    rng = random.Random(seed)
    cells: dict[Cell, int] = {}

    def put(scope: str, day: str, names: dict[str, str], metric: str, n: int) -> None:
        for dimension, value in names.items():
            for bucket in (day, ALL_TIME):
                cell = Cell(scope, dimension, bucket, value, metric)
                cells[cell] = cells.get(cell, 0) + n

    for offset in range(days):
        day = (LAST_DAY - timedelta(days=offset)).isoformat()
        for i in range(sources):
            names = dimension_values(
                f"src{i}", "cpc", f"camp{i % 7}", f"Channel {i % 5}"
            )
            put("spend", day, names, "spend:USD", rng.randrange(0, 50_000))
            put("touches", day, names, "touches", rng.randrange(0, 400))
            for model in MODELS:
                put(model, day, names, "leads", rng.randrange(0, 20) * 500_000)
                put(model, day, names, "won", rng.randrange(0, 3) * 250_000)
                put(model, day, names, "revenue:USD", rng.randrange(0, 900_000))
    return cells


async def timed_reports(store: Store, runs: int) -> dict[str, float]:
    settings = Settings()
    medians = {}
    for window in roi.WINDOW_DAYS:
        query = Query("source", window, LAST_DAY)
        times_s = []
        for _ in range(runs):
            started_s = time.perf_counter()
            await load_report(store, query, settings)
            times_s.append(time.perf_counter() - started_s)
        medians[window] = statistics.median(times_s)
    return medians


async def fill_records(store: Store, count: int) -> None:
    async with store.client.pipeline(transaction=False) as pipe:
        for i in range(count):
            pipe.set(store.names.record_key("touch", str(i)), "{}")
            if i % 10_000 == 9_999:
                await pipe.execute()
        await pipe.execute()


async def main(url: str, days: int, sources: int, records: int, runs: int) -> None:
    names = Names(prefix=f"bench{uuid.uuid4().hex[:8]}")
    store = Store.from_url(url, names)
    try:
        cells = synthetic_cells(days, sources)
        started_s = time.perf_counter()
        await store.write_cells(cells)
        write_s = time.perf_counter() - started_s
        rate = len(cells) / write_s
        print(f"wrote {len(cells):,} cells in {write_s:.2f} s ({rate:,.0f} cells/s)")

        for window, median_s in (await timed_reports(store, runs)).items():
            ms = median_s * 1000
            print(f"report by source, window {window:>3}: {ms:7.1f} ms (scopes set)")

        await fill_records(store, records)
        await store.client.delete(names.scopes_key)
        for window, median_s in (await timed_reports(store, runs)).items():
            print(
                f"report by source, window {window:>3}: {median_s * 1000:7.1f} ms"
                f" (SCAN, {records:,} record keys)"
            )
    finally:
        keys = [key async for key in store.client.scan_iter(f"{names.prefix}:*", 5000)]
        for start in range(0, len(keys), 5000):
            await store.client.delete(*keys[start : start + 5000])
        await store.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:16379/0")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--sources", type=int, default=40)
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    asyncio.run(main(args.redis_url, args.days, args.sources, args.records, args.runs))
