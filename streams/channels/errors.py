"""Errors of channel classification."""

from __future__ import annotations

from schemas.errors import LeadroiError


class InvalidRuleSet(LeadroiError):
    """A channel rule file that does not follow the rule-set format.

    Operator action: fix the file named in the message; leadroi keeps no partial
    rule set, so nothing is classified with it until it loads.
    """


class MissingReferrerData(LeadroiError):
    """A vendored referrer data file that is absent or unreadable.

    Operator action: reinstall leadroi or run ``leadroi channels refresh``.
    """
