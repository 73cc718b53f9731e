"""Run the peer tools and freeze their outputs as JSON fixtures for the tests.

Run with the peers' own environment (see bench/peers/requirements.txt):

    bench/.peers-venv/bin/python bench/peers/freeze.py SHARED_DATA_DIR tests/data/peers

Writes one JSON file per (tool, input): per model, per channel, conversions and
value as the tool reports them. ChannelAttribution takes paths; the DP6 event
files are turned into paths here by splitting each user's events after every
conversion (the trailing events are a non-converting path), independently of
leadroi's code.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import polars as pl

CA_FILE = "channelattribution_paths.csv"
DP6_FILES = (
    "dp6_mam_test_dataset.csv",
    "dp6_mam_test_dataset_multiple_conversions.csv",
)
CA_MARKOV = {"nsim_start": 1e7, "conv_par": 0.005, "seed": 42}


def _channel_attribution():  # type: ignore[no-untyped-def]
    # Imported late: the module prints a banner on import.
    import ChannelAttribution

    return ChannelAttribution


def ca_heuristics(
    paths: pd.DataFrame, with_value: bool
) -> dict[str, dict[str, dict[str, float]]]:
    ca = _channel_attribution()
    table = ca.heuristic_models(
        paths,
        "path",
        "total_conversions",
        var_value="total_conversion_value" if with_value else None,
        flg_pro=False,
    )
    out: dict[str, dict[str, dict[str, float]]] = {}
    for ours, theirs in (
        ("first_touch", "first_touch"),
        ("last_touch", "last_touch"),
        ("linear", "linear_touch"),
    ):
        out[ours] = {
            row["channel_name"]: {
                "conversions": float(
                    row[f"{theirs}_conversions"] if with_value else row[theirs]
                ),
                "value": float(row[f"{theirs}_value"]) if with_value else 0.0,
            }
            for _, row in table.iterrows()
        }
    return out


def ca_markov(paths: pd.DataFrame, order: int) -> dict[str, object]:
    ca = _channel_attribution()
    result = ca.markov_model(
        paths,
        "path",
        "total_conversions",
        var_value="total_conversion_value",
        var_null="total_null",
        order=order,
        out_more=True,
        verbose=False,
        flg_pro=False,
        **CA_MARKOV,
    )
    return {
        "params": CA_MARKOV,
        "order": order,
        "channels": {
            row["channel_name"]: {
                "conversions": float(row["total_conversions"]),
                "value": float(row["total_conversion_value"]),
            }
            for _, row in result["result"].iterrows()
        },
        "removal_effects": {
            row["channel_name"]: float(row["removal_effects_conversion"])
            for _, row in result["removal_effects"].iterrows()
        },
    }


def mam_paths(paths: pd.DataFrame) -> dict[str, object]:
    from mam.core import MAM

    frame = pl.from_pandas(paths)
    converting = frame.filter(pl.col("total_conversions") > 0).with_columns(
        pl.lit(True).alias("converted")
    )
    nulls = frame.filter(pl.col("total_null") > 0).select(
        "path",
        pl.lit(0).alias("total_conversions"),
        pl.lit(0.0).alias("total_conversion_value"),
        pl.col("total_null"),
        pl.lit(False).alias("converted"),
    )
    out: dict[str, object] = {}
    for field, value_col in (
        ("conversions", None),
        ("value", "total_conversion_value"),
    ):
        mam = MAM(
            converting,
            format_type="grouped_journey",
            channels_colname="path",
            journey_with_conv_colname="converted",
            occurrences_colname="total_conversions",
            conversion_value_colname=value_col,
        )
        for name, run in (
            ("first_touch", mam.run_first_click),
            ("last_touch", mam.run_last_click),
            ("linear", mam.run_linear),
        ):
            table = run().to_polars()
            models = out.setdefault(name, {})
            assert isinstance(models, dict)
            for channel, amount in zip(
                table["channels"], table["attribution"], strict=True
            ):
                models.setdefault(str(channel), {})[field] = float(amount)

    both = pl.concat(
        [
            converting.rename({"total_conversions": "journeys"}).select(
                "path", "journeys", "converted"
            ),
            nulls.rename({"total_null": "journeys"}).select(
                "path", "journeys", "converted"
            ),
        ]
    )
    markov = MAM(
        both,
        format_type="grouped_journey",
        channels_colname="path",
        journey_with_conv_colname="converted",
        occurrences_colname="journeys",
    ).run_markov()
    effects = markov.metadata["removal_effect"]
    out["markov_removal_effects"] = {
        str(channel): float(row)
        for channel, row in zip(effects.index, effects["removal_effect"], strict=True)
    }
    return out


def dp6_paths(events: pd.DataFrame) -> pd.DataFrame:
    events = events.sort_values(["user_pseudo_id", "event_time", "session_id"])
    rows: dict[str, list[int]] = {}
    for _, user_events in events.groupby("user_pseudo_id", sort=True):
        path: list[str] = []
        for _, event in user_events.iterrows():
            path.append(str(event["source_medium"]))
            if int(event["is_conversion_purchase"]) == 1:
                rows.setdefault(" > ".join(path), [0, 0])[0] += 1
                path = []
        if path:
            rows.setdefault(" > ".join(path), [0, 0])[1] += 1
    return pd.DataFrame(
        [(p, c, 0.0, n) for p, (c, n) in rows.items()],
        columns=["path", "total_conversions", "total_conversion_value", "total_null"],
    )


def mam_events(events: pd.DataFrame) -> dict[str, dict[str, dict[str, float]]]:
    from mam.core import MAM

    frame = pl.from_pandas(events).with_columns(
        pl.col("is_conversion_purchase").cast(pl.Boolean)
    )
    mam = MAM(
        frame,
        format_type="session",
        channels_colname="source_medium",
        journey_with_conv_colname="is_conversion_purchase",
        datetime_colname="event_time",
        user_id_colname="user_pseudo_id",
        create_journey_id_based_on_conversion=True,
    )
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name, run in (
        ("first_touch", mam.run_first_click),
        ("last_touch", mam.run_last_click),
        ("linear", mam.run_linear),
    ):
        table = run().to_polars()
        out[name] = {
            str(c): {"conversions": float(a), "value": 0.0}
            for c, a in zip(table["channels"], table["attribution"], strict=True)
        }
    return out


def main() -> None:
    data, target = Path(sys.argv[1]), Path(sys.argv[2])
    target.mkdir(parents=True, exist_ok=True)
    versions = {
        "channelattribution": version("channelattribution"),
        "marketing-attribution-models": version("marketing-attribution-models"),
    }

    def dump(name: str, payload: object, tool: str, source: str) -> None:
        document = {
            "tool": tool,
            "version": versions[tool],
            "input": source,
            "result": payload,
        }
        (target / name).write_text(
            json.dumps(document, indent=1, sort_keys=True) + "\n"
        )
        print(f"wrote {target / name}")

    paths = pd.read_csv(data / CA_FILE, sep=";")
    dump(
        "ca_heuristics_channelattribution_paths.json",
        ca_heuristics(paths, True),
        "channelattribution",
        CA_FILE,
    )
    dump(
        "ca_markov_order1_channelattribution_paths.json",
        ca_markov(paths, 1),
        "channelattribution",
        CA_FILE,
    )
    dump(
        "mam_channelattribution_paths.json",
        mam_paths(paths),
        "marketing-attribution-models",
        CA_FILE,
    )
    for name in DP6_FILES:
        events = pd.read_csv(data / name)
        stem = name.removesuffix(".csv")
        dump(
            f"ca_heuristics_{stem}.json",
            ca_heuristics(dp6_paths(events), False),
            "channelattribution",
            name,
        )
        dump(
            f"mam_{stem}.json", mam_events(events), "marketing-attribution-models", name
        )


if __name__ == "__main__":
    main()
