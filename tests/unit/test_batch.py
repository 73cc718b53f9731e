"""The batch analyzer: the journey rule, the CLI's reading and output, and events
against the same journeys given as aggregated paths."""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from leadroi import analyze_cli
from leadroi.analyze_cli import analyze as analyze_command
from streams.attribution import DAY_MS, MODEL_NAMES, TIMED_MODELS, UNATTRIBUTED, UNIT
from streams.batch import (
    EventRow,
    Selection,
    analyze,
    event_journeys,
    finish,
    tally_part,
)

EVENT_OPTIONS = (
    "--user-col",
    "user",
    "--time-col",
    "time",
    "--channel-col",
    "channel",
    "--conversion-col",
    "converted",
    "--value-col",
    "value",
)


def _row(
    line: int,
    user: str,
    day: float,
    channel: str,
    converted: bool = False,
    value_minor: int = 0,
) -> EventRow:
    return EventRow(line, user, int(day * DAY_MS), channel, converted, value_minor)


def _random_rows(users: int, seed: int) -> list[EventRow]:
    """Journeys of several touches and conversions per user, some sharing a
    millisecond, in file order (by time, users interleaved)."""
    draw = random.Random(seed)
    rows = []
    for user in range(users):
        ms = draw.randrange(0, 30 * DAY_MS)
        for _ in range(draw.randrange(1, 9)):
            ms += draw.choice([0, 60_000, DAY_MS, 40 * DAY_MS])
            converted = draw.random() < 0.3
            value = draw.randrange(1, 10_000) if converted else 0
            channel = draw.choice(["seo", "ads", "mail", "Direct", "social"])
            rows.append((ms, f"u{user}", channel, converted, value))
    rows.sort(key=lambda r: r[0])
    return [EventRow(i + 2, *row[1:2], row[0], *row[2:]) for i, row in enumerate(rows)]


