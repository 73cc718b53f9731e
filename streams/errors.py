"""Errors of the domain code."""

from __future__ import annotations

from schemas.errors import LeadroiError


class UnknownCurrency(LeadroiError):
    """A currency code that ISO 4217 does not define, or that has no minor unit."""


class BadAmount(LeadroiError):
    """An amount that cannot be held exactly in the currency's minor units."""


class BadPhone(LeadroiError):
    """A phone number that cannot be read as a number of any country."""


class BadEmail(LeadroiError):
    """A value sent as an e-mail address that cannot be one."""
