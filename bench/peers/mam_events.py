"""marketing-attribution-models end to end on an event CSV (run in the peers venv).

Reads the file, builds journeys split at each conversion, runs every model it
shares with leadroi (first, last, linear, position based, time decay, Markov) on
conversions and on value, and writes the per-channel results as JSON.

    python bench/peers/mam_events.py EVENTS_CSV OUT_JSON
"""

from __future__ import annotations

import json
import sys

import polars as pl
from mam.core import MAM

RUNS = {
    "first_touch": lambda m: m.run_first_click(),
    "last_touch": lambda m: m.run_last_click(),
    "linear": lambda m: m.run_linear(),
    "u_shaped": lambda m: m.run_position_based(),
    "time_decay": lambda m: m.run_time_decay(half_life_hours=168.0),
    "markov": lambda m: m.run_markov(),
}


def results(frame: pl.DataFrame, value_col: str | None) -> dict[str, dict[str, float]]:
    mam = MAM(
        frame,
        format_type="session",
        channels_colname="channel",
        journey_with_conv_colname="converted",
        datetime_colname="event_time",
        user_id_colname="user_id",
        create_journey_id_based_on_conversion=True,
        conversion_value_colname=value_col,
    )
    out: dict[str, dict[str, float]] = {}
    for name, run in RUNS.items():
        table = run(mam).to_polars()
        out[name] = {
            str(c): float(a)
            for c, a in zip(table["channels"], table["attribution"], strict=True)
        }
    return out


def main() -> None:
    source, target = sys.argv[1], sys.argv[2]
    frame = pl.read_csv(
        source, schema_overrides={"value": pl.Float64, "user_id": pl.String}
    )
    frame = frame.with_columns(pl.col("converted").cast(pl.Boolean))
    conversions = results(frame, None)
    revenue = results(frame, "value")
    with open(target, "w") as handle:
        json.dump({"conversions": conversions, "revenue": revenue}, handle, indent=1)


if __name__ == "__main__":
    main()