def _csv(rows: list[EventRow], time_of: Callable[[int], str] | None = None) -> str:
    def time_text(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")

    lines = ["user,time,channel,converted,value"]
    for r in rows:
        value = f"{r.value_minor / 100:.2f}" if r.converted else ""
        when = (time_of or time_text)(r.occurred_at_ms)
        lines.append(f"{r.user},{when},{r.channel},{int(r.converted)},{value}")
    return "\n".join(lines) + "\n"


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(analyze_command, list(args))


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


class TestJourneyRule:
    def test_second_conversion_starts_after_first(self) -> None:
        rows = [
            _row(2, "u", 0, "seo"),
            _row(3, "u", 1, "ads", True, 500),
            _row(4, "u", 2, "mail"),
            _row(5, "u", 3, "direct", True, 700),
            _row(6, "u", 4, "seo"),
        ]
        journeys = event_journeys(rows, lookback_days=0)
        assert [list(j.channels) for j in journeys] == [
            ["seo", "ads"],
            ["mail", "direct"],
            ["seo"],
        ]
        assert [
            j.conversion.value_minor if j.conversion else None for j in journeys
        ] == [
            500,
            700,
            None,
        ]

    def test_rows_out_of_order_sorted_by_time_then_line(self) -> None:
        rows = [
            _row(4, "u", 2, "last", True),
            _row(3, "u", 1, "b"),
            _row(2, "u", 1, "a"),
        ]
        [journey] = event_journeys(rows, lookback_days=0)
        assert list(journey.channels) == ["a", "b", "last"]

    def test_lookback_drops_old_touches_and_can_leave_none(self) -> None:
        rows = [
            _row(2, "u", 0, "old"),
            _row(3, "u", 100, "new", True),
            _row(4, "v", 0, "bing"),
            _row(5, "v", 0, "bing"),
        ]
        journeys = event_journeys(rows, lookback_days=30)
        assert [list(j.channels) for j in journeys] == [
            ["new"],
            ["bing", "bing"],
        ]

    def test_conversion_without_touch_in_window_unattributed(self) -> None:
        rows = [
            _row(2, "u", 0, "seo"),
            _row(3, "u", 0, "ads", True, 900),
            _row(4, "u", 0, "ads", True, 100),
        ]
        report = analyze(event_journeys(rows, 0), Selection(models=("linear",)))
        figures = {f.channel: (f.credit_units, f.value_minor) for f in report.figures}
        assert figures[UNATTRIBUTED] == (UNIT, 100)
        assert figures["seo"] == (UNIT // 2, 450)
        assert report.conversions == 2

    def test_markov_models_carry_order_and_add_up(self) -> None:
        rows = [
            _row(2, "u", 0, "a"),
            _row(3, "u", 1, "b", True, 100),
            _row(4, "v", 0, "b", True, 50),
            _row(5, "w", 0, "a"),
        ]
        report = analyze(
            event_journeys(rows, 0),
            Selection(models=("markov", "markov_global"), markov_orders=(1, 2)),
        )
        for key in (
            ("markov", 1),
            ("markov", 2),
            ("markov_global", 1),
            ("markov_global", 2),
        ):
            figures = [f for f in report.figures if (f.model, f.order) == key]
            assert sum(f.credit_units for f in figures) == 2 * UNIT
            assert sum(f.value_minor for f in figures) == 150


class TestParts:
    def test_users_shared_between_parts_give_the_one_report(self) -> None:
        rows = _random_rows(300, seed=7)
        selection = Selection(markov_orders=(1, 2), exact=True)
        whole = analyze(event_journeys(rows, 30), selection)

        parts = [
            tally_part(
                event_journeys([r for r in rows if int(r.user[1:]) % 3 == k], 30),
                selection,
            )
            for k in range(3)
        ]
        shared = finish(parts, selection)

        assert shared == whole
        assert whole.conversions > 100
        assert {f.model for f in whole.figures} == set(MODEL_NAMES)


class TestCommand:
    def test_events_processes_give_the_one_process_report(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        source = _write(tmp_path / "e.csv", _csv(_random_rows(200, seed=3)))
        monkeypatch.setattr(analyze_cli, "PARALLEL_FROM_BYTES", 0)
        options = (str(source), *EVENT_OPTIONS, "--format", "csv", "--exact")

        one = _invoke("events", *options, "--jobs", "1")
        three = _invoke("events", *options, "--jobs", "3")

        assert one.exit_code == 0, one.output
        assert three.stdout == one.stdout
        # Five channels and (unattributed), for each of the 12 models.
        assert len(one.stdout.splitlines()) == 1 + 12 * 6

    def test_events_processes_report_a_bad_value_once_in_order(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        rows = _random_rows(100, seed=11)
        lines = _csv(rows).splitlines()
        bad = next(i for i, line in enumerate(lines) if ",1," in line) + 1
        lines[bad - 1] = lines[bad - 1].rsplit(",", 1)[0] + ",half"
        source = _write(tmp_path / "e.csv", "\n".join(lines) + "\n")
        monkeypatch.setattr(analyze_cli, "PARALLEL_FROM_BYTES", 0)
        options = (str(source), *EVENT_OPTIONS, "--format", "csv")

        one = _invoke("events", *options, "--jobs", "1")
        two = _invoke("events", *options, "--jobs", "2")

        assert two.stdout == one.stdout
        assert (
            two.stderr
            == one.stderr
            == (f"line {bad}: value 'half' is not a decimal number\n")
        )

    def test_events_column_and_row_reading_agree(self, tmp_path: Path) -> None:
        rows = _random_rows(100, seed=5)
        clean = _write(tmp_path / "clean.csv", _csv(rows))
        # Unix seconds and a short row are read row by row.
        seconds = _write(
            tmp_path / "seconds.csv", _csv(rows, lambda ms: f"{ms / 1000:.3f}")
        )
        short = _write(tmp_path / "short.csv", _csv(rows) + "u1,2024-01-01\n")

        results = [
            _invoke("events", str(f), *EVENT_OPTIONS, "--format", "csv", "--exact")
            for f in (clean, seconds, short)
        ]

        assert results[0].stderr == ""
        assert results[1].stdout == results[0].stdout
        assert results[2].stdout == results[0].stdout
        line = len(rows) + 2
        assert (
            results[2].stderr == f"line {line}: 2 fields; expected 5 as in the header\n"
        )

    def test_events_bad_rows_reported_and_skipped(self, tmp_path: Path) -> None:
        source = _write(
            tmp_path / "e.csv",
            "user,time,channel,converted,value\n"
            "u1,2024-01-01T00:00:00Z,seo,0,\n"
            "u1,yesterday,ads,0,\n"
            "u1,2024-01-02T00:00:00Z,ads,maybe,\n"
            "u1,2024-01-03T00:00:00Z,,0,\n"
            "u1,2024-01-04T00:00:00Z,mail,1,12.5x\n"
            "u1,2024-01-05T00:00:00Z,mail,1\n"
            "u1,2024-01-06T00:00:00Z,mail,1,10.00\n",
        )
        result = _invoke("events", str(source), *EVENT_OPTIONS, "--format", "csv")
        assert result.exit_code == 0
        assert result.stderr.splitlines() == [
            "line 3: time 'yesterday' is neither ISO 8601 nor Unix seconds",
            "line 4: conversion 'maybe' is not a flag;"
            " expected 1/0, true/false or yes/no",
            "line 5: channel is empty",
            "line 6: value '12.5x' is not a decimal number",
            "line 7: 4 fields; expected 5 as in the header",
        ]
        rows = list(csv.DictReader(result.stdout.splitlines()))
        linear = {r["channel"]: r for r in rows if r["model"] == "linear"}
        assert linear["seo"]["conversions"] == "0.500000"
        assert linear["mail"]["revenue"] == "5.00"

    def test_events_json_has_order_only_for_markov(self, tmp_path: Path) -> None:
        source = _write(
            tmp_path / "e.csv",
            "user;time;channel;converted;value\n"
            "u;1700000000;seo;0;\nu;1700000100;ads;yes;3\n",
        )
        result = _invoke(
            "events",
            str(source),
            *EVENT_OPTIONS,
            "--format",
            "json",
            "--models",
            "first_touch,markov",
            "--markov-orders",
            "1,3",
        )
        rows: list[dict[str, Any]] = json.loads(result.stdout)
        assert rows[0] == {
            "model": "first_touch",
            "channel": "ads",
            "conversions": 0.0,
            "revenue": 0.0,
        }
        assert {(r["model"], r.get("order")) for r in rows} == {
            ("first_touch", None),
            ("markov", 1),
            ("markov", 3),
        }
        assert sum(r["revenue"] for r in rows if r["model"] == "markov") == 6.0

    def test_unknown_column_named_in_error(self, tmp_path: Path) -> None:
        source = _write(tmp_path / "e.csv", "u,t,c,x\n")
        result = _invoke("events", str(source), *EVENT_OPTIONS)
        assert result.exit_code == 2
        assert "column 'user' is not in the header; found u, t, c, x" in result.output

    def test_paths_skip_timed_models_with_note(self, tmp_path: Path) -> None:
        source = _write(
            tmp_path / "p.csv",
            "path,total_conversions,total_conversion_value,"
            "total_null\na > b,2,10.00,1\nb,x,0,0\n",
        )
        result = _invoke("paths", str(source), "--format", "csv")
        assert result.exit_code == 0
        assert "line 3: total_conversions 'x' is not a number" in result.stderr
        assert "time_decay, w_shaped, full_path skipped" in result.stderr
        models = {row["model"] for row in csv.DictReader(result.stdout.splitlines())}
        assert models == {
            "first_touch",
            "last_touch",
            "last_non_direct",
            "linear",
            "u_shaped",
            "j_shaped",
            "inverse_j",
            "markov",
            "markov_global",
        }

    def test_values_with_more_decimals_rounded_and_counted(
        self, tmp_path: Path
    ) -> None:
        source = _write(
            tmp_path / "p.csv",
            "path;total_conversions;total_conversion_value\na;1;0.125\na;1;0.135\n",
        )
        result = _invoke(
            "paths", str(source), "--models", "first_touch", "--format", "csv"
        )
        assert (
            "2 values had more than 2 decimals and were rounded half to even"
            in result.stderr
        )
        assert "first_touch,,a,2.000000,0.26" in result.stdout


def test_events_equal_same_journeys_as_paths(data_dir: Path, tmp_path: Path) -> None:
    """The first 300 rows of ChannelAttribution's paths, written out as one user per
    journey, give exactly the same model sums as the paths themselves."""
    paths_file = tmp_path / "paths.csv"
    events_file = tmp_path / "events.csv"
    with (data_dir / "channelattribution_paths.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))[:300]
    with paths_file.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["path", "total_conversions", "total_conversion_value", "total_null"]
        )
        for row in rows:
            cents = int(row["total_conversions"]) * 100  # one unit per conversion
            writer.writerow(
                [
                    row["path"],
                    row["total_conversions"],
                    f"{cents / 100:.2f}",
                    row["total_null"],
                ]
            )
    with events_file.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["user", "time", "channel", "converted", "value"])
        user = 0
        for row in rows:
            channels = [c.strip() for c in row["path"].split(">")]
            journeys = int(row["total_conversions"]) + int(row["total_null"])
            for i in range(journeys):
                user += 1
                converts = i < int(row["total_conversions"])
                for step, channel in enumerate(channels):
                    last = converts and step == len(channels) - 1
                    writer.writerow(
                        [
                            f"u{user}",
                            1_700_000_000 + step,
                            channel,
                            int(last),
                            "1.00" if last else "",
                        ]
                    )

    untimed = ",".join(m for m in MODEL_NAMES if m not in TIMED_MODELS)
    common = (
        "--models",
        untimed,
        "--markov-orders",
        "1,2,3",
        "--exact",
        "--format",
        "json",
    )
    from_paths = json.loads(_invoke("paths", str(paths_file), *common).stdout)
    from_events = json.loads(
        _invoke(
            "events", str(events_file), *EVENT_OPTIONS, "--lookback-days", "0", *common
        ).stdout
    )
    assert len(from_paths) == len(from_events) > 100
    for mine, theirs in zip(from_events, from_paths, strict=True):
        assert (mine["model"], mine.get("order"), mine["channel"]) == (
            theirs["model"],
            theirs.get("order"),
            theirs["channel"],
        )
        assert abs(mine["conversions"] - theirs["conversions"]) < 1e-9, mine
        assert abs(mine["revenue"] - theirs["revenue"]) < 1e-9, mine
