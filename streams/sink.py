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

# KEYS: record keys, then the set of scopes. ARGV: the new records, one per record
# key, each a JSON list of [day key, all-time key, field, "integer", scope].
# Returns, per record, how many cells changed (0: the record was already applied).
APPLY_RECORDS = """
local function cell_id(c) return c[1] .. '\\31' .. c[3] end
local records = #KEYS - 1
local news, scopes = {}, {}
for r = 1, records do
  news[r] = cjson.decode(ARGV[r])
  for _, c in ipairs(news[r]) do
    if not string.match(c[4], '^-?%d+$') then
      return redis.error_reply('bad increment')
    end
    scopes[c[5]] = true
  end
end
for scope, _ in pairs(scopes) do redis.call('SADD', KEYS[#KEYS], scope) end
local changes = {}
for r = 1, records do
  local cells, delta = {}, {}
  local old = redis.call('GET', KEYS[r])
  if old then
    for _, c in ipairs(cjson.decode(old)) do
      local id = cell_id(c)
      cells[id] = c
      delta[id] = (delta[id] or 0) - tonumber(c[4])
    end
  end
  for _, c in ipairs(news[r]) do
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
        if redis.call('HINCRBY', c[k], c[3], by) == 0 then
          redis.call('HDEL', c[k], c[3])
        end
      end
      changed = changed + 1
    end
  end
  if #news[r] == 0 then
    redis.call('DEL', KEYS[r])
  else
    redis.call('SET', KEYS[r], ARGV[r])
  end
  changes[r] = changed
end
return changes
"""


def encode_record(names: Names, record: Record) -> bytes:
    rows = [
        [
            names.agg_key(cell.scope, cell.dimension, cell.day),
            names.agg_key(cell.scope, cell.dimension, ALL_TIME),
            f"{cell.value}{SEP}{cell.metric}",
            str(amount),
            cell.scope,
        ]
        for cell, amount in sorted(record.items())
        if amount
    ]
    return orjson.dumps(rows)


class RedisSink:
    def __init__(self, url: str, names: Names) -> None:
        self.names = names
        self.client = aioredis.Redis.from_url(url)
        self._apply = self.client.register_script(APPLY_RECORDS)

    async def apply(self, records: Mapping[str, Record]) -> list[str]:
        """Apply records (record id → record) atomically, in one round trip.

        Returns the ids of the records that changed any figure.
        """
        if not records:
            return []
        ids = list(records)
        keys = [self.names.record_key("credit", record_id) for record_id in ids]
        keys.append(self.names.scopes_key)
        args = [encode_record(self.names, records[record_id]) for record_id in ids]
        changes = await self._apply(keys=keys, args=args)
        return [
            record_id
            for record_id, changed in zip(ids, changes, strict=True)
            if changed
        ]

    async def close(self) -> None:
        await self.client.aclose()
