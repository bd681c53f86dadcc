"""Token buckets in Redis, one script (one round trip) for all the buckets of a request. Key layout
(docs/redis-keys.md):

  gateway:ratelimit:{subject}   hash {tokens, ts}   TTL = time to refill completely

Time is Redis's (`TIME`), so gateway replicas with skewed clocks share one bucket. A request takes a
token from every bucket only when each has one, so a client refused by a person's bucket (or the
reverse) is not charged twice.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Sequence

import redis.asyncio as aioredis

from gateway.domain.quota import Bucket, Quota
from prometeo import keys
from prometeo.keys import GATEWAY

# ARGV: per bucket, its rate (tokens/s) and capacity. Returns
# {allowed, index of the tightest bucket (1-based), tokens left there, seconds to retry, seconds to full}.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local levels = {}
local allowed = 1
for i, key in ipairs(KEYS) do
  local rate, cap = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local state = redis.call('HMGET', key, 'tokens', 'ts')
  local tokens = tonumber(state[1]) or cap
  local ts = tonumber(state[2]) or now
  tokens = math.min(cap, tokens + math.max(0, now - ts) * rate)
  levels[i] = tokens
  if tokens < 1 then allowed = 0 end
end
local tightest, tight_level = 1, nil
for i, key in ipairs(KEYS) do
  local rate, cap = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  if allowed == 1 then levels[i] = levels[i] - 1 end
  redis.call('HSET', key, 'tokens', tostring(levels[i]), 'ts', tostring(now))
  redis.call('PEXPIRE', key, math.ceil((cap - levels[i]) / rate * 1000) + 1000)
  local share = levels[i] / cap
  if tight_level == nil or share < tight_level then tightest, tight_level = i, share end
end
local rate, cap = tonumber(ARGV[2 * tightest - 1]), tonumber(ARGV[2 * tightest])
local level = levels[tightest]
local retry = 0
if allowed == 0 then retry = (1 - level) / rate end
return {allowed, tightest, tostring(level), tostring(retry), tostring((cap - level) / rate)}
"""


class RateLimiter(abc.ABC):
    @abc.abstractmethod
    async def hit(self, buckets: Sequence[Bucket]) -> Quota:
        """Take one request from every bucket and say where the tightest one stands."""


class RedisRateLimiter(RateLimiter):
    def __init__(self, client: aioredis.Redis) -> None:
        self._take = client.register_script(_TAKE)

    async def hit(self, buckets: Sequence[Bucket]) -> Quota:
        args: list[float] = []
        for bucket in buckets:
            args += [bucket.rate_per_s, bucket.per_minute]
        allowed, index, level, retry, full = await self._take(
            keys=[keys.entity(GATEWAY, "ratelimit", b.subject) for b in buckets], args=args
        )
        tightest = buckets[int(index) - 1]
        left = math.floor(float(level))
        used = tightest.per_minute + 1 if not int(allowed) else tightest.per_minute - left
        return Quota(
            limit=tightest.per_minute,
            used=used,
            reset_s=math.ceil(float(full)),
            retry_after_s=math.ceil(float(retry)),
            policy=tightest.subject.split(":", 1)[0] if ":" in tightest.subject else "key",
        )
