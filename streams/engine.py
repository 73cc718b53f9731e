"""The whole pipeline in one process: the reference the stream workers must equal.

It folds normalised events through the same pure steps as the faust workers
(``identity.route``, then ``stitch.step`` per message) and keeps the last record
per id, as Redis does. Messages wait in one queue, as they wait on the
lead-events topic; given a random generator, the engine takes them in random
order instead, which is how the tests show that the order of messages between
workers does not change the figures.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from typing import Any

from streams.channels import Classifier
from streams.config import Settings
from streams.identity import Send, route
from streams.journey import spend_record, touch_record
from streams.lead_paths import MarkovInput
from streams.ledger import ALL_TIME, Cell, Record, totals
from streams.markov_credits import generation
from streams.roi import PATHS_SCOPE
from streams.stitch import State, root_of, step


class Engine:
    def __init__(
        self, settings: Settings, shuffle: random.Random | None = None
    ) -> None:
        self.settings = settings
        self.classifier = Classifier.from_settings(settings)
        self.shuffle = shuffle
        self.nodes: dict[str, State] = {}
        self.records: dict[str, Record] = {}
        self.merges: list[dict[str, Any]] = []
        self.pending: list[Send] = []
        self.markov_inputs: dict[str, list[MarkovInput]] = {}

    def process(self, event: Mapping[str, Any]) -> None:
        if event["type"] == "spend":
            record_id, record = spend_record(event, self.settings, self.classifier)
            self.records[record_id] = record
            return

        routed = route(event, self.classifier)
        if routed.touch is not None:
            record = touch_record(routed.touch, self.settings)
            self.records[f"touch|{event['event_id']}"] = record
        self.pending.extend(routed.sends)
        if self.shuffle is None:
            self.settle()
        else:
            # Leave some messages waiting, so later events overtake them.
            for _ in range(self.shuffle.randrange(len(self.pending) + 1)):
                self._deliver(
                    self.pending.pop(self.shuffle.randrange(len(self.pending)))
                )

    def settle(self) -> None:
        """Deliver every waiting message, and the messages they send."""
        while self.pending:
            at = self.shuffle.randrange(len(self.pending)) if self.shuffle else 0
            self._deliver(self.pending.pop(at))

    def _deliver(self, send: Send) -> None:
        key, message = send
        outcome = step(key, self.nodes.get(key), message, self.settings)
        self.nodes[key] = outcome.state
        self.records.update(outcome.records)
        self.merges.extend(outcome.merges)
        self.pending.extend(outcome.sends)
        for lead, inputs in outcome.markov_inputs.items():
            if inputs:
                self.markov_inputs[lead] = inputs
            else:
                self.markov_inputs.pop(lead, None)

    def run(self, events: Iterable[Mapping[str, Any]]) -> Engine:
        for event in events:
            self.process(event)
        self.settle()
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

    def lead_of(self, node_id: str) -> str:
        """The canonical lead a node belongs to."""
        return root_of(node_id, self.nodes)

    def leads(self) -> dict[str, State]:
        """Every root that is a lead (has been identified), by canonical id."""
        return {
            key: state
            for key, state in self.nodes.items()
            if "journey" in state
            and state["journey"] is not None
            and state["journey"]["created"] is not None
        }
