"""``leadroi analyze``: every attribution model over an export, no services needed.

The files are read here; the journeys and models are ``streams.batch``, the same
code the stream runs. A row that cannot be read is reported on stderr as
``line N: <what is wrong>`` and skipped.
"""

from __future__ import annotations

import csv
import gc
import json
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from itertools import compress, repeat
from operator import eq, floordiv, itemgetter, mod, sub
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from schemas.errors import LeadroiError
from streams import batch
from streams.attribution import MODEL_NAMES, ModelParams
from streams.batch import EventRow, PathRow, Report, Selection
from streams.markov import MAX_ORDER
from streams.money import minor_exponent

if TYPE_CHECKING:
    from _csv import Reader as CsvReader

DELIMITERS = (",", ";", "\t", "|")
FORMATS = ("table", "csv", "json")
TRUE_FLAGS = frozenset({"1", "true", "yes", "y", "t"})
FALSE_FLAGS = frozenset({"0", "false", "no", "n", "f", ""})
# The flags as they are usually written, for reading a whole column at once.
PLAIN_FLAGS = {
    spelling: flag
    for flags, flag in ((TRUE_FLAGS, True), (FALSE_FLAGS, False))
    for word in flags
    for spelling in (word, word.upper(), word.title())
}

Row = TypeVar("Row")
T = TypeVar("T")


class BadRow(LeadroiError):
    """A row of an export that cannot be read; its line is skipped."""


@dataclass
class Money:
    """Values as integer minor units; a value with more decimals is rounded half to
    even, and the rounded ones are counted so the report can say so."""

    currency: str
    decimals: int
    rounded: int = 0

    def to_minor(self, text: str) -> int:
        if not text.strip():
            return 0
        try:
            value = Decimal(text.strip())
        except InvalidOperation as exc:
            raise BadRow(f"value {text!r} is not a decimal number") from exc
        if not value.is_finite() or value < 0:
            raise BadRow(f"value {text!r} is not a number of zero or more")
        scaled = value.scaleb(self.decimals)
        whole = scaled.to_integral_value(rounding=ROUND_HALF_EVEN)
        if whole != scaled:
            self.rounded += 1
        return int(whole)

    def show(self, amount_minor: int) -> str:
        return _fixed(amount_minor, self.decimals)


def _fixed(amount: int, decimals: int) -> str:
    sign = "-" if amount < 0 else ""
    whole, part = divmod(abs(amount), 10**decimals)
    return f"{sign}{whole}.{part:0{decimals}d}" if decimals else f"{sign}{whole}"


def detect_delimiter(header: str) -> str:
    """The candidate delimiter found most often in the header line."""
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


@contextmanager
def _opened(path: Path) -> Iterator[tuple[list[str], CsvReader]]:
    """The export's header fields and a reader of its data rows, the delimiter
    found in the header line."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header_line = handle.readline()
        delimiter = detect_delimiter(header_line)
        header = next(csv.reader([header_line], delimiter=delimiter), [])
        yield header, csv.reader(handle, delimiter=delimiter)


def _read(path: Path, parse: Callable[[int, list[str]], Row]) -> Iterator[Row]:
    with _opened(path) as (header, reader):
        for row in reader:
            line = reader.line_num + 1
            if not row:
                continue
            if len(row) != len(header):
                _bad(
                    line, f"{len(row)} fields; expected {len(header)} as in the header"
                )
                continue
            try:
                yield parse(line, row)
            except BadRow as exc:
                _bad(line, str(exc))


def _clean_rows(path: Path) -> list[list[str]] | None:
    """Every data row, when each is one line with the header's fields (row ``i``
    is then on line ``i + 2``); None when some row is not, to read row by row."""
    with _opened(path) as (header, reader):
        rows = list(reader)
    if reader.line_num != len(rows) or set(map(len, rows)) - {len(header)}:
        return None
    return rows


def _bad(line: int, reason: str) -> None:
    click.echo(f"line {line}: {reason}", err=True)


def _header(path: Path) -> list[str]:
    with _opened(path) as (header, _):
        return [name.strip() for name in header]


def _columns(names: list[str], wanted: dict[str, str | None]) -> dict[str, int]:
    """Check the named columns exist before reading rows; option -> index."""
    found: dict[str, int] = {}
    for option, column in wanted.items():
        if column is None:
            continue
        if column not in names:
            raise click.BadParameter(
                f"column {column!r} is not in the header; found {', '.join(names)}",
                param_hint=option,
            )
        found[option] = names.index(column)
    return found


EPOCH = datetime(1970, 1, 1)
EPOCH_UTC = EPOCH.replace(tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)


def parse_time_ms(text: str) -> int:
    """ISO 8601 (no zone means UTC) or Unix seconds, as epoch milliseconds."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            return int(Decimal(text.strip()) * 1000)
        except InvalidOperation as exc:
            raise BadRow(f"time {text!r} is neither ISO 8601 nor Unix seconds") from exc
    return (moment - (EPOCH if moment.tzinfo is None else EPOCH_UTC)) // MILLISECOND


