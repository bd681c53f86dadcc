"""Redis adapter for the feature store. Key layout (docs/redis-keys.md):

features:customer:{ck}:days:{YYYYMM}  hash  DD|metric → integer (cents / counts) or "ts|value"; TTL 130 d
features:customer:{ck}:profile        hash  holdings, account types, age band, tenure, last_event_at…
features:customer:{ck}:txns           hash  transaction id → its increments (to reverse on update/delete)
features:customer:{ck}:privacy        hash  profiling_objected → "1": nothing is published while it stands
features:event:{event_id}             string  applied-marker, TTL = processed_ttl_s
features:erased:{ck}                  string  tombstone: refuse events until a new consent arrives
features:epoch                        string  epoch marker: the views are whole (prometeo.views)
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum

import orjson
import redis

from feature_store.domain.aggregation import CustomerState, Mutation, months_covering
from prometeo import keys
from prometeo.keys import FEATURES
from prometeo.views import ViewsLost

MONTH_TTL_S = 130 * 24 * 3600


class ApplyResult(IntEnum):
    VIEWS_LOST = -2
    ERASED = -1
    DUPLICATE = 0
    APPLIED = 1


# One script call applies a chunk of events, each as one atomic step: the applied-marker and the
# aggregate change land together, so a crash before the Kafka commit makes the redelivered event a
# no-op instead of a double count. A chunk per call rather than a call per event: redis-py packs each
# command in Python (~20 µs for an 11-argument EVALSHA), which was the largest cost of a poll.
# With the epoch check on (ARGV[4] = '1'), nothing is written into a wiped Redis (no marker at
# KEYS[1]): the views are rebuilt from the log first (prometeo.views), so no event is applied out of order.
# ARGV[1] processed-marker TTL, ARGV[2] month TTL, ARGV[3] JSON array of events, each
# [marker, prefix, tombstone, txn_id, mode, increments JSON, newest JSON, profile JSON, occurred_at].
_APPLY = """
local ttl, month_ttl = ARGV[1], tonumber(ARGV[2])
if ARGV[4] == '1' and redis.call('EXISTS', KEYS[1]) == 0 then return {-2} end
-- Per call, not per event: a tombstone cannot appear while the script runs, a month key touched by
-- several events needs one EXPIRE, and a customer's freshness is the newest of its applied events.
-- The state the call leaves is the one event-by-event application would leave.
local erased, touched, newest_at = {}, {}, {}
local function apply(marker, prefix, tombstone, txn_id, mode, incs_json, newest_json, profile_json, occurred)
  local gone = erased[tombstone]
  if gone == nil then
    gone = redis.call('EXISTS', tombstone) == 1
    erased[tombstone] = gone
  end
  if gone then return -1 end
  if redis.call('SET', marker, '1', 'NX', 'EX', ttl) == false then return 0 end
  local txns = prefix .. ':txns'
  local function incr(ops, sign)
    for _, op in ipairs(ops) do
      local key = prefix .. ':days:' .. op[1]
      -- %d, not tostring: Lua prints large numbers as 1e+14, which HINCRBY refuses.
      redis.call('HINCRBY', key, op[2], string.format('%d', sign * op[3]))
      touched[key] = true
    end
  end
  if txn_id ~= '' then
    if mode == 'delete' then
      local old = redis.call('HGET', txns, txn_id)
      if old then incr(cjson.decode(old), -1) end
      redis.call('HDEL', txns, txn_id)
    elseif redis.call('HSETNX', txns, txn_id, incs_json) == 1 then
      incr(cjson.decode(incs_json), 1)  -- a new transaction (the usual case): nothing to reverse
    else
      incr(cjson.decode(redis.call('HGET', txns, txn_id)), -1)
      incr(cjson.decode(incs_json), 1)
      redis.call('HSET', txns, txn_id, incs_json)
    end
  end
  if newest_json ~= '' then
    for _, op in ipairs(cjson.decode(newest_json)) do
      local key = prefix .. ':days:' .. op[1]
      local cur = redis.call('HGET', key, op[2])
      if (not cur) or tonumber(string.match(cur, '^([^|]+)')) <= tonumber(op[3]) then
        redis.call('HSET', key, op[2], op[3] .. '|' .. op[4])
        touched[key] = true
      end
    end
  end
  if profile_json ~= '' then
    for k, v in pairs(cjson.decode(profile_json)) do redis.call('HSET', prefix .. ':profile', k, v) end
  end
  if occurred ~= '' then
    local held = newest_at[prefix]
    if (not held) or tonumber(held) < tonumber(occurred) then newest_at[prefix] = occurred end
  end
  return 1
end
local results = {}
for i, e in ipairs(cjson.decode(ARGV[3])) do
  results[i] = apply(e[1], e[2], e[3], e[4], e[5], e[6], e[7], e[8], e[9])
end
for key in pairs(touched) do redis.call('EXPIRE', key, month_ttl) end
for prefix, occurred in pairs(newest_at) do
  local seen = redis.call('HGET', prefix .. ':profile', 'last_event_at')
  if (not seen) or tonumber(seen) < tonumber(occurred) then
    redis.call('HSET', prefix .. ':profile', 'last_event_at', occurred)
  end
