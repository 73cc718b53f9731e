"""Expand ChannelAttribution's aggregated paths into timestamped per-user events.

Each path row becomes ``total_conversions`` converting users and ``total_null``
non-converting users, one event per touch. A converting user's last event is the
conversion; the row's value, rounded to cents, is spread over its conversions by
largest remainder, so totals match the paths file. Times are drawn from a seeded
generator, so the same arguments always give the same file.

    python bench/expand.py PATHS_CSV OUT_CSV [--events N] [--seed S]

``--events N`` replicates the stream (new user ids, times one year later) until it
holds at least N events.
"""

from __future__ import annotations

import argparse
import csv
import random
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

START = datetime(2024, 1, 1, tzinfo=UTC)
YEAR_S = 365 * 86_400
MAX_GAP_S = 3 * 86_400

User = tuple[str, list[tuple[int, str]], bool, int]  # id, touches, converted, cents


def _cents(text: str) -> int:
    return int(Decimal(text).scaleb(2).to_integral_value(rounding=ROUND_HALF_EVEN))


def _even_split(total: int, parts: int) -> list[int]:
    base, left = divmod(total, parts)
    return [base + (1 if i < left else 0) for i in range(parts)]


def journeys(paths_csv: Path, seed: int) -> list[User]:
    rng = random.Random(seed)
    out: list[User] = []
    with paths_csv.open(newline="") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            channels = [c.strip() for c in row["path"].split(">")]
            conversions, nulls = int(row["total_conversions"]), int(row["total_null"])
            values = (
                _even_split(_cents(row["total_conversion_value"]), conversions)
                if conversions
                else []
            )
            for i in range(conversions + nulls):
                at = rng.randrange(YEAR_S)
                touches = []
                for channel in channels:
                    touches.append((at, channel))
                    at += rng.randrange(60, MAX_GAP_S)
                converted = i < conversions
                out.append(
                    (
                        f"u{len(out):06d}",
                        touches,
                        converted,
                        values[i] if converted else 0,
                    )
                )
    return out


def replicate(users: list[User], target: int) -> list[User]:
    """Whole users copied (new ids, one year later per copy) up to ``target`` events."""
    out = list(users)
    total = sum(len(touches) for _, touches, _, _ in out)
    copy = 0
    while total < target:
        copy += 1
        for user, touches, converted, value in users:
            if total >= target:
                break
            shifted = [(at + copy * YEAR_S, channel) for at, channel in touches]
            out.append((f"{user}-{copy}", shifted, converted, value))
            total += len(touches)
    return out


def write(out_csv: Path, users: list[User]) -> int:
    events = []
    for user, touches, converted, value in users:
        for j, (at, channel) in enumerate(touches):
            last = converted and j == len(touches) - 1
            events.append((at, user, channel, last, value))
    events.sort(key=lambda e: (e[0], e[1]))
    with out_csv.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "event_time", "channel", "converted", "value"])
        for at, user, channel, last, value in events:
            when = (START + timedelta(seconds=at)).strftime("%Y-%m-%d %H:%M:%S")
            shown = f"{value // 100}.{value % 100:02d}" if last else ""
            writer.writerow([user, when, channel, 1 if last else 0, shown])
    return len(events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths_csv", type=Path)
    parser.add_argument("out_csv", type=Path)
    parser.add_argument("--events", type=int, default=0)
    parser.add_argument("--seed", type=int, default=20240101)
    args = parser.parse_args()
    users = replicate(journeys(args.paths_csv, args.seed), args.events)
    written = write(args.out_csv, users)
    print(f"{args.out_csv}: {written} events")


if __name__ == "__main__":
    main()
