"""A lead's path record and Markov inputs, from its journey state."""

from __future__ import annotations

from typing import Any

from streams.config import Settings
from streams.journey import apply
from streams.lead_paths import lead_markov, path_label
from streams.ledger import Cell, Record, totals

DAY_MS = 86_400_000
SETTINGS = Settings(deal_lookback_days=0)


def _touch(eid: str, day: int, channel: str) -> dict[str, Any]:
    return {
        "kind": "touch",
        "id": eid,
        "t": day * DAY_MS,
        "channel": channel,
        "source": channel.lower(),
        "medium": "m",
        "campaign": "(not set)",
        "ruleset": "test",
    }


def _deal(
    deal_id: str,
    day: int,
    status: str = "won",
    amount_minor: int = 500,
    currency: str = "USD",
) -> dict[str, Any]:
    return {
        "kind": "deal",
        "id": f"e-{deal_id}-{status}",
        "t": day * DAY_MS,
        "revision": 0,
        "deal_id": deal_id,
        "status": status,
        "amount_minor": amount_minor,
        "currency": currency,
        "closed": day * DAY_MS,
    }


def _state(*items: dict[str, Any]) -> dict[str, Any]:
    state: dict[str, Any] | None = None
    for item in items:
        state = apply(state, item)
    assert state is not None
    return state


def _paths(record: Record) -> dict[tuple[str, str], int]:
    """(path label, metric) -> amount, all time."""
    return {
        (c.value, c.metric): amount
        for c, amount in totals([record]).items()
        if c.day == "all"
    }


def test_lead_markov_won_deal_and_later_touches_conversion_and_null() -> None:
    state = _state(
        _touch("t1", 1, "A"),
        _touch("t2", 2, "A"),
        _touch("t3", 3, "B"),
        _deal("D1", 4),
        _touch("t4", 5, "C"),
    )

    record_id, record, _ = lead_markov("L1", state, SETTINGS)

    assert record_id == "paths|L1"
    assert _paths(record) == {
        (path_label(["A", "B"]), "conversions"): 1,
        (path_label(["A", "B"]), "value:USD"): 500,
        (path_label(["C"]), "nulls"): 1,
    }


def test_lead_markov_open_journey_converting_moves_from_nulls() -> None:
    items = [_touch("t1", 1, "A"), _touch("t2", 2, "B")]
    before = lead_markov("L1", _state(*items), SETTINGS)[1]
    after = lead_markov(
        "L1", _state(*items, _deal("D1", 3, amount_minor=900)), SETTINGS
    )[1]

    # Records replace: what the sink applies is the difference.
    applied = totals([after, {c: -a for c, a in before.items()}])

    label = path_label(["A", "B"])
    assert _paths(before) == {(label, "nulls"): 1}
    assert _paths(after) == {(label, "conversions"): 1, (label, "value:USD"): 900}
    assert applied[Cell("markov_paths", "path", "all", label, "nulls")] == -1


def test_lead_markov_lost_deal_keeps_journey_open() -> None:
    state = _state(
        _touch("t1", 1, "A"), _deal("D1", 2, status="lost"), _touch("t2", 3, "B")
    )

    _, record, inputs = lead_markov("L1", state, SETTINGS)

    assert _paths(record) == {(path_label(["A", "B"]), "nulls"): 1}
    assert [(i.metric, i.value_minor) for i in inputs] == [("lost", 0)]


def test_lead_markov_second_won_deal_path_starts_after_first() -> None:
    state = _state(
        _touch("t1", 1, "A"),
        _deal("D1", 2),
        _touch("t2", 3, "B"),
        _touch("t3", 4, "A"),
        _deal("D2", 5, amount_minor=100),
    )

    _, record, inputs = lead_markov("L1", state, SETTINGS)

    assert _paths(record) == {
        (path_label(["A"]), "conversions"): 1,
        (path_label(["A"]), "value:USD"): 500,
        (path_label(["B", "A"]), "conversions"): 1,
        (path_label(["B", "A"]), "value:USD"): 100,
    }
    assert [[t[0] for t in i.touches] for i in inputs] == [["A"], ["B", "A"]]


def test_lead_markov_inputs_keep_every_touch_and_lead_creation() -> None:
    state = _state(
        _touch("t2", 2, "B"),
        _touch("t1", 1, "A"),
        _touch("t3", 2, "B"),
        {"kind": "identify", "id": "i1", "t": 2 * DAY_MS},
        _deal("D1", 6, amount_minor=1234, currency="EUR"),
    )

    _, _, inputs = lead_markov("L1", state, SETTINGS)

    lead, won = inputs
    assert (lead.conversion_id, lead.metric, lead.day) == (
        "lead:L1",
        "leads",
        "1970-01-03",
    )
    assert [t[0] for t in lead.touches] == [
        "A",
        "B",
        "B",
    ]  # repeats kept: spread per touch
    assert (won.metric, won.value_minor, won.currency) == ("won", 1234, "EUR")
    assert won.touches[0] == ("A", "a", "m", "(not set)")


def test_lead_markov_deal_before_any_touch_no_path() -> None:
    state = _state(_deal("D1", 1), _touch("t1", 2, "A"))

    _, record, inputs = lead_markov("L1", state, SETTINGS)

    assert _paths(record) == {(path_label(["A"]), "nulls"): 1}
    assert inputs[0].touches == ()


def test_path_label_channel_with_separator_round_trips() -> None:
    from streams.lead_paths import path_of_label

    assert path_of_label(path_label(["a > b", "c"])) == ("a > b", "c")
