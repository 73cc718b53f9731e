"""The whole pipeline in one process: the reference the stream workers must equal.

It folds normalised events through the same pure steps as the faust workers
(route, apply, records) and keeps the last record per id, as Redis does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from streams.channels import Classifier
from streams.config import Settings
from streams.journey import apply, deal_item, records, route, spend_record, touch_record
from streams.lead_paths import MarkovInput, lead_markov
from streams.ledger import ALL_TIME, Cell, Record, totals
from streams.markov_credits import generation
from streams.normalize import partition_key
from streams.roi import PATHS_SCOPE


class Engine:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.classifier = Classifier.from_settings(settings)
        self.visitors: dict[str, dict[str, Any]] = {}
        self.leads: dict[str, dict[str, Any]] = {}
        self.records: dict[str, Record] = {}
        self.markov_inputs: dict[str, list[MarkovInput]] = {}

    def process(self, event: Mapping[str, Any]) -> None:
        kind = event["type"]
        if kind in ("touch", "identify") and event.get("visitor_id"):
            visitor = str(event["visitor_id"])
            self.visitors[visitor], forwards = route(self.visitors.get(visitor), event, self.classifier)
            for lead, item in forwards:
                self._apply(lead, item)
            touch = self.visitors[visitor]["touches"].get(event["event_id"])
            if kind == "touch" and touch is not None:
                self.records[f"touch|{event['event_id']}"] = touch_record(touch, self.settings)
        elif kind == "identify":
            _, forwards = route(None, event)
            for lead, item in forwards:
                self._apply(lead, item)
        elif kind == "deal":
            self._apply(partition_key(event), deal_item(event))
        elif kind == "spend":
            record_id, record = spend_record(event, self.settings, self.classifier)
            self.records[record_id] = record

    def _apply(self, lead: str, item: Mapping[str, Any]) -> None:
        state = self.leads[lead] = apply(self.leads.get(lead), item)
        self.records.update(records(lead, state, self.settings))
        path_id, path_record, inputs = lead_markov(lead, state, self.settings)
        self.records[path_id] = path_record
        self.markov_inputs[lead] = inputs

    def run(self, events: Iterable[Mapping[str, Any]]) -> Engine:
        for event in events:
            self.process(event)
        return self

    def totals(self) -> dict[Cell, int]:
        """Every cell, with the Markov ones of a generation run on the end state."""
        cells = totals(self.records.values())
        fields = {
            (cell.value, cell.metric): amount
            for cell, amount in cells.items()
            if cell.scope == PATHS_SCOPE and cell.day == ALL_TIME
        }
        inputs = (item for items in self.markov_inputs.values() for item in items)
        cells.update(generation(fields, inputs, self.settings.markov_order).cells)
        return cells
