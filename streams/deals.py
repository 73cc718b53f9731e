"""A deal's revisions: when it was sold, for how much, and what was refunded when.

Every deal event is the deal as the CRM sees it at ``occurred_at``; the revision
with the latest ``(occurred_at, revision, event id)`` gives the status, amount and
currency. The earlier revisions still decide two things, so a lead's state keeps
them all (``REVISIONS``):

- The closing time: the ``closed_at`` last given while the deal had its current
  status, else the first time it was seen in that status. A refund or a
  correction sent weeks later without ``closed_at`` leaves the sale on its day.
- Refunds: ``refunded_minor`` is what was refunded so far, never more than the
  amount sold. A revision that leaves it out keeps the earlier one's, so a later
  correction of the amount does not cancel a refund. A refund counts on the day
  of the revision that raised it; a revision that lowers it gives back on its day.

Everything here is a function of the set of revisions, never of arrival order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from streams.attribution import Shares, split
from streams.times import day_of_ms

REVISIONS = "deal_revisions"  # lead state key: deal id → event id → deal item
WON = "won"

Item = Mapping[str, Any]


def revision_key(item: Item) -> tuple[int, int, str]:
    """The order of a deal's revisions: time, then revision number, then id."""
    return (item["t"], item.get("revision", 0), item["id"])


def remember(state: MutableMapping[str, Any], item: Item) -> None:
    """Keep ``item`` among its deal's revisions in the lead's ``state``."""
    revisions = state.setdefault(REVISIONS, {}).setdefault(item["deal_id"], {})
    kept = revisions.get(item["id"])
    # The same event sent again later keeps the time it was first sent at, so a
    # webhook retried days after a refund does not move the refund.
    if kept is None or revision_key(item) < revision_key(kept):
        revisions[item["id"]] = dict(item)


@dataclass(frozen=True)
class Deal:
    """One deal as its revisions make it."""

    deal_id: str
    status: str
    amount_minor: int
    currency: str
    closed_ms: int
    # (occurred_at_ms, refunded so far) of every won revision, oldest first.
    refunded: tuple[tuple[int, int], ...] = ()

    def refunded_by_day(self, zone: ZoneInfo) -> list[tuple[str, int]]:
        """The amount refunded so far at the end of each day it changed, capped
        at the amount sold."""
        by_day: dict[str, int] = {}
        for occurred_at_ms, refunded_minor in self.refunded:
            by_day[day_of_ms(occurred_at_ms, zone)] = min(
                refunded_minor, self.amount_minor
            )

        changes: list[tuple[str, int]] = []
        previous = 0
        for day, refunded_minor in by_day.items():
            if refunded_minor != previous:
                changes.append((day, refunded_minor))
                previous = refunded_minor
        return changes


def _closed_ms(history: Sequence[Item], status: str) -> int:
    in_status = [item for item in history if item["status"] == status]
    given = [item["closed"] for item in in_status if item.get("closed_given", True)]
    if given:
        return int(given[-1])
    return int(in_status[0]["t"])


def _refunded(history: Sequence[Item]) -> tuple[tuple[int, int], ...]:
    steps = []
    refunded_minor = 0
    for item in history:
        if item["status"] != WON:
            continue
        if item.get("refunded_minor") is not None:
            refunded_minor = int(item["refunded_minor"])
        steps.append((int(item["t"]), refunded_minor))
    return tuple(steps)


def deal_of(history: Sequence[Item]) -> Deal:
    """The deal that a non-empty list of its revisions makes."""
    ordered = sorted(history, key=revision_key)
    latest = ordered[-1]
    return Deal(
        deal_id=latest["deal_id"],
        status=latest["status"],
        amount_minor=int(latest["amount_minor"]),
        currency=latest["currency"],
        closed_ms=_closed_ms(ordered, latest["status"]),
        refunded=_refunded(ordered),
    )


def deals_of(state: Mapping[str, Any]) -> Iterator[Deal]:
    """A lead's deals in closing order.

    ``state["deals"]`` holds each deal's latest revision; it joins the kept
    revisions, so a state written before revisions were kept still reads.
    """
    kept = state.get(REVISIONS, {})
    deals = []
    for deal_id, latest in state["deals"].items():
        history = {**kept.get(deal_id, {})}
        history.setdefault(latest["id"], latest)
        deals.append(deal_of(list(history.values())))
    yield from sorted(deals, key=lambda deal: (deal.closed_ms, deal.deal_id))


def refund_split(
    sold_minor: Sequence[int], refunded_by_day: Sequence[tuple[str, int]]
) -> list[tuple[str, list[int]]]:
    """Each day's refund per touch, in the proportions of ``sold_minor``.

    ``sold_minor`` is what each touch was credited of the sale. The refunded
    amount so far is split over those amounts by largest remainder, which gives
    every touch at most what it sold and, for a full refund, exactly that; a
    day's refund per touch is the change of that split since the day before, so
    the days add up to the split of the total.
    """
    total_minor = sum(sold_minor)
    if total_minor <= 0:
        return []
    weights = Shares(tuple(sold_minor), total_minor)

    days: list[tuple[str, list[int]]] = []
    before = [0] * len(sold_minor)
    for day, refunded_minor in refunded_by_day:
        now = split(min(refunded_minor, total_minor), weights)
        days.append((day, [n - b for n, b in zip(now, before, strict=True)]))
        before = now
    return days
