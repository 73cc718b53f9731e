"""Query strings and URLs as browsers and ad platforms really send them.

Every value is percent-decoded exactly once. A value that is still a complete
percent-encoding after that (a redirector encoded it twice) is recognised, decoded
one more layer and flagged, never decoded blindly. ``+`` means a space only in
form-encoded text (query strings and fragment tags), never in values that arrive
already decoded. Bytes that are not UTF-8 are read as Windows-1252 and flagged.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

ENCODING_FALLBACK = "encoding_fallback"
DOUBLE_ENCODED = "double_encoded"
DUPLICATE_KEYS = "duplicate_keys"
HTML_ESCAPED_QUERY = "html_escaped_query"
FRAGMENT_TAGS = "fragment_tags"
HASH_ROUTE_TAGS = "hash_route_tags"
UNPARSABLE_URL = "unparsable_url"
URL_TRUNCATED = "url_truncated"

# What a touch keeps of its landing URL for display; parameters are always read
# from the whole URL first.
MAX_STORED_URL_CHARS = 2048

_ESCAPE = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_TAG_PREFIX = "utm_"


@dataclass(frozen=True)
class Decoded:
    text: str
    flags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Params:
    """Query parameters by lower-cased name; the first occurrence of a name wins."""

    values: dict[str, str]
    flags: frozenset[str] = frozenset()

    def has_tags(self) -> bool:
        return any(key.startswith(_TAG_PREFIX) for key in self.values)


@dataclass(frozen=True)
class UrlParts:
    host: str
    params: dict[str, str]
    flags: frozenset[str] = frozenset()


def _windows_1252(raw: bytes) -> str:
    # Five bytes are undefined in Windows-1252; browsers map them to the
    # Latin-1 code points, and so do we.
    return "".join(
        bytes([byte]).decode("cp1252", errors="ignore") or chr(byte) for byte in raw
    )


def _decode_runs(text: str) -> Decoded:
    flags: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        raw = bytes.fromhex(match.group(0).replace("%", ""))
        pieces: list[str] = []
        while raw:
            try:
                pieces.append(raw.decode("utf-8"))
                break
            except UnicodeDecodeError as exc:
                flags.add(ENCODING_FALLBACK)
                pieces.append(raw[: exc.start].decode("utf-8"))
                pieces.append(_windows_1252(raw[exc.start : exc.end]))
                raw = raw[exc.end :]
        return "".join(pieces)

    return Decoded(_ESCAPE.sub(replace, text), frozenset(flags))


def _still_encoded(text: str) -> bool:
    if not _ESCAPE.search(text) or _STRAY_PERCENT.search(text):
        return False
    try:
        for match in _ESCAPE.finditer(text):
            bytes.fromhex(match.group(0).replace("%", "")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def percent_decode(text: str, *, form: bool) -> Decoded:
    """Decode one layer of percent-encoding, and a second one only when the first
    left a complete, valid UTF-8 encoding behind (a value encoded twice)."""
    once = _decode_runs(text.replace("+", " ") if form else text)
    flags = set(once.flags)
    value = once.text

    if _still_encoded(value):
        value = _decode_runs(value.replace("+", " ") if form else value).text
        flags.add(DOUBLE_ENCODED)
    return Decoded(unicodedata.normalize("NFC", value), frozenset(flags))


def parse_params(query: str) -> Params:
    """Form-encoded ``a=1&b=2`` into values keyed by trimmed, lower-cased name."""
    values: dict[str, str] = {}
    flags: set[str] = set()

    for part in query.split("&"):
        if not part:
            continue
        raw_key, _, raw_value = part.partition("=")
        key = percent_decode(raw_key, form=True).text.strip().lower()
        if key.startswith("amp;"):
            # A URL copied out of HTML keeps its escaped ampersands.
            key = key[4:]
            flags.add(HTML_ESCAPED_QUERY)
        if not key:
            continue
        if key in values:
            flags.add(DUPLICATE_KEYS)
            continue
        decoded = percent_decode(raw_value, form=True)
        values[key] = decoded.text
        flags |= decoded.flags
    return Params(values, frozenset(flags))


def _split(url: str) -> SplitResult | None:
    text = url.strip()
    if text and "://" not in text and not text.startswith("//"):
        # Referrers logged without a scheme, such as ``www.google.com/``.
        text = f"//{text}"
    try:
        return urlsplit(text)
    except ValueError:
        return None


def _fragment_params(fragment: str) -> tuple[Params, str]:
    if "?" in fragment:
        return parse_params(fragment.partition("?")[2]), HASH_ROUTE_TAGS
    if "=" in fragment:
        return parse_params(fragment), FRAGMENT_TAGS
    return Params({}), ""


def host_of(url: str) -> str:
    """The lower-cased host of a URL in its ASCII (IDNA) form, or ``""``."""
    parts = _split(url)
    if parts is None:
        return ""
    try:
        host = parts.hostname or ""
    except ValueError:
        return ""
    host = host.rstrip(".").lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def parse_url(url: str) -> UrlParts:
    """Host and parameters of a whole URL; fragment tags count only when the
    query string carries no ``utm_*`` key."""
    parts = _split(url)
    if parts is None:
        return UrlParts("", {}, frozenset({UNPARSABLE_URL}))

    query = parse_params(parts.query)
    params = dict(query.values)
    flags = set(query.flags)
    if not query.has_tags() and parts.fragment:
        fragment, flag = _fragment_params(parts.fragment)
        if fragment.has_tags():
            for key, value in fragment.values.items():
                params.setdefault(key, value)
            flags |= fragment.flags | {flag}
    return UrlParts(host_of(url), params, frozenset(flags))


def shorten_url(url: str, limit_chars: int = MAX_STORED_URL_CHARS) -> tuple[str, bool]:
    """The URL as stored for display, and whether it had to be cut."""
    if len(url) <= limit_chars:
        return url, False
    return url[:limit_chars], True
