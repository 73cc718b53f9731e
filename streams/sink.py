"""Redis glue: apply credit records to the aggregate hashes, idempotently.

Redis keeps, per record id, the record it last applied. A new record is applied
as the difference against the stored one inside one Lua script, so duplicates,
retries, replays and corrections all leave exactly one copy in the totals.

The script names aggregate keys it computes from stored records, so it needs a
single Redis node (not Redis Cluster).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import orjson
import redis.asyncio as aioredis

from schemas.names import SEP, Names
from streams.ledger import ALL_TIME, Record

log = logging.getLogger(__name__)

# KEYS[1]: the record key. ARGV[1]: the new record, a JSON list of
# [day key, all-time key, field, "integer"]. Returns how many cells changed.
APPLY_RECORD = """
local function cell_id(c) return c[1] .. '\\31' .. c[3] end
local new = cjson.decode(ARGV[1])
for _, c in ipairs(new) do
  if not string.match(c[4], '^-?%d+$') then return redis.error_reply('bad increment') end
end
local cells, delta = {}, {}
local old = redis.call('GET', KEYS[1])
if old then
  for _, c in ipairs(cjson.decode(old)) do
    local id = cell_id(c)
    cells[id] = c
    delta[id] = (delta[id] or 0) - tonumber(c[4])
  end
end
for _, c in ipairs(new) do
  local id = cell_id(c)
  cells[id] = c
  delta[id] = (delta[id] or 0) + tonumber(c[4])
end
local changed = 0
for id, d in pairs(delta) do
  if d ~= 0 then
    local c = cells[id]
    local by = string.format('%d', d)
    for k = 1, 2 do
      if redis.call('HINCRBY', c[k], c[3], by) == 0 then redis.call('HDEL', c[k], c[3]) end
    end
    changed = changed + 1
  end
end
if #new == 0 then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[1]) end
return changed
"""


def encode_record(names: Names, record: Record) -> bytes:
    rows = [
        [
            names.agg_key(cell.scope, cell.dimension, cell.day),
            names.agg_key(cell.scope, cell.dimension, ALL_TIME),
            f"{cell.value}{SEP}{cell.metric}",
            str(amount),
        ]
        for cell, amount in sorted(record.items())
        if amount
    ]
    return orjson.dumps(rows)


class RedisSink:
    def __init__(self, url: str, names: Names) -> None:
        self.names = names
        self.client = aioredis.Redis.from_url(url)
        self._apply = self.client.register_script(APPLY_RECORD)

    async def apply(self, records: Mapping[str, Record]) -> int:
        """Apply records (record id → record) in one round trip; cells changed."""
        if not records:
            return 0
        async with self.client.pipeline(transaction=False) as pipe:
            for record_id, record in records.items():
                key = self.names.record_key("credit", record_id)
                await self._apply(keys=[key], args=[encode_record(self.names, record)], client=pipe)
            results = await pipe.execute()
        return sum(int(r) for r in results)

    async def close(self) -> None:
        await self.client.aclose()
