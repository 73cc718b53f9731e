"""Event time: parsing, ordering and day buckets in a configured time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def parse_ms(text: str) -> int:
    """Milliseconds since the epoch from an ISO 8601 timestamp with a zone."""
    moment = datetime.fromisoformat(text.replace("z", "Z"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def iso_of_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def day_of_ms(ms: int, zone: ZoneInfo) -> str:
    """The calendar day (YYYY-MM-DD) of an instant, in ``zone``."""
    return datetime.fromtimestamp(ms / 1000, tz=zone).date().isoformat()


DAY_MS = 86_400_000
