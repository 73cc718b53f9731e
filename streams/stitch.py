"""The identity graph and the journeys, one node at a time.

Every node (``streams.identity``) has a state in one table keyed by node:

- a *root* holds a person's journey, the nodes of its component, the merge log
  and, for a visitor, whether it is a bot;
- a *forwarded* node holds only the smaller node it was merged into;
- a *number* node holds a tracking number's showings and the calls to it.

This is union-find over messages. A root only ever merges into a smaller node
(``order_key``), so forward pointers never form a cycle and every component ends
with one root, its smallest node, whatever order the messages come in:

- ``union`` asks that the receiving node and ``other`` be one component. A
  forwarded node passes it on to its target; a root merges into ``other`` when
  ``other`` is smaller, otherwise asks ``other`` for the same union.
- A root merging away sends its whole state to the winner as ``absorb``, keeps a
  forward pointer, and empties its lead records: the winner's records then count
  the person once. Deal records are keyed by deal, so they move, not double.
- Anything else sent to a forwarded node goes on to its target. After an
  absorb, the winner repoints the loser's members straight at itself, so a
  returning visitor's touches take one hop, not a chain.

Every step is idempotent (items are kept by id, creation is a minimum, a deal
keeps its newest revision), so redelivery and replay change nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from streams.config import Settings
from streams.identity import NUMBER, Message, Send, kind_of, order_key
from streams.journey import apply, merge, records
from streams.lead_paths import MarkovInput, lead_markov, path_id_of
from streams.ledger import Record
from streams.times import DAY_MS

State = dict[str, Any]
ITEM_KINDS = ("touch", "identify", "deal")
MINUTE_MS = 60_000
# How far behind its newest event a number remembers showings and calls, when
# lateness is unlimited.
DEFAULT_SHOW_RETENTION_DAYS = 30


@dataclass
class Outcome:
    state: State
    sends: list[Send] = field(default_factory=list)
    records: dict[str, Record] = field(default_factory=dict)
    merges: list[Message] = field(default_factory=list)  # merge log entries
    # Lead -> what the Markov generation needs of its conversions; [] deletes.
    markov_inputs: dict[str, list[MarkovInput]] = field(default_factory=dict)

    def then(self, later: Outcome) -> Outcome:
        self.state = later.state
        self.sends.extend(later.sends)
        self.records.update(later.records)
        self.merges.extend(later.merges)
        self.markov_inputs.update(later.markov_inputs)
        return self


def _lead_outputs(
    key: str, journey: Mapping[str, Any] | None, settings: Settings
) -> Outcome:
    """A lead's credit records, path record and Markov inputs, on an Outcome
    without state; empty when the lead has no journey."""
    if not journey:
        return Outcome({})
    found = records(key, journey, settings)
    path_id, path_record, inputs = lead_markov(key, journey, settings)
    found[path_id] = path_record
    return Outcome({}, records=found, markov_inputs={key: inputs})


def new_root(key: str) -> State:
    return {"journey": None, "members": [key], "merges": [], "bot": False}


def root_of(key: str, states: Mapping[str, State]) -> str:
    """The root a node leads to in ``states``: the canonical lead it belongs to."""
    while "forward" in states.get(key, {}):
        key = states[key]["forward"]
    return key


def step(
    key: str, state: State | None, message: Mapping[str, Any], settings: Settings
) -> Outcome:
    """Fold one message into node ``key``'s state."""
    kind = message["kind"]
    if kind_of(key) == NUMBER:
        return _number(state, message, settings)
    if kind == "link":
        return _link(key, state, message, settings)
    if state is not None and "forward" in state:
        return _forwarded(state, message)

    root = state or new_root(key)
    if kind == "union":
        return _union(key, root, message, settings)
    if kind == "absorb":
        return _absorb(key, root, message, settings)
    if kind == "bot":
        if kind_of(key) == "visitor":
            root["bot"] = True
        return Outcome(root)
    if kind in ITEM_KINDS:
        root["journey"] = apply(root["journey"], message)
        outputs = _lead_outputs(key, root["journey"], settings)
        return Outcome(
            root, records=outputs.records, markov_inputs=outputs.markov_inputs
        )
    return Outcome(root)


def _forwarded(state: State, message: Mapping[str, Any]) -> Outcome:
    if message["kind"] == "bot":
        # Flagged after it joined a lead: the join stands, its later bot
        # events are dropped where they enter.
        return Outcome(state)
    if message["kind"] == "repoint":
        # Only ever closer to the root: pointers keep decreasing, so a late
        # repoint cannot undo a newer one or make a cycle.
        if order_key(message["to"]) < order_key(state["forward"]):
            return Outcome({"forward": message["to"]})
        return Outcome(state)
    return Outcome(state, sends=[(state["forward"], dict(message))])


