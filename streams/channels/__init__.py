"""Channel grouping: which source, medium and channel a touch belongs to."""

from streams.channels.classify import (
    EXCLUDED_BOT,
    EXCLUDED_OWN_DOMAIN,
    EXCLUDED_PAYMENT,
    EXCLUDED_SIGN_IN,
    EXCLUDED_SPAM,
    Classification,
    Classifier,
    classify,
    default_classifier,
)
from streams.channels.rules import RuleSet, default_ruleset, load_ruleset

__all__ = [
    "EXCLUDED_BOT",
    "EXCLUDED_OWN_DOMAIN",
    "EXCLUDED_PAYMENT",
    "EXCLUDED_SIGN_IN",
    "EXCLUDED_SPAM",
    "Classification",
    "Classifier",
    "RuleSet",
    "classify",
    "default_classifier",
    "default_ruleset",
    "load_ruleset",
]
