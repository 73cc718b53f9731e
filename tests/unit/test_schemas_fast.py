"""The compiled check must give jsonschema's answer on every kind of input."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from schemas.fast import problems_fast
from schemas.validate import KINDS, load_schema, problems_of

VALID: dict[str, dict[str, Any]] = {
    "touch": {"type": "touch", "visitor_id": "v1", "url": "https://a.example/"},
    "identify": {"type": "identify", "visitor_id": "v1", "email": "a@b.example"},
    "call": {"type": "call", "call_id": "c-1", "caller": "+14155550111"},
    "stage": {"type": "stage", "lead_id": "L-1", "stage": "mql"},
    "deal": {
        "type": "deal",
        "deal_id": "D-1",
        "status": "won",
        "amount": "240.00",
        "currency": "USD",
    },
    "spend": {
        "type": "spend",
        "date": "2026-11-30",
        "source": "google",
        "amount_minor": 30000,
        "currency": "USD",
    },
}
ODD_VALUES: list[Any] = [
    None,
    0,
    -1,
    1.0,
    1.5,
    True,
    "",
    "x",
    "x" * 20_000,
    "٢٠٢٦-11-30T10:00:00Z",
    "2026-11-30T10:00:00+01:00",
    "2026-11-30",
    " 12.50 ",
    "12.5.0",
    "a" * 64,
    "0" * 64,
    "mql",
    "won",
    "pageview",
    [],
    {},
    {"value": 12},
]


def corpus() -> Iterator[Any]:
    """Valid events, each with one field removed or replaced, and non-events."""
    yield from [None, 1, "touch", [], {}, {"type": "nope"}, {"type": ["touch"]}]
    for kind in KINDS:
        base = VALID[kind]
        yield base
        yield {**base, "unknown_field": 1}
        for name in base:
            yield {k: v for k, v in base.items() if k != name}
        for name in load_schema(kind)["properties"]:
            for value in ODD_VALUES:
                yield {**base, name: value}


def test_fast_check_corpus_is_large_and_mixed() -> None:
    answers = [problems_of(event) == [] for event in corpus()]

    assert len(answers) > 1000
    assert 100 < sum(answers) < len(answers) - 100


@pytest.mark.parametrize("kind", KINDS)
def test_fast_check_every_variant_gives_jsonschema_answer(kind: str) -> None:
    events = [e for e in corpus() if isinstance(e, dict) and e.get("type") == kind]
    differ = [e for e in events if problems_fast(e) != problems_of(e)]

    assert differ == []
