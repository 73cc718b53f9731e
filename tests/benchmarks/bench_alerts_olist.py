"""How many alerts the watch rules raise over every day of the demo data.

    python -m tests.benchmarks.bench_alerts_olist --data ../shared/data

Runs the Olist funnel and the Facebook ads (the events ``leadroi demo`` sends)
through ``streams.engine`` in-process, then judges each day from the first with
figures to the day after the last, as ``leadroi alerts --as-of`` would, by
source and by channel. Thresholds come from ``LEADROI_ALERT_*`` as for the CLI.
Prints, per rule, the alerts, those on weekends, and those on days after the
last lead (when the data stops, every source collapses at once). Asserts
nothing.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from collections.abc import Mapping
from datetime import date, timedelta
from itertools import chain
from pathlib import Path

from leadroi import facebook, olist
from leadroi.alerting import ALERT_DIMENSIONS
from streams import alerts
from streams.alerts import Alert, AlertRules
from streams.ledger import ALL_TIME, Cell
from tests.roi_cases import cells_of

SATURDAY = 5  # date.weekday()
FIRST_MONDAY = date(2001, 1, 1)


def judged_days(cells: Mapping[Cell, int]) -> list[date]:
    days = sorted(date.fromisoformat(c.day) for c in cells if c.day != ALL_TIME)
    count = (days[-1] - days[0]).days + 2
    return [days[0] + timedelta(days=n) for n in range(count)]


def last_lead_day(cells: Mapping[Cell, int], model: str) -> str:
    return max(
        c.day
        for c in cells
        if c.scope == model and c.metric == "leads" and c.day != ALL_TIME
    )


def summary(found: list[Alert], rule: str, last_lead: str) -> str:
    mine = [a for a in found if a.rule == rule]
    weekdays = Counter(date.fromisoformat(a.day).weekday() for a in mine)
    names = [(FIRST_MONDAY + timedelta(days=d)).strftime("%a") for d in range(7)]
    shown = " ".join(f"{names[d]} {weekdays[d]}" for d in range(7))

    def split(group: list[Alert]) -> str:
        weekend = [a for a in group if date.fromisoformat(a.day).weekday() >= SATURDAY]
        return f"{len(group):>4} ({len(weekend):>3} on weekends)"

    live = [a for a in mine if a.day <= last_lead]
    after = [a for a in mine if a.day > last_lead]
    return (
        f"{rule:<20} {split(mine)}: up to the last lead {split(live)},"
        f" after it {split(after)}; {shown}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    rules = AlertRules.from_env(os.environ)

    started = time.monotonic()
    events = chain(olist.events(args.data), facebook.events(args.data))
    cells = cells_of(events)
    days = judged_days(cells)
    last_lead = last_lead_day(cells, rules.model)
    print(
        f"{len(cells)} cells in {time.monotonic() - started:.1f} s; judging"
        f" {days[0]} to {days[-1]}, last lead on {last_lead}; rules {rules.as_dict()}"
    )

    for dimension in ALERT_DIMENSIONS:
        found = [
            a for day in days for a in alerts.evaluate(cells, dimension, day, rules)
        ]
        print(f"by {dimension}:")
        for rule in alerts.RULES:
            print(f"  {summary(found, rule, last_lead)}")


if __name__ == "__main__":
    main()
