"""Lead journeys as pure functions on JSON-ready states.

The stream workers keep these states in faust tables; the in-process engine keeps
them in dicts. Both call the same functions, so they compute the same figures.
Which journey an event joins is the identity graph's business (``streams.stitch``).

Allowed lateness: a deal's credit is final ``allowed_lateness_days`` after the
later of its close and the first time leadroi received it. A touch received
after that is kept in the journey (it can still earn later conversions) but is
not eligible for that deal, so a very late touch never rewrites an old sale.
Receipt times come from the events, never from the clock of the worker, so the
rule gives the same figures on every replay.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from streams.attribution import (
    UNATTRIBUTED,
    Conversion,
    Credit,
    ModelParams,
    Touch,
    attribute,
    journey_for,
)
from streams.channels import Classifier, default_classifier
from streams.config import Settings
from streams.deals import (
    REVISIONS,
    Deal,
    deals_of,
    refund_split,
    remember,
    revision_key,
)
from streams.ledger import REFUNDS, SPEND_LINES, Record, add, dimension_values
from streams.times import DAY_MS, day_of_ms, parse_ms

Event = Mapping[str, Any]
State = dict[str, Any]


def lead_key(event: Event) -> str | None:
    """The lead an event names: CRM lead id first, then hashed email, then phone."""
    if event.get("lead_id"):
        return str(event["lead_id"])
    if event.get("email_hash"):
        return f"email:{event['email_hash']}"
    if event.get("phone_hash"):
        return f"phone:{event['phone_hash']}"
    return None


def journey_touch(
    event: Event, classifier: Classifier | None = None
) -> dict[str, Any] | None:
    """The compact, classified form of a touch that a journey keeps, or None when
    the hit is not a marketing touch (own site, payment provider, spam)."""
    found = (classifier or default_classifier()).classify(event)
    if found.excluded:
        return None
    return {
        "kind": "touch",
        "id": event["event_id"],
        "t": parse_ms(event["occurred_at"]),
        "channel": found.channel,
        "source": found.source,
        "medium": found.medium,
        "campaign": found.campaign,
        "ruleset": found.ruleset,
        "r": received_ms(event),
    }


def received_ms(event: Event) -> int:
    """When the tracker received the event; its event time when it does not say."""
    return parse_ms(event.get("received_at") or event["occurred_at"])


def identify_item(event: Event) -> dict[str, Any]:
    """What a journey keeps of an identification: when the lead was created."""
    return {
        "kind": "identify",
        "id": event["event_id"],
        "t": parse_ms(event["occurred_at"]),
    }


def touch_record(touch: Mapping[str, Any], settings: Settings) -> Record:
    """A touch's own contribution: one to the touch count of its day."""
    record: Record = {}
    values = dimension_values(
        touch["source"], touch["medium"], touch["campaign"], touch["channel"]
    )
    add(record, "touches", day_of_ms(touch["t"], settings.zone), values, "touches", 1)
    return record


def apply(state: State | None, item: Mapping[str, Any]) -> State:
    """Lead-keyed step: fold one touch, identify or deal into the lead's state."""
    state = state or {"touches": {}, "created": None, "deals": {}}
    kind = item["kind"]

    if kind == "touch":
        state["touches"][item["id"]] = dict(item)
    elif kind == "identify":
        created = state["created"]
        state["created"] = item["t"] if created is None else min(created, item["t"])
    elif kind == "deal":
        current = state["deals"].get(item["deal_id"])
        if current is None or revision_key(item) >= revision_key(current):
            state["deals"][item["deal_id"]] = dict(item)
        if current is not None:
            # Lateness counts from the first receipt of any revision.
            kept = state["deals"][item["deal_id"]]
            kept["r"] = min(_deal_received(current), _deal_received(item))
        remember(state, item)
    return state


def _deal_received(deal: Mapping[str, Any]) -> int:
    return int(deal.get("r", deal["t"]))


def merge(state: State | None, other: Mapping[str, Any] | None) -> State | None:
    """``state`` after folding in every item of ``other``, another journey of the
    same person: the journey that had received both journeys' events."""
    if other is None:
        return state
    if other.get("created") is not None:
        state = apply(state, {"kind": "identify", "id": "", "t": other["created"]})
    for kept in other.values():
        if not isinstance(kept, Mapping):
            continue
        for item in kept.values():
            if isinstance(item, Mapping) and "kind" in item:
                state = apply(state, item)
    # Every revision of every deal, not only the latest: refunds and closing
    # times are functions of all of them (streams.deals).
    for revisions in other.get(REVISIONS, {}).values():
        for item in revisions.values():
            state = apply(state, item)
    return state


def deal_item(event: Event) -> dict[str, Any]:
    """The compact form of a deal event that a journey keeps."""
    occurred_ms = parse_ms(event["occurred_at"])
    closed = event.get("closed_at")
    refunded = event.get("refunded_amount_minor")
    return {
        "kind": "deal",
        "id": event["event_id"],
        "t": occurred_ms,
        "revision": int(event.get("revision", 0)),
        "deal_id": event["deal_id"],
        "status": event["status"],
        "amount_minor": int(event.get("amount_minor", 0)),
        "currency": str(event.get("currency", "")).upper(),
        "closed": parse_ms(closed) if closed else occurred_ms,
        "closed_given": bool(closed),
        "refunded_minor": None if refunded is None else int(refunded),
        "r": received_ms(event),
    }


