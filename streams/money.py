"""Money as integer minor units plus an ISO 4217 currency code."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from iso4217 import Currency

from streams.errors import BadAmount, UnknownCurrency


def minor_exponent(currency: str) -> int:
    """Digits after the decimal point in the currency's minor unit (USD 2, JPY 0)."""
    try:
        exponent = Currency(currency.upper()).exponent
    except ValueError as exc:
        raise UnknownCurrency(
            f"currency: {currency!r} is not an ISO 4217 code; expected e.g. 'USD'"
        ) from exc
    if exponent is None:
        raise UnknownCurrency(f"currency: {currency!r} has no minor unit")
    return int(exponent)


def to_minor(amount: str | int | float, currency: str) -> int:
    """Convert a major-unit amount (``"240.00"``) to exact minor units (24000)."""
    exponent = minor_exponent(currency)
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation as exc:
        raise BadAmount(f"amount: {amount!r} is not a decimal number") from exc

    scaled = value.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise BadAmount(
            f"amount: {amount!r} has more decimals than {currency.upper()} allows"
            f" ({exponent})"
        )
    return int(scaled)


def format_minor(amount_minor: int, currency: str) -> str:
    """Render minor units as a plain decimal string in major units ("240.00")."""
    exponent = minor_exponent(currency)
    return str(
        Decimal(amount_minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))
    )