def _times_ms(texts: Sequence[str]) -> list[int] | None:
    """``parse_time_ms`` of a whole column at once, when every value is ISO 8601
    and all of them have a zone or none has; else None."""
    try:
        moments = list(map(datetime.fromisoformat, texts))
    except ValueError:
        return None
    for epoch in (EPOCH, EPOCH_UTC):
        try:
            return list(
                map(floordiv, map(sub, moments, repeat(epoch)), repeat(MILLISECOND))
            )
        except TypeError:
            continue
    return None


def _flag(text: str) -> bool:
    if text == "0":
        return False
    if text == "1":
        return True
    folded = text.strip().casefold()
    if folded in TRUE_FLAGS:
        return True
    if folded in FALSE_FLAGS:
        return False
    raise BadRow(
        f"conversion {text!r} is not a flag; expected 1/0, true/false or yes/no"
    )


def _count(text: str, what: str) -> int:
    try:
        number = Decimal(text.strip() or "0")
    except InvalidOperation as exc:
        raise BadRow(f"{what} {text!r} is not a number") from exc
    if not number.is_finite() or number != number.to_integral_value() or number < 0:
        raise BadRow(f"{what} {text!r} is not a whole number of zero or more")
    return int(number)


def _selection(
    models: str | None, markov_orders: str, half_life_days: float, exact: bool
) -> Selection:
    chosen = tuple(m.strip() for m in models.split(",")) if models else MODEL_NAMES
    unknown = [m for m in chosen if m not in MODEL_NAMES]
    if unknown:
        raise click.BadParameter(
            f"{', '.join(unknown)} not known;"
            f" expected some of {', '.join(MODEL_NAMES)}",
            param_hint="--models",
        )
    try:
        orders = tuple(sorted({int(o) for o in markov_orders.split(",")}))
    except ValueError as exc:
        raise click.BadParameter(
            f"{markov_orders!r} is not a list of orders like 1,2,3",
            param_hint="--markov-orders",
        ) from exc
    if not orders or not all(1 <= o <= MAX_ORDER for o in orders):
        raise click.BadParameter(
            f"{markov_orders!r}: orders go from 1 to {MAX_ORDER}",
            param_hint="--markov-orders",
        )
    try:
        params = ModelParams(time_decay_half_life_days=half_life_days)
    except LeadroiError as exc:
        raise click.BadParameter(str(exc), param_hint="--half-life-days") from exc
    return Selection(chosen, orders, params, exact)


def _money(currency: str, value_decimals: int | None) -> Money:
    try:
        decimals = minor_exponent(currency)
    except LeadroiError as exc:
        raise click.BadParameter(str(exc), param_hint="--currency") from exc
    return Money(
        currency.upper(), decimals if value_decimals is None else value_decimals
    )