def _link(
    key: str, state: State | None, message: Mapping[str, Any], settings: Settings
) -> Outcome:
    if state is not None and state.get("bot"):
        return Outcome(state)

    ids: list[str] = message["ids"]
    smallest = ids[0]
    parts: list[Send] = []
    if message.get("item") is not None:
        parts.append((smallest, message["item"]))
    union = {k: message[k] for k in ("event", "t", "ids")}
    parts.extend(
        (other, {"kind": "union", "other": smallest, **union}) for other in ids[1:]
    )

    outcome = Outcome(state if state is not None else new_root(key))
    for target, part in parts:
        if target == key:
            outcome.then(step(key, outcome.state, part, settings))
        else:
            outcome.sends.append((target, part))
    return outcome


def _union(
    key: str, root: State, message: Mapping[str, Any], settings: Settings
) -> Outcome:
    other: str = message["other"]
    if other == key or root["bot"]:
        return Outcome(root)
    if order_key(other) > order_key(key):
        return Outcome(root, sends=[(other, {**message, "other": key})])

    entry = {
        "loser": key,
        "winner": other,
        "t": message["t"],
        "event": message["event"],
        "ids": message["ids"],
    }
    absorb = {"kind": "absorb", "from": key, "state": root, "merge": entry}
    emptied: dict[str, Record] = {}
    if root["journey"] is not None and root["journey"]["created"] is not None:
        emptied = {
            record_id: {}
            for record_id in records(key, root["journey"], settings)
            if record_id.startswith("lead:")
        }
    # The loser's paths and Markov inputs now count in the winner's.
    emptied[path_id_of(key)] = {}
    return Outcome(
        {"forward": other},
        sends=[(other, absorb)],
        records=emptied,
        merges=[entry],
        markov_inputs={key: []},
    )


def _absorb(
    key: str, root: State, message: Mapping[str, Any], settings: Settings
) -> Outcome:
    loser: State = message["state"]
    root["journey"] = merge(root["journey"], loser["journey"])
    root["members"] = sorted({*root["members"], *loser["members"]}, key=order_key)
    log = {entry["loser"]: entry for entry in [*root["merges"], *loser["merges"]]}
    log[message["merge"]["loser"]] = message["merge"]
    root["merges"] = sorted(log.values(), key=lambda e: (e["t"], order_key(e["loser"])))
    outputs = _lead_outputs(key, root["journey"], settings)
    # The loser's members pointed at the loser; pointing them here saves
    # their later events a hop.
    repoints = [
        (member, {"kind": "repoint", "to": key})
        for member in loser["members"]
        if member != message["from"]
    ]
    return Outcome(
        root,
        sends=repoints,
        records=outputs.records,
        markov_inputs=outputs.markov_inputs,
    )


def _number(
    state: State | None, message: Mapping[str, Any], settings: Settings
) -> Outcome:
    """A tracking number: which visitor saw it when, and whose calls it took.

    A call belongs to the visitor with the latest showing at or before the call,
    at most ``tracking_number_hold_minutes`` earlier. A call with no such showing
    waits for one; a call once linked stays linked, since a merge cannot be
    undone.
    """
    number = state or {"shows": [], "dials": {}}
    if message["kind"] == "shown":
        show = [message["t"], message["visitor"], message["id"]]
        if show not in number["shows"]:
            number["shows"] = sorted([*number["shows"], show])
    elif message["kind"] == "dial" and message["id"] not in number["dials"]:
        number["dials"][message["id"]] = {
            "t": message["t"],
            "target": message["target"],
            "visitor": None,
        }
    _forget_old(number, settings)

    sends: list[Send] = []
    hold_ms = settings.tracking_number_hold_minutes * MINUTE_MS
    for dial_id, dial in sorted(number["dials"].items()):
        if dial["visitor"] is not None:
            continue
        shown = [s for s in number["shows"] if dial["t"] - hold_ms <= s[0] <= dial["t"]]
        if not shown:
            continue
        visitor: str = shown[-1][1]
        dial["visitor"] = visitor
        ids = sorted({visitor, dial["target"]}, key=order_key)
        link = {
            "kind": "link",
            "ids": ids,
            "item": None,
            "event": dial_id,
            "t": dial["t"],
        }
        sends.append((visitor, link))
    return Outcome(number, sends=sends)


def _forget_old(number: State, settings: Settings) -> None:
    """Keep a number's state bounded: showings and calls older than the
    retention behind its newest event are dropped (a static number that is
    never shown would otherwise keep every call)."""
    times = [s[0] for s in number["shows"][-1:]]
    times += [dial["t"] for dial in number["dials"].values()]
    if not times:
        return
    days = settings.allowed_lateness_days or DEFAULT_SHOW_RETENTION_DAYS
    horizon_ms = max(times) - days * DAY_MS
    number["shows"] = [s for s in number["shows"] if s[0] >= horizon_ms]
    number["dials"] = {
        dial_id: dial
        for dial_id, dial in number["dials"].items()
        if dial["t"] >= horizon_ms
    }
