"""Identifiers of a person, and the messages one source event sends to them.

Every identifier an event names is a node of the identity graph, spelt
``kind:value``: a CRM lead or contact id, a hashed e-mail, a hashed E.164 phone
(a form's phone and a caller's number alike), a promo code, a deal id, a call
id, a visitor id. An event naming several nodes links them: they belong to one
person. A person's canonical lead is the smallest node of its component in
``order_key`` order, so a CRM lead id names the lead when there is one.

``route`` is the stateless first step: it turns one source event into messages
keyed by node, which ``streams.stitch`` folds into the identity graph and the
journeys. Calls to a tracking number are linked to a visitor by the number's own
node, which remembers which visitor was shown the number and when.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from streams.channels import Classifier
from streams.journey import deal_item, identify_item, journey_touch
from streams.times import parse_ms

Event = Mapping[str, Any]
Message = dict[str, Any]
Send = tuple[str, Message]

# Node kinds in canonical order: the first kind present names the lead.
KINDS = ("lead", "contact", "email", "phone", "promo", "deal", "call", "visitor")
RANK = {kind: rank for rank, kind in enumerate(KINDS)}
# Event field -> node kind. ``caller_hash`` is a phone hashed like ``phone_hash``.
FIELDS = (
    ("lead_id", "lead"),
    ("contact_id", "contact"),
    ("email_hash", "email"),
    ("phone_hash", "phone"),
    ("caller_hash", "phone"),
    ("promo_code", "promo"),
    ("deal_id", "deal"),
    ("call_id", "call"),
    ("visitor_id", "visitor"),
)
NUMBER = "number"  # a tracking number's node; never part of a person


def node(kind: str, value: str) -> str:
    return f"{kind}:{value}"


def kind_of(node_id: str) -> str:
    return node_id.split(":", 1)[0]


def order_key(node_id: str) -> tuple[int, str]:
    """Canonical order of nodes: by kind, then by value."""
    kind, _, value = node_id.partition(":")
    return (RANK.get(kind, len(KINDS)), value)


def _value(field: str, raw: Any) -> str:
    text = str(raw).strip()
    # Promo codes are typed by people; their case carries no meaning.
    return text.casefold() if field == "promo_code" else text


def identifiers(event: Event) -> list[str]:
    """The nodes an event names, in canonical order, without repeats."""
    found = {
        node(kind, _value(field, event[field]))
        for field, kind in FIELDS
        if event.get(field) and _value(field, event[field])
    }
    return sorted(found, key=order_key)


class Routed(NamedTuple):
    touch: dict[str, Any] | None  # the classified touch, for its touch record
    sends: list[Send]


def link(ids: list[str], item: Message | None, event: Event) -> Message:
    """Join ``ids`` into one person and give ``item`` to that person's journey."""
    return {
        "kind": "link",
        "ids": ids,
        "item": item,
        "event": event["event_id"],
        "t": parse_ms(event["occurred_at"]),
    }


def _item(event: Event, classifier: Classifier | None) -> Message | None:
    kind = event["type"]
    if kind == "touch":
        return journey_touch(event, classifier)
    if kind in ("identify", "call"):
        return identify_item(event)
    if kind == "deal":
        return deal_item(event)
    return None


def route(event: Event, classifier: Classifier | None = None) -> Routed:
    """The messages a touch, identify, call, stage or deal event sends to nodes.

    A bot-flagged event only flags its visitor: it creates no touch, no lead and
    links nothing. An event naming one node gives its item to that node; one
    naming several sends a link to its visitor, which refuses it if it is a bot,
    or to its first node.
    """
    kind = event["type"]
    ids = identifiers(event)
    visitor = (
        node("visitor", str(event["visitor_id"])) if event.get("visitor_id") else None
    )
    at_ms = parse_ms(event["occurred_at"])
    if event.get("is_bot"):
        flag = {"kind": "bot", "id": event["event_id"]}
        return Routed(None, [(visitor, flag)] if visitor else [])

    sends: list[Send] = []
    number = event.get("tracking_number")
    if number and kind == "touch" and visitor:
        shown = {
            "kind": "shown",
            "visitor": visitor,
            "t": at_ms,
            "id": event["event_id"],
        }
        sends.append((node(NUMBER, number), shown))
    if number and kind == "call" and not visitor and ids:
        dial = {"kind": "dial", "target": ids[0], "t": at_ms, "id": event["event_id"]}
        sends.append((node(NUMBER, number), dial))

    item = _item(event, classifier)
    if len(ids) > 1:
        sends.append((visitor or ids[0], link(ids, item, event)))
    elif ids and item is not None:
        sends.append((ids[0], item))
    return Routed(item if kind == "touch" else None, sends)
