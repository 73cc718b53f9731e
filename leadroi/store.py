"""The ROI tables in Redis as aggregate cells: reading them, and writing them.

The stream workers own the writes; ``write_cells`` adds cells the same way
(``HINCRBY`` into the same hashes) so tests and tools can lay down tables that
the read side cannot tell from the workers'.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Collection, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from schemas.errors import LeadroiError
from schemas.names import SEP, Names
from streams.config import redis_url_from_env as config_redis_url
from streams.ledger import Cell
from streams.roi import NON_MODEL_SCOPES

DEFAULT_PREFIX = "leadroi"
CONNECT_TIMEOUT_S = 2.0
SCAN_BATCH = 1000
WRITE_BATCH = 5000


class StoreUnavailable(LeadroiError):
    """Redis could not be reached or did not answer in time."""

    retryable = True


class CorruptAggregate(LeadroiError):
    """An aggregate hash field that is not ``value SEP metric`` with an integer."""


def redis_url_from_env() -> str:
    return config_redis_url()


def names_from_env() -> Names:
    return Names(prefix=os.environ.get("LEADROI_PREFIX", DEFAULT_PREFIX))


def shown_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}:***@" if parts.username else "***@"
    return urlunsplit(parts._replace(netloc=f"{user}{host}{port}"))


@dataclass(frozen=True)
class Snapshot:
    """Cells of one dimension in the asked buckets, and every scope known to
    have written aggregates, whatever the bucket."""

    cells: dict[Cell, int]
    scopes: frozenset[str]

    @property
    def models(self) -> list[str]:
        return sorted(self.scopes.difference(NON_MODEL_SCOPES))


class Store:
    def __init__(self, client: Redis, names: Names, url: str = "") -> None:
        self.client = client
        self.names = names
        self.url = url

    @classmethod
    def from_url(cls, url: str, names: Names) -> Store:
        client = Redis.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
        )
        return cls(client, names, url)

    async def aclose(self) -> None:
        await self.client.aclose()

    @asynccontextmanager
    async def _reaching(self) -> AsyncIterator[None]:
        try:
            yield
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise StoreUnavailable(
                f"redis: cannot reach {shown_url(self.url) or 'the server'} ({exc});"
                " expected a running Redis server at LEADROI_REDIS_URL"
            ) from exc

    async def ping(self) -> None:
        async with self._reaching():
            await self.client.ping()

    async def _scopes(self, dimension: str) -> frozenset[str]:
        # The scopes set spares a SCAN, whose cost grows with every key in the
        # database (de-duplication records included), not with the tables.
        listed = await self.client.smembers(self.names.scopes_key)
        if listed:
            return frozenset(str(m) for m in listed).union(NON_MODEL_SCOPES)

        pattern = self.names.agg_pattern("*", dimension)
        found = set()
        async for key in self.client.scan_iter(pattern, SCAN_BATCH):
            parts = self.names.agg_parts(str(key))
            if parts and parts[1] == dimension:
                found.add(parts[0])
        return frozenset(found)

    async def snapshot(self, dimension: str, buckets: Collection[str]) -> Snapshot:
        """The dimension's hashes in ``buckets`` for every scope, in one round
        trip after the scopes are known."""
        async with self._reaching():
            scopes = await self._scopes(dimension)
            wanted = [(scope, bucket) for scope in sorted(scopes) for bucket in buckets]
            async with self.client.pipeline(transaction=False) as pipe:
                for scope, bucket in wanted:
                    pipe.hgetall(self.names.agg_key(scope, dimension, bucket))
                hashes = await pipe.execute()

        cells: dict[Cell, int] = {}
        for (scope, bucket), fields in zip(wanted, hashes, strict=True):
            key = self.names.agg_key(scope, dimension, bucket)
            for field, text in fields.items():
                value, metric, amount = _parsed(key, field, text)
                cells[Cell(scope, dimension, bucket, value, metric)] = amount
        return Snapshot(cells, scopes)

    async def models(self) -> list[str]:
        """Models with figures, judged by the channel tables that every write
        touches."""
        async with self._reaching():
            scopes = await self._scopes("channel")
        return sorted(scopes.difference(NON_MODEL_SCOPES))

    async def claim_alert(self, alert_key: str, ttl_s: int) -> bool:
        """Mark an alert as sent; False when it already was. The mark lasts
        ``ttl_s``, longer than any day stays judged."""
        async with self._reaching():
            claimed = await self.client.set(
                self.names.alert_sent_key(alert_key), "1", nx=True, ex=ttl_s
            )
        return bool(claimed)

    async def release_alert(self, alert_key: str) -> None:
        """Forget that an alert was sent, so that the next round sends it."""
        async with self._reaching():
            await self.client.delete(self.names.alert_sent_key(alert_key))

    async def markov_model(self) -> dict[str, Any] | None:
        """The live Markov generation: when it was computed (``generated_at_ms``,
        inputs read at or after it), its order and removal effects; None before
        the first one."""
        async with self._reaching():
            raw = await self.client.get(self.names.markov_model_key)
        if raw is None:
            return None
        model: dict[str, Any] = orjson.loads(raw)
        return model

    async def write_cells(self, cells: Mapping[Cell, int]) -> None:
        """Add ``cells`` to the aggregate hashes and list their scopes, as the
        stream workers do."""
        items = list(cells.items())
        scopes = {cell.scope for cell in cells}.difference(NON_MODEL_SCOPES)
        async with self._reaching():
            for start in range(0, len(items), WRITE_BATCH):
                async with self.client.pipeline(transaction=False) as pipe:
                    for cell, amount in items[start : start + WRITE_BATCH]:
                        key = self.names.agg_key(cell.scope, cell.dimension, cell.day)
                        pipe.hincrby(key, f"{cell.value}{SEP}{cell.metric}", amount)
                    await pipe.execute()
            if scopes:
                await self.client.sadd(self.names.scopes_key, *sorted(scopes))


def _parsed(key: str, field: str, text: str) -> tuple[str, str, int]:
    """``(value, metric, amount)`` of one aggregate hash field."""
    value, sep, metric = field.rpartition(SEP)
    try:
        amount = int(text)
    except ValueError:
        amount = None
    if not sep or amount is None:
        raise CorruptAggregate(
            f"{key} field {field!r}: {text!r} is not an integer under"
            " 'value<US>metric'; expected what the stream workers write"
        )
    return value, metric, amount