def touches_of(
    state: Mapping[str, Any], received_by_ms: int | None = None
) -> list[Touch]:
    return [
        Touch(t["id"], t["t"], t["channel"], t["source"], t["medium"], t["campaign"])
        for t in state["touches"].values()
        if received_by_ms is None or t.get("r", t["t"]) <= received_by_ms
    ]


def final_ms(deal: Mapping[str, Any], allowed_lateness_days: int) -> int | None:
    """When the deal's credit becomes final; None when lateness is unlimited."""
    if allowed_lateness_days <= 0:
        return None
    return (
        max(int(deal["closed"]), _deal_received(deal)) + allowed_lateness_days * DAY_MS
    )


def _values(touch: Touch | None) -> dict[str, str]:
    if touch is None:
        return dict.fromkeys(("channel", "source", "campaign"), UNATTRIBUTED)
    return dimension_values(touch.source, touch.medium, touch.campaign, touch.channel)


def _credit(
    record: Record,
    model: str,
    journey: list[Touch],
    conversion: Conversion,
    day: str,
    metric: str,
    value_metric: str | None,
    params: ModelParams,
) -> list[Credit]:
    credits = attribute(model, journey, conversion, params)
    for credit in credits:
        values = _values(credit.touch)
        add(record, model, day, values, metric, credit.credit_units)
        if value_metric:
            add(record, model, day, values, value_metric, credit.value_minor)
    return credits


def _refund(
    record: Record,
    model: str,
    sold: list[Credit],
    refunded_by_day: list[tuple[str, int]],
    metric: str,
) -> None:
    """Charge refunds to the touches credited with the sale, in its proportions."""
    sold_minor = [credit.value_minor for credit in sold]
    for day, refunds_minor in refund_split(sold_minor, refunded_by_day):
        for credit, refund_minor in zip(sold, refunds_minor, strict=True):
            add(record, model, day, _values(credit.touch), metric, refund_minor)


def records(
    lead: str, state: Mapping[str, Any], settings: Settings
) -> dict[str, Record]:
    """Every conversion record of one lead, for every model, from its whole state."""
    touches = touches_of(state)
    params = settings.model_params
    out: dict[str, Record] = {}

    if state["created"] is not None:
        conversion = Conversion(f"lead:{lead}", state["created"])
        journey = journey_for(touches, conversion, None, settings.lead_lookback_days)
        day = day_of_ms(conversion.occurred_at_ms, settings.zone)
        for model in settings.models:
            record: Record = {}
            _credit(record, model, journey, conversion, day, "leads", None, params)
            out[f"{conversion.conversion_id}|{model}"] = record

    for deal, conversion, journey in deal_journeys(state, settings):
        day = day_of_ms(conversion.occurred_at_ms, settings.zone)
        refunded = deal.refunded_by_day(settings.zone)
        for model in settings.models:
            record = {}
            if deal.status == "won":
                revenue = f"revenue:{deal.currency}"
                sold = _credit(
                    record, model, journey, conversion, day, "won", revenue, params
                )
                _refund(record, model, sold, refunded, f"{REFUNDS}{deal.currency}")
            elif deal.status == "lost":
                _credit(record, model, journey, conversion, day, "lost", None, params)
            out[f"{conversion.conversion_id}|{model}"] = record
    return out


def deal_journeys(
    state: Mapping[str, Any], settings: Settings
) -> Iterator[tuple[Deal, Conversion, list[Touch]]]:
    """Each deal of a lead, in closing order, with the journey that earns it:
    touches after the previous won deal, inside the lookback, received in time."""
    previous_won_ms: int | None = None
    for deal in deals_of(state):
        conversion = Conversion(
            f"deal:{deal.deal_id}",
            deal.closed_ms,
            deal.amount_minor,
            lead_created_ms=state["created"],
        )
        latest = {**state["deals"][deal.deal_id], "closed": deal.closed_ms}
        on_time = touches_of(state, final_ms(latest, settings.allowed_lateness_days))
        yield (
            deal,
            conversion,
            journey_for(
                on_time, conversion, previous_won_ms, settings.deal_lookback_days
            ),
        )
        if deal.status == "won":
            previous_won_ms = deal.closed_ms


def spend_record(
    event: Event, settings: Settings, classifier: Classifier | None = None
) -> tuple[str, Record]:
    """A spend line's record id (its business key) and contribution."""
    found = (classifier or default_classifier()).classify(
        {
            "source": event["source"],
            "medium": event.get("medium") or "",
            "campaign": event.get("campaign") or "",
        }
    )
    currency = str(event["currency"]).upper()
    record_id = "|".join(
        ["spend", event["date"], found.source, found.medium, found.campaign, currency]
    )
    values = dimension_values(found.source, found.medium, found.campaign, found.channel)
    record: Record = {}
    add(
        record,
        "spend",
        event["date"],
        values,
        f"spend:{currency}",
        int(event["amount_minor"]),
    )
    # Counted apart from the amount so that a spend of zero still reads as known.
    add(record, "spend", event["date"], values, f"{SPEND_LINES}{currency}", 1)
    return record_id, record
