"""Alerts of one day, judged on the ROI tables in Redis, and their text forms.

``leadroi alerts``, ``leadroi watch`` and ``GET /api/alerts`` all go through
here. A day is judged once it is over: without ``as_of``, the day judged is
yesterday in ``LEADROI_TIMEZONE``, since today's partial figures would read as
a collapse every morning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

import orjson

from leadroi.reporting import ModelNotFound, aligned, today
from leadroi.store import Store
from streams import alerts
from streams.alerts import Alert, AlertRules
from streams.config import Settings

ALERT_DIMENSIONS = ("source", "channel")
FORMATS = ("table", "json")


@dataclass(frozen=True)
class AlertQuery:
    dimension: str = "source"
    as_of: date | None = None  # the day judged; None: yesterday
    model: str | None = None  # whose leads count; None: the rules' model


@dataclass(frozen=True)
class AlertReport:
    day: date
    dimension: str
    rules: AlertRules
    alerts: tuple[Alert, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "day": self.day.isoformat(),
            "dimension": self.dimension,
            "thresholds": self.rules.as_dict(),
            "alerts": [alert.as_dict() for alert in self.alerts],
        }


def last_full_day(settings: Settings) -> date:
    return today(settings) - timedelta(days=1)


async def load_alerts(
    store: Store, query: AlertQuery, rules: AlertRules, settings: Settings
) -> AlertReport:
    """The alerts of the asked day; ModelNotFound when other models have
    figures but not the one whose leads the rules count."""
    day = query.as_of or last_full_day(settings)
    snapshot = await store.snapshot(query.dimension, alerts.days_for(day, rules))

    model = rules.model if query.model is None else query.model
    # With no model at all yet, every lead count is truly 0.
    if snapshot.models and model not in snapshot.models:
        raise ModelNotFound(model, snapshot.models, store.names.prefix)
    rules = replace(rules, model=model)
    found = alerts.evaluate(snapshot.cells, query.dimension, day, rules)
    return AlertReport(day, query.dimension, rules, tuple(found))


def to_json(report: AlertReport) -> bytes:
    return orjson.dumps(report.as_dict())


def to_table(report: AlertReport) -> str:
    heading = (
        f"alerts by {report.dimension} on {report.day} (leads of {report.rules.model})"
    )
    if not report.alerts:
        return f"{heading}\nno alerts\n"
    fields = ["rule", "value", "reason"]
    lines = [["rule", report.dimension, "reason"]]
    lines += [[a.rule, a.value, a.reason] for a in report.alerts]
    return "\n".join([heading, *aligned(lines, fields, left=set(fields))]) + "\n"


RENDERERS: dict[str, Callable[[AlertReport], str]] = {
    "table": to_table,
    "json": lambda report: to_json(report).decode(),
}
