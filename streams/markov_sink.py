"""Redis glue of the Markov model: workers' inputs in, the leader's generations out.

Workers keep each lead's ``MarkovInput`` list in one field of one hash, replaced
whole, so a lead never leaves a stale conversion behind. Path counts need no
glue of their own: they are records, applied by ``streams.sink``.

The leader reads the all-time path counts and every input, computes a
generation (``streams.markov_credits``) off the event loop, and writes its
hashes under staged keys. One script then renames them over the live aggregate
keys, deletes the live keys the new generation no longer has, and stores the
model: a reader sees the previous generation or the new one, never a mix. A
staged key expires, so a leader that dies mid-write leaves nothing for good.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Sequence

import orjson
import redis.asyncio as aioredis

from schemas.names import SEP, Names
from streams.lead_paths import PATH_DIMENSION, MarkovInput
from streams.ledger import ALL_TIME
from streams.markov_credits import Generation, generation
from streams.roi import PATHS_SCOPE

log = logging.getLogger(__name__)

STAGED_TTL_S = 3600
WRITE_BATCH = 5000
SCAN_BATCH = 1000

# KEYS: the live-keys set, the model key, the scopes set. ARGV: the model JSON,
# a JSON list of the generation's scopes, then staged key / live key pairs.
SWAP_GENERATION = """
for i = 3, #ARGV, 2 do
  if redis.call('EXISTS', ARGV[i]) == 0 then
    return redis.error_reply('staged key ' .. ARGV[i] .. ' is gone')
  end
end
local live = {}
for i = 3, #ARGV, 2 do
  redis.call('RENAME', ARGV[i], ARGV[i + 1])
  redis.call('PERSIST', ARGV[i + 1])
  live[ARGV[i + 1]] = true
end
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if not live[key] then redis.call('DEL', key) end
end
redis.call('DEL', KEYS[1])
for key, _ in pairs(live) do redis.call('SADD', KEYS[1], key) end
for _, scope in ipairs(cjson.decode(ARGV[2])) do redis.call('SADD', KEYS[3], scope) end
redis.call('SET', KEYS[2], ARGV[1])
return (#ARGV - 2) / 2
"""


def encode_inputs(inputs: Sequence[MarkovInput]) -> bytes:
    return orjson.dumps(
        [[*item[:5], [list(t) for t in item.touches]] for item in inputs]
    )


def decode_inputs(raw: bytes) -> list[MarkovInput]:
    return [
        MarkovInput(
            str(cid),
            str(metric),
            str(day),
            int(value),
            str(currency),
            tuple((str(a), str(b), str(c), str(d)) for a, b, c, d in touches),
        )
        for cid, metric, day, value, currency, touches in orjson.loads(raw)
    ]


class MarkovSink:
    def __init__(self, client: aioredis.Redis, names: Names) -> None:
        self.client = client
        self.names = names
        self._swap = client.register_script(SWAP_GENERATION)

    async def put_inputs(self, lead: str, inputs: Sequence[MarkovInput]) -> None:
        key = self.names.markov_inputs_key
        if inputs:
            await self.client.hset(key, lead, encode_inputs(inputs))
        else:
            await self.client.hdel(key, lead)

    async def read(self) -> tuple[dict[tuple[str, str], int], list[MarkovInput]]:
        """The all-time path counts as (label, metric) -> amount, and every input."""
        paths_key = self.names.agg_key(PATHS_SCOPE, PATH_DIMENSION, ALL_TIME)
        fields: dict[tuple[str, str], int] = {}
        async for field, amount in self.client.hscan_iter(paths_key, count=SCAN_BATCH):
            label, _, metric = _text(field).rpartition(SEP)
            fields[label, metric] = int(amount)

        inputs: list[MarkovInput] = []
        key = self.names.markov_inputs_key
        async for _, raw in self.client.hscan_iter(key, count=SCAN_BATCH):
            inputs.extend(decode_inputs(raw))
        return fields, inputs

    async def publish(self, found: Generation, generated_at_ms: int) -> int:
        """Make ``found`` the live generation; return how many hashes it has."""
        hashes: dict[tuple[str, str, str], dict[str, int]] = {}
        for cell, amount in found.cells.items():
            if amount:
                fields = hashes.setdefault((cell.scope, cell.dimension, cell.day), {})
                fields[f"{cell.value}{SEP}{cell.metric}"] = amount

        generation_id = f"{generated_at_ms}-{uuid.uuid4().hex[:8]}"
        pairs: list[str] = []
        items = list(hashes.items())
        for start in range(0, len(items), WRITE_BATCH):
            async with self.client.pipeline(transaction=False) as pipe:
                for (scope, dimension, bucket), fields in items[
                    start : start + WRITE_BATCH
                ]:
                    staged = self.names.staged_key(
                        generation_id, scope, dimension, bucket
                    )
                    pipe.hset(staged, mapping=fields)  # type: ignore[arg-type]
                    pipe.expire(staged, STAGED_TTL_S)
                    pairs += [staged, self.names.agg_key(scope, dimension, bucket)]
                await pipe.execute()

        model = {
            "generation": generation_id,
            "generated_at_ms": generated_at_ms,
            **found.summary(),
        }
        scopes = sorted({scope for scope, _, _ in hashes})
        keys = [self.names.markov_keys_key, self.names.markov_model_key]
        keys.append(self.names.scopes_key)
        await self._swap(
            keys=keys, args=[orjson.dumps(model), orjson.dumps(scopes), *pairs]
        )
        return len(hashes)


async def refresh(sink: MarkovSink, order: int) -> Generation:
    """Read what the workers wrote, compute a generation and make it live."""
    started_ms = int(time.time() * 1000)
    fields, inputs = await sink.read()
    # A generation over many journeys takes CPU time that the agents sharing
    # this event loop must not wait for.
    found = await asyncio.to_thread(generation, fields, inputs, order)
    hashes = await sink.publish(found, started_ms)
    log.info(
        "markov generation at %d: %d paths, %d conversions, %d hashes in %d ms",
        started_ms,
        found.paths,
        found.conversions,
        hashes,
        int(time.time() * 1000) - started_ms,
    )
    return found


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
