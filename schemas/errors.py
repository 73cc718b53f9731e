"""The root of every leadroi error, and the contract errors."""

from __future__ import annotations

from dataclasses import dataclass


class LeadroiError(Exception):
    """Root of every error leadroi raises on purpose.

    ``retryable`` tells a caller whether the same input may succeed later (a broker
    that is down) or never will (a malformed event).
    """

    retryable = False


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where, and what was expected."""

    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


class InvalidEvent(LeadroiError):
    """An event that breaks its contract; resending it unchanged never helps."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        text = "; ".join(f"{p.field}: {p.reason}" for p in problems)
        super().__init__(text or "invalid event")
