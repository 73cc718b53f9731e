"""One ROI report: what is asked, loading it from Redis, and its text forms.

The CLI and the HTTP API both go through here, so a table, a CSV file and a JSON
answer always hold the same rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson

from leadroi.store import Store
from schemas.errors import LeadroiError
from streams import roi
from streams.config import Settings
from streams.times import iso_of_ms

FORMATS = ("table", "csv", "json")
NULL_IN_TABLE = "n/a"

# (row field, table heading); the value column is headed by the dimension.
TABLE_COLUMNS = (
    ("value", ""),
    ("currency", "cur"),
    ("leads", "leads"),
    ("won", "won"),
    ("revenue", "revenue"),
    ("refunds", "refunds"),
    ("net_revenue", "net"),
    ("spend", "spend"),
    ("cpl", "CPL"),
    ("cac", "CAC"),
    ("roi_pct", "ROI %"),
    ("roas", "ROAS"),
)
LEFT_ALIGNED = {"value", "currency"}


class ModelNotFound(LeadroiError):
    """A model that has written no figures under this prefix."""

    def __init__(self, model: str, known: list[str], prefix: str) -> None:
        self.reason = (
            f"{model!r} has no figures under prefix {prefix!r};"
            f" expected one of: {', '.join(known) or 'none yet'}"
        )
        super().__init__(f"model: {self.reason}")


@dataclass(frozen=True)
class Query:
    dimension: str = "source"
    window: str = "all"
    as_of: date | None = None  # last day of a rolling window; None: today
    model: str | None = None  # None: every model with figures


def today(settings: Settings) -> date:
    return datetime.now(settings.zone).date()


async def load_report(store: Store, query: Query, settings: Settings) -> roi.Report:
    period = roi.window(query.window, query.as_of or today(settings))
    snapshot = await store.snapshot(query.dimension, period.buckets())

    models = snapshot.models
    if query.model is not None:
        if query.model not in models:
            raise ModelNotFound(query.model, models, store.names.prefix)
        models = [query.model]
    return roi.report(snapshot.cells, query.dimension, period, models)


def to_json(report: roi.Report) -> bytes:
    return orjson.dumps(report.as_dict())


def _csv_cell(value: roi.Value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_csv(report: roi.Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(roi.FIELDS)
    for row in report.rows:
        values = row.as_dict()
        writer.writerow(_csv_cell(values[name]) for name in roi.FIELDS)
    return out.getvalue()


def _period_text(period: roi.Window) -> str:
    if period.first_day is None:
        return "all time"
    return f"{period.days} days, {period.first_day} to {period.last_day}"


def _table_text(field: str, value: roi.Value) -> str:
    if value is None:
        # A row without money has no currency; only an undefined figure is n/a.
        return "" if field == "currency" else NULL_IN_TABLE
    return str(value)


def aligned(
    lines: list[list[str]], fields: list[str], left: Collection[str] = LEFT_ALIGNED
) -> list[str]:
    """Columns padded to their widest text; ``left`` fields left-aligned."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(fields))]
    return [
        "  ".join(
            text.ljust(width) if field in left else text.rjust(width)
            for text, width, field in zip(line, widths, fields, strict=True)
        ).rstrip()
        for line in lines
    ]


def to_table(report: roi.Report) -> str:
    """A section per model: heading, column titles, one line per row."""
    fields = [field for field, _ in TABLE_COLUMNS]
    titles = [title or report.dimension for _, title in TABLE_COLUMNS]
    sections = []
    for model in report.models:
        rows = [r.as_dict() for r in report.rows if r.model == model]
        heading = f"{model}: by {report.dimension}, {_period_text(report.window)}"
        if not rows:
            sections.append(f"{heading}\n(no figures)\n")
            continue
        lines = [titles] + [[_table_text(f, r[f]) for f in fields] for r in rows]
        sections.append("\n".join([heading, *aligned(lines, fields)]) + "\n")
    if not sections:
        return "no models have figures yet\n"
    return "\n".join(sections)


def markov_text(model: dict[str, Any]) -> str:
    """The live Markov generation in one paragraph, for the table form."""
    effects = sorted(model["removal_effects"].items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{channel} {effect:.4f}" for channel, effect in effects)
    computed = iso_of_ms(model["generated_at_ms"])
    return (
        f"markov: order {model['order']}, computed {computed}"
        f" from {model['paths']} paths ({model['conversions']} won deals,"
        f" {model['nulls']} open journeys); removal effects: {shown or 'none yet'}\n"
    )


RENDERERS: dict[str, Callable[[roi.Report], str]] = {
    "table": to_table,
    "csv": to_csv,
    "json": lambda report: to_json(report).decode(),
}
