"""From a valid input event to the form that travels on Kafka.

Raw e-mail addresses and phone numbers are replaced by keyed hashes here (phones
in E.164 first, so every way of writing a number hashes alike), amounts become
integer minor units, and CRM events get an id derived from their natural key
when the sender gave none, so a resent webhook is recognised.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

import phonenumbers

from schemas.errors import InvalidEvent, Problem
from schemas.validate import SCHEMA_VERSION
from streams.bots import is_bot
from streams.errors import BadAmount, BadEmail, BadPhone, UnknownCurrency
from streams.journey import lead_key
from streams.money import format_minor, to_minor
from streams.times import iso_of_ms, parse_ms

PII_FIELDS = {"email": "email_hash", "phone": "phone_hash", "caller": "caller_hash"}
REFUNDED = "refunded_amount_minor"
MONEY_FIELDS = ("amount", "refunded_amount")  # major units; each has a *_minor twin
# Kinds a browser sends, which carry its user agent and a bot flag.
BROWSER_KINDS = ("touch", "identify")
# Our own call-tracking numbers: not personal, kept readable.
NUMBER_FIELDS = ("tracking_number",)
DEFAULT_PHONE_REGION = "US"


def normalise_email(email: str) -> str:
    """Trimmed and lower-cased; BadEmail when it cannot be an address."""
    clean = email.strip().lower()
    local, at, domain = clean.rpartition("@")
    if not (at and local and domain and " " not in clean):
        raise BadEmail(f"{email[:60]!r} is not an e-mail address like name@example.com")
    return clean


def normalise_phone(phone: str, region: str = DEFAULT_PHONE_REGION) -> str:
    """The E.164 form of ``phone``; a number without a country code is read as a
    number of ``region`` (ISO 3166 alpha-2). Raises BadPhone."""
    expected = f"expected E.164 (+14155550111) or a number of region {region!r}"
    try:
        parsed = phonenumbers.parse(phone, region.upper() or None)
    except phonenumbers.NumberParseException as exc:
        raise BadPhone(f"{phone[:40]!r} is not a phone number; {expected}") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise BadPhone(f"{phone[:40]!r} has no possible length; {expected}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _withheld(caller: str) -> bool:
    # Call-tracking providers report a hidden caller id as "anonymous",
    # "restricted" and the like: a call without a number, not a bad call.
    return not any(ch.isdigit() for ch in caller)


def keyed_hash(value: str, key: bytes) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def _natural_id(event: Mapping[str, Any]) -> str | None:
    kind = event["type"]
    if kind == "deal":
        parts = [
            event["deal_id"],
            event["status"],
            str(event.get("amount_minor")),
            str(event.get("currency")),
            str(event.get("closed_at")),
            str(event.get("revision")),
        ]
        if event.get(REFUNDED) is not None:
            # Only when present, so deals sent before refunds existed keep their ids.
            parts.append(f"refunded={event[REFUNDED]}")
    elif kind == "call":
        parts = [event["call_id"]]
    elif kind == "spend":
        parts = [
            event["date"],
            event["source"],
            str(event.get("medium")),
            str(event.get("campaign")),
            str(event["amount_minor"]),
            event["currency"],
        ]
    elif kind == "stage":
        parts = [str(lead_key(event)), event["stage"]]
    else:
        return None
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f"{kind}:{digest}"


def _hash_pii(out: dict[str, Any], hash_key: bytes, phone_region: str) -> None:
    problems = []
    for raw, hashed in PII_FIELDS.items():
        value = out.pop(raw, None)
        if not value or (raw == "caller" and _withheld(value)):
            continue
        try:
            clean = (
                normalise_email(value)
                if raw == "email"
                else normalise_phone(value, phone_region)
            )
        except (BadPhone, BadEmail) as exc:
            problems.append(Problem(raw, str(exc)))
            continue
        if clean:
            out[hashed] = keyed_hash(clean, hash_key)
    for name in NUMBER_FIELDS:
        if out.get(name):
            try:
                out[name] = normalise_phone(out[name], phone_region)
            except BadPhone as exc:
                problems.append(Problem(name, str(exc)))
    if problems:
        raise InvalidEvent(problems)


def _minor(field: str, amount: str | int, currency: str) -> int:
    try:
        return to_minor(amount, currency)
    except (BadAmount, UnknownCurrency) as exc:
        bad = "currency" if isinstance(exc, UnknownCurrency) else field
        raise InvalidEvent([Problem(bad, str(exc).split(": ", 1)[-1])]) from exc


def _deal_money_problems(
    deal: Mapping[str, Any], sent: Mapping[str, Any]
) -> list[Problem]:
    """What is wrong with a deal's amounts, each under the field that was sent."""
    amount_field = "amount" if "amount" in sent else "amount_minor"
    refund_field = "refunded_amount" if "refunded_amount" in sent else REFUNDED
    amount_minor = int(deal.get("amount_minor", 0))
    refunded_minor = deal.get(REFUNDED)

    if deal["status"] == "won" and amount_minor < 0:
        reason = "negative amount on a won deal; send a refund instead"
        return [Problem(amount_field, reason)]
    if refunded_minor is None:
        return []
    if deal["status"] != "won":
        reason = f"a refund needs a won deal; status is {deal['status']!r}"
        return [Problem(refund_field, reason)]
    if "amount_minor" not in deal:
        reason = "missing; a refund is sent with the deal's amount, as every revision"
        return [Problem("amount", reason)]
    if refunded_minor > amount_minor:
        refunded, sold = (
            format_minor(m, deal["currency"]) for m in (refunded_minor, amount_minor)
        )
        reason = (
            f"{refunded} is more than the amount sold, {sold}; expected the amount"
            " refunded so far, sent with the deal's amount"
        )
        return [Problem(refund_field, reason)]
    return []


