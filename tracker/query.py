"""Query strings as bytes: decoded exactly once, re-encoded without loss.

In a query string ``+`` is a space and ``%2B`` a literal plus. Decoding each pair
to bytes and encoding it again with ``quote_plus`` keeps both apart, keeps bytes
that are not UTF-8, and escapes anything a header must not carry.
"""

from __future__ import annotations

from urllib.parse import quote_plus, unquote_to_bytes, urlsplit, urlunsplit

# One pair of a query string; the value is None for a bare ``key`` without ``=``.
Pair = tuple[bytes, bytes | None]


def _unquote_plus(text: str) -> bytes:
    return unquote_to_bytes(text.replace("+", " "))


def split_query(raw: str) -> list[Pair]:
    """Split a raw (still percent-encoded) query into decoded pairs, in order."""
    pairs: list[Pair] = []
    for piece in raw.split("&"):
        if not piece:
            continue
        key, equals, value = piece.partition("=")
        pairs.append((_unquote_plus(key), _unquote_plus(value) if equals else None))
    return pairs


def join_query(pairs: list[Pair]) -> str:
    """Encode pairs so that one decoding at the destination gives them back."""
    return "&".join(
        quote_plus(key) if value is None else f"{quote_plus(key)}={quote_plus(value)}"
        for key, value in pairs
    )


def text_of(raw: bytes) -> str:
    """UTF-8 text; bytes that are not UTF-8 are read as Windows-1252, the usual
    encoding of legacy campaign tags, and as Latin-1 where that fails too."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def params_of(pairs: list[Pair]) -> dict[str, str]:
    """Parameter name (lower-cased) -> text of its first value."""
    params: dict[str, str] = {}
    for key, value in pairs:
        params.setdefault(text_of(key).lower(), text_of(value or b""))
    return params


def append_query(target: str, raw_query: str) -> str:
    """``target`` with the pairs of ``raw_query`` added to its own query, before
    its fragment."""
    extra = join_query(split_query(raw_query))
    if not extra:
        return target
    parts = urlsplit(target)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))
