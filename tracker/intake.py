"""From parsed input to Kafka: validate, normalise, send; dead-letter the rest."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from schemas.errors import InvalidEvent, Problem
from schemas.fast import problems_fast
from schemas.names import Names
from schemas.validate import KINDS
from streams.normalize import DEFAULT_PHONE_REGION, normalise, partition_key
from streams.times import iso_of_ms
from tracker.metrics import Metrics
from tracker.sink import Record, Sink, SinkUnavailable

log = logging.getLogger(__name__)


def topic_for(names: Names, kind: str) -> str:
    """Touches, identities (identify and call), CRM (stage and deal) or spend."""
    return {
        "touch": names.touches,
        "identify": names.identities,
        "call": names.identities,
        "stage": names.crm,
        "deal": names.crm,
        "spend": names.spend,
    }[kind]


def kind_of(event: Any) -> str:
    kind = event.get("type") if isinstance(event, dict) else None
    return kind if isinstance(kind, str) and kind in KINDS else "unknown"


@dataclass(frozen=True)
class Item:
    """One event as received: the parsed value, its text for the dead-letter
    topic, and problems found before schema validation (bad pixel time)."""

    event: Any
    raw: str
    problems: Sequence[Problem] = ()


@dataclass(frozen=True)
class Refused:
    """An input the tracker refused, as the dead-letter topic keeps it."""

    endpoint: str
    raw: str
    kind: str
    reason: str
    problems: Sequence[Problem]
    received_at_ms: int

    def record(self, names: Names) -> Record:
        letter = {
            "endpoint": self.endpoint,
            "received_at": iso_of_ms(self.received_at_ms),
            "kind": self.kind,
            "reason": self.reason,
            "problems": [p.as_dict() for p in self.problems],
            "raw": self.raw,
        }
        return Record(names.deadletter, None, letter)


@dataclass(frozen=True)
class Verdict:
    kind: str
    event_id: str | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.event_id is not None


class Intake:
    def __init__(
        self,
        names: Names,
        hash_key: bytes,
        sink: Sink,
        metrics: Metrics,
        phone_region: str = DEFAULT_PHONE_REGION,
    ) -> None:
        self.names = names
        self.hash_key = hash_key
        self.sink = sink
        self.metrics = metrics
        self.phone_region = phone_region

    def check(self, item: Item, received_at_ms: int) -> Record | list[Problem]:
        """The Kafka record of a valid event, or everything wrong with it."""
        problems = [*item.problems, *problems_fast(item.event)]
        if problems:
            return problems
        try:
            wire = normalise(
                item.event, received_at_ms, self.hash_key, self.phone_region
            )
        except InvalidEvent as exc:
            return exc.problems
        return Record(topic_for(self.names, wire["type"]), partition_key(wire), wire)

    async def take(
        self, items: Sequence[Item], endpoint: str, received_at_ms: int
    ) -> list[Verdict]:
        """Send the valid items together and dead-letter the others.

        Raises SinkUnavailable when Kafka does not acknowledge the valid ones;
        a dead letter that cannot be sent is only counted and logged.
        """
        checked = [self.check(item, received_at_ms) for item in items]
        records = [r for r in checked if isinstance(r, Record)]
        if records:
            await self.sink.send_many(records)

        verdicts = []
        refused = []
        for item, result in zip(items, checked, strict=True):
            kind = kind_of(item.event)
            if isinstance(result, Record):
                self.metrics.accepted.labels(kind).inc()
                verdicts.append(Verdict(kind, event_id=result.value["event_id"]))
                continue
            refused.append(
                Refused(
                    endpoint, item.raw, kind, "invalid_event", result, received_at_ms
                )
            )
            verdicts.append(Verdict(kind, problems=result))
        await self.reject(*refused)
        return verdicts

    async def reject(self, *refused: Refused) -> None:
        """Count refused inputs and keep them on the dead-letter topic for replay.

        The senders' answers (4xx) do not depend on this: a dead letter Kafka
        does not take is counted and logged, costing only the replay of an
        input that was wrong anyway.
        """
        if not refused:
            return
        for one in refused:
            self.metrics.rejected.labels(one.kind, one.reason).inc()
        try:
            await self.sink.send_many([one.record(self.names) for one in refused])
        except SinkUnavailable as exc:
            self.metrics.sink_failures.labels("deadletter").inc(len(refused))
            log.warning("%d dead letter(s) not stored: %s", len(refused), exc)