def _spend_problems(spend: Mapping[str, Any], sent: Mapping[str, Any]) -> list[Problem]:
    problems = []
    try:
        date.fromisoformat(spend["date"])
    except ValueError:
        problems.append(Problem("date", f"{spend['date']!r} is not a calendar day"))
    if int(spend["amount_minor"]) < 0:
        field = "amount" if "amount" in sent else "amount_minor"
        reason = "negative spend; send the day's corrected total instead"
        problems.append(Problem(field, reason))
    return problems


def normalise(
    event: Mapping[str, Any],
    received_at_ms: int,
    hash_key: bytes,
    phone_region: str = DEFAULT_PHONE_REGION,
) -> dict[str, Any]:
    """Return the wire form of a schema-valid event; raise InvalidEvent for bad
    money or a phone number that cannot be read."""
    out = dict(event)
    out["schema_version"] = SCHEMA_VERSION
    out["received_at"] = iso_of_ms(received_at_ms)
    out["occurred_at"] = (
        iso_of_ms(parse_ms(out["occurred_at"]))
        if out.get("occurred_at")
        else out["received_at"]
    )
    _hash_pii(out, hash_key, phone_region)
    if out["type"] in BROWSER_KINDS:
        # Decided once, here, so every consumer of the topic agrees on it and
        # a later change of the crawler list does not rewrite history.
        out["is_bot"] = bool(out.get("is_bot")) or is_bot(out.get("user_agent", ""))

    for field in MONEY_FIELDS:
        if field in out:
            out[f"{field}_minor"] = _minor(field, out.pop(field), out["currency"])
    if "currency" in out:
        out["currency"] = str(out["currency"]).upper()
    if out["type"] == "deal":
        problems = _deal_money_problems(out, sent=event)
        if problems:
            raise InvalidEvent(problems)
    if out["type"] == "spend":
        problems = _spend_problems(out, sent=event)
        if problems:
            raise InvalidEvent(problems)

    out["event_id"] = str(out.get("event_id") or _natural_id(out) or uuid.uuid4())
    return out


def partition_key(event: Mapping[str, Any]) -> str:
    """The Kafka key: visitor for browser events, lead (or deal) for CRM events."""
    kind = event["type"]
    if kind in ("touch", "identify") and event.get("visitor_id"):
        return str(event["visitor_id"])
    if kind == "spend":
        return str(event["source"]).strip().lower()
    return lead_key(event) or f"deal:{event.get('deal_id') or event['event_id']}"