end
return results
"""

# Everything a batch of feature vectors is computed from, in one script call: each customer's month
# hashes, profile and profiling-objection flag. A pipeline of HGETALLs costs redis-py ~20 µs of Python
# per command (packing and parsing each reply), five or six commands per customer; this is one command
# whose nested reply hiredis parses in C. ARGV[1] JSON array of months, ARGV[2..] customer prefixes.
# Reply per customer: {objected flag or false, profile pairs, one array of pairs per month}.
_LOAD = """
local months = cjson.decode(ARGV[1])
local out = {}
for i = 2, #ARGV do
  local prefix = ARGV[i]
  local row = {redis.call('HGET', prefix .. ':privacy', 'profiling_objected')}
  row[2] = redis.call('HGETALL', prefix .. ':profile')
  for j, month in ipairs(months) do row[j + 2] = redis.call('HGETALL', prefix .. ':days:' .. month) end
  out[i - 1] = row
end
return out
"""

# Events per script call: long enough to amortise the call, short enough not to stall Redis (~1-2 ms).
APPLY_CHUNK = 200


class FeatureRepository:
    def __init__(self, client: redis.Redis, processed_ttl_s: int, *, require_epoch: bool = False) -> None:
        self._redis = client
        self._processed_ttl_s = processed_ttl_s
        self._require_epoch = require_epoch
        self._apply = client.register_script(_APPLY)
        self._load = client.register_script(_LOAD)

    def apply(self, event_id: str, customer_key: str, mutation: Mutation) -> ApplyResult:
        """Apply once per event id, and never for an erased customer."""
        [result] = self.apply_many([(event_id, customer_key, mutation)])
        return result

    def apply_many(self, items: list[tuple[str, str, Mutation]]) -> list[ApplyResult]:
        """Apply a batch in one pipelined round trip; each item is still its own atomic step."""
        if not items:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for start in range(0, len(items), APPLY_CHUNK):
            chunk = [_script_item(*item) for item in items[start : start + APPLY_CHUNK]]
            self._apply(
                keys=[keys.epoch(FEATURES)],
                args=[self._processed_ttl_s, MONTH_TTL_S, orjson.dumps(chunk), "1" if self._require_epoch else "0"],
                client=pipe,
            )
        results = [ApplyResult(int(r)) for flags in pipe.execute() for r in flags]
        if ApplyResult.VIEWS_LOST in results:
            raise ViewsLost("features epoch marker missing: Redis was wiped")
        return results

    def load(self, customer_keys: list[str], as_of: datetime) -> list[CustomerState]:
        """Everything needed for the feature vectors of several customers, in one round trip."""
        return [state for state, _ in self.load_with_objection(customer_keys, as_of)]

    def load_with_objection(self, customer_keys: list[str], as_of: datetime) -> list[tuple[CustomerState, bool]]:
        """`load`, and whether each customer objects to profiling, in one script call."""
        if not customer_keys:
            return []
        months = months_covering(as_of)
        prefixes = [keys.customer(FEATURES, ck) for ck in customer_keys]
        rows = self._load(args=[orjson.dumps(months), *prefixes])
        return [
            (
                CustomerState(
                    months={m: _pairs(h) for m, h in zip(months, row[2:], strict=True)},
                    profile=_pairs(row[1]),
                ),
                row[0] == b"1",
            )
            for row in rows
        ]

    # -- objection to profiling --------------------------------------------------------------------
    def set_objection(self, customer_key: str, objected: bool) -> None:
        key = keys.customer(FEATURES, customer_key, "privacy")
        if objected:
            self._redis.hset(key, "profiling_objected", "1")
        else:
            self._redis.hdel(key, "profiling_objected")

    # -- erasure -----------------------------------------------------------------------------------
    def erase(self, customer_key: str) -> int:
        deleted = 0
        for key in self._redis.scan_iter(match=keys.customer_pattern(FEATURES, customer_key), count=500):
            deleted += self._redis.delete(key)
        self._redis.set(_tombstone(customer_key), "1")
        return deleted

    def mark_erased(self, customer_key: str) -> None:
        """Restore a tombstone (a rebuild, from customer-erasure.v1)."""
        self._redis.set(_tombstone(customer_key), "1")

    def clear_erasure(self, customer_key: str) -> None:
        """A new consent lifts the refusal that followed an erasure."""
        self._redis.delete(_tombstone(customer_key))


def _script_item(event_id: str, customer_key: str, mutation: Mutation) -> list[str]:
    return [
        keys.processed_event(FEATURES, event_id),
        keys.customer(FEATURES, customer_key),
        _tombstone(customer_key),
        mutation.transaction_id or "",
        "delete" if mutation.delete_transaction else "upsert",
        orjson.dumps(mutation.increments).decode() if mutation.increments else "[]",
        # '' for none: the script skips decoding what is empty (most events carry neither).
        orjson.dumps([[m, f, repr(ts), v] for m, f, ts, v in mutation.newest]).decode() if mutation.newest else "",
        orjson.dumps(mutation.profile).decode() if mutation.profile else "",
        "" if mutation.occurred_at is None else repr(mutation.occurred_at),
    ]


def _tombstone(customer_key: str) -> str:
    return keys.entity(FEATURES, "erased", customer_key)


def _pairs(flat: list[bytes]) -> dict[str, str]:
    """An HGETALL reply as a script returns it (a flat field, value, … array), decoded to str."""
    it = iter(flat)
    return {k.decode(): v.decode() for k, v in zip(it, it, strict=True)}