def _rows_out(report: Report, money: Money, exact: bool) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for figure in report.figures:
        row: dict[str, object] = {"model": figure.model}
        if figure.order is not None:
            row["order"] = figure.order
        row["channel"] = figure.channel
        if exact:
            assert figure.exact_conversions is not None
            assert figure.exact_value_minor is not None
            row["conversions"] = float(figure.exact_conversions)
            row["revenue"] = float(figure.exact_value_minor / 10**money.decimals)
        else:
            row["conversions"] = _fixed(figure.credit_units, 6)
            row["revenue"] = money.show(figure.value_minor)
        out.append(row)
    return out


def _without_gc(run: Callable[[], Report]) -> Report:
    """Run a batch analysis with the cyclic garbage collector off.

    A run builds millions of small objects, none in a reference cycle; left on, the
    collector rescans the growing heap again and again and doubles the run time.
    """
    gc.disable()
    try:
        return run()
    finally:
        gc.enable()


def _write(report: Report, money: Money, output_format: str, exact: bool) -> None:
    rows = _rows_out(report, money, exact)
    if money.rounded:
        click.echo(
            f"note: {money.rounded} values had more than {money.decimals} decimals"
            f" and were rounded half to even (see --value-decimals)",
            err=True,
        )
    for note in report.notes:
        click.echo(f"note: {note}", err=True)

    if output_format == "json":
        for row in rows:
            for field in ("conversions", "revenue"):
                row[field] = float(str(row[field]))
        click.echo(json.dumps(rows, indent=1))
        return

    header = ["model", "order", "channel", "conversions", f"revenue ({money.currency})"]
    table = [
        [
            str(row["model"]),
            str(row.get("order", "")),
            str(row["channel"]),
            str(row["conversions"]),
            str(row["revenue"]),
        ]
        for row in rows
    ]
    if output_format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["model", "order", "channel", "conversions", "revenue"])
        writer.writerows(table)
        return

    widths = [max(len(r[i]) for r in [header, *table]) for i in range(len(header))]
    for r in [header, *table]:
        cells = [
            c.ljust(w) if i < 3 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        click.echo("  ".join(cells).rstrip())
    click.echo(
        f"{report.conversions} conversions, revenue {money.show(report.value_minor)}"
        f" {money.currency}"
    )


def _common(command: Callable[..., None]) -> Callable[..., None]:
    options = [
        click.option(
            "--format",
            "output_format",
            type=click.Choice(FORMATS),
            default="table",
            show_default=True,
        ),
        click.option(
            "--models",
            default=None,
            help=f"Comma-separated; default all: {', '.join(MODEL_NAMES)}.",
        ),
        click.option(
            "--markov-orders",
            default="1",
            show_default=True,
            help="Comma-separated Markov orders, 1 to 3.",
        ),
        click.option(
            "--currency",
            default="USD",
            show_default=True,
            help="ISO 4217 code of the values; sets their decimals.",
        ),
        click.option(
            "--value-decimals",
            type=click.IntRange(0, 18),
            default=None,
            help="Decimals of the values, overriding the currency's.",
        ),
        click.option(
            "--exact",
            is_flag=True,
            help="Print unrounded model sums instead of the per-conversion"
            " fixed-point credits the stream stores.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group()
def analyze() -> None:
    """Compare every attribution model on an export, without any service."""


@analyze.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user-col", required=True, help="Column naming the user or lead.")
@click.option("--time-col", required=True, help="ISO 8601 time or Unix seconds.")
@click.option("--channel-col", required=True)
@click.option("--conversion-col", required=True, help="1/0, true/false or yes/no.")
@click.option("--value-col", default=None, help="Value of a converting event.")
@click.option(
    "--lookback-days",
    type=click.IntRange(min=0),
    default=365,
    show_default=True,
    help="0 means unlimited.",
)
@click.option(
    "--half-life-days",
    type=float,
    default=7.0,
    show_default=True,
    help="Time decay half-life.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Processes that share the users out; default: one per CPU.",
)
@_common
def events(
    file: Path,
    user_col: str,
    time_col: str,
    channel_col: str,
    conversion_col: str,
    value_col: str | None,
    lookback_days: int,
    half_life_days: float,
    jobs: int | None,
    output_format: str,
    models: str | None,
    markov_orders: str,
    currency: str,
    value_decimals: int | None,
    exact: bool,
) -> None:
    """Attribute a raw event CSV: one touch per row, conversions flagged."""
    selection = _selection(models, markov_orders, half_life_days, exact)
    money = _money(currency, value_decimals)
    at = _columns(
        _header(file),
        {
            "--user-col": user_col,
            "--time-col": time_col,
            "--channel-col": channel_col,
            "--conversion-col": conversion_col,
            "--value-col": value_col,
        },
    )
    reader = EventReader(
        at["--user-col"],
        at["--time-col"],
        at["--channel-col"],
        at["--conversion-col"],
        at.get("--value-col"),
        user_col,
        channel_col,
        money,
    )

    def run() -> Report:
        parts = _event_parts(file, reader, lookback_days, selection, jobs or _cpus())
        return batch.finish(parts, selection)

    report = _without_gc(run)
    _write(report, money, output_format, exact)


@analyze.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--path-col", default="path", show_default=True)
@click.option("--conversions-col", default="total_conversions", show_default=True)
@click.option("--value-col", default="total_conversion_value", show_default=True)
@click.option("--null-col", default="total_null", show_default=True)
@click.option("--path-separator", default=">", show_default=True)
@_common
def paths(
    file: Path,
    path_col: str,
    conversions_col: str,
    value_col: str,
    null_col: str,
    path_separator: str,
    output_format: str,
    models: str | None,
    markov_orders: str,
    currency: str,
    value_decimals: int | None,
    exact: bool,
) -> None:
    """Attribute aggregated paths (ChannelAttribution's format)."""
    selection = _selection(models, markov_orders, 7.0, exact)
    money = _money(currency, value_decimals)
    names = _header(file)
    at = _columns(names, {"--path-col": path_col, "--conversions-col": conversions_col})
    found = _optional_columns(names, {"--value-col": value_col, "--null-col": null_col})
    path_i, conversions_i = at["--path-col"], at["--conversions-col"]
    value_i, null_i = found.get("--value-col"), found.get("--null-col")

    def parse(line: int, row: list[str]) -> PathRow:
        channels = tuple(c.strip() for c in row[path_i].split(path_separator))
        if not all(channels):
            raise BadRow(f"{path_col} {row[path_i]!r} has an empty channel")
        return PathRow(
            line,
            channels,
            _count(row[conversions_i], conversions_col),
            money.to_minor(row[value_i]) if value_i is not None else 0,
            _count(row[null_i], null_col) if null_i is not None else 0,
        )

    report = _without_gc(
        lambda: batch.analyze(batch.path_journeys(_read(file, parse)), selection, False)
    )
    _write(report, money, output_format, exact)


@dataclass(frozen=True)
class EventReader:
    """How the rows of an event export become ``EventRow``s."""

    user: int
    time: int
    channel: int
    flag: int
    value: int | None
    user_col: str
    channel_col: str
    money: Money

    def row(self, line: int, row: list[str]) -> EventRow:
        user, channel = row[self.user].strip(), row[self.channel].strip()
        if not user:
            raise BadRow(f"{self.user_col} is empty")
        if not channel:
            raise BadRow(f"{self.channel_col} is empty")
        converted = _flag(row[self.flag])
        value = (
            self.money.to_minor(row[self.value])
            if converted and self.value is not None
            else 0
        )
        return EventRow(
            line, user, parse_time_ms(row[self.time]), channel, converted, value
        )

    def rows(
        self, rows: Sequence[list[str]], lines: Sequence[int]
    ) -> list[EventRow] | None:
        """What ``row`` gives, a column at a time; None when some value needs
        ``row`` to say what is wrong with it."""
        if not rows:
            return []
        fields = list(zip(*rows, strict=True))
        users = list(map(str.strip, fields[self.user]))
        channels = list(map(str.strip, fields[self.channel]))
        flags = list(map(PLAIN_FLAGS.get, fields[self.flag]))
        times = _times_ms(fields[self.time])
        if times is None or "" in users or "" in channels or None in flags:
            return None
        values = [0] * len(rows)
        if self.value is not None:
            rounded = self.money.rounded
            try:
                for i in compress(range(len(rows)), flags):
                    values[i] = self.money.to_minor(fields[self.value][i])
            except BadRow:
                self.money.rounded = rounded
                return None
        return list(map(EventRow, lines, users, times, channels, flags, values))


# Below this size (about 100,000 rows) a second process costs more than it saves.
PARALLEL_FROM_BYTES = 4_000_000
# What forked children read: set just before the fork, never changed after.
_shared: tuple[Any, ...] = ()

Task = Callable[[int], T]


def _cpus() -> int:
    # The CPUs this process may run on where the system says (Linux), else all.
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _fork_map(task: Task[T], shared: tuple[Any, ...], jobs: int) -> list[T]:
    """``task(0) .. task(jobs - 1)``, each in a forked process that sees
    ``shared`` without a copy; in this process when ``jobs`` is 1."""
    global _shared
    _shared = shared
    try:
        if jobs == 1:
            return [task(0)]
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            return pool.map(task, range(jobs))
    finally:
        _shared = ()


def _event_parts(
    file: Path,
    reader: EventReader,
    lookback_days: int,
    selection: Selection,
    jobs: int,
) -> list[batch.Part]:
    """Journeys and credits of the file's rows, the users shared out between
    ``jobs`` processes; the parts add up to the report one process gives.

    Each process reads a clean file itself and parses its own users' rows. A
    file with a row or a value to report is read here instead, row by row, so
    its lines are reported once and in order, and the rows are then shared out.
    """
    if file.stat().st_size < PARALLEL_FROM_BYTES:
        jobs = 1
    rounded = reader.money.rounded
    parsed = _fork_map(
        _part_of_clean_file, (file, reader, lookback_days, selection, jobs), jobs
    )
    if all(parsed):
        reader.money.rounded = rounded + sum(p[1] for p in parsed if p)
        return [p[0] for p in parsed if p]
    reader.money.rounded = rounded

    events = list(_read(file, reader.row))
    return _fork_map(_part_of_events, (events, lookback_days, selection, jobs), jobs)


def _part_of_clean_file(index: int) -> tuple[batch.Part, int] | None:
    file, reader, lookback_days, selection, jobs = _shared
    rows = _clean_rows(file)
    if rows is None:
        return None
    lines: Sequence[int]
    if jobs == 1:
        mine, lines = rows, range(2, len(rows) + 2)
    else:
        # Every process hashes a user as the others do (forked, one hash seed),
        # so each user lands in exactly one part.
        users = map(str.strip, map(itemgetter(reader.user), rows))
        mine_mask = list(
            map(eq, map(mod, map(hash, users), repeat(jobs)), repeat(index))
        )
        mine = list(compress(rows, mine_mask))
        lines = list(compress(range(2, len(rows) + 2), mine_mask))
    rounded = reader.money.rounded
    events = reader.rows(mine, lines)
    if events is None:
        return None
    journeys = batch.event_journeys(events, lookback_days)
    part = batch.tally_part(journeys, selection)
    _keep_in_child(jobs, rows, events, journeys)
    return part, reader.money.rounded - rounded


def _part_of_events(index: int) -> batch.Part:
    events, lookback_days, selection, jobs = _shared
    mine = [e for e in events if hash(e.user) % jobs == index]
    journeys = batch.event_journeys(mine, lookback_days)
    part = batch.tally_part(journeys, selection)
    _keep_in_child(jobs, mine, journeys)
    return part


_kept_in_child: list[object] = []


def _keep_in_child(jobs: int, *objects: object) -> None:
    """Keep a forked child's rows and journeys to its end: the pool ends it
    without freeing them, which would take a third of a second before its part
    could go back to the parent."""
    if jobs > 1:
        _kept_in_child.extend(objects)


def _optional_columns(names: list[str], wanted: dict[str, str]) -> dict[str, int]:
    found = {option: names.index(c) for option, c in wanted.items() if c in names}
    for option, column in wanted.items():
        if option not in found:
            click.echo(f"note: no column {column!r} ({option}); taken as 0", err=True)
    return found
