"""Per-key request counting in Redis. Key layout (docs/redis-keys.md):

  gateway:ratelimit:{actor}   string  requests in the current window; TTL = the window (60 s)

The window opens at a key's first request and is timed by Redis, so gateway replicas with
skewed clocks still share one count.
"""

from __future__ import annotations

import abc

import redis.asyncio as aioredis

from gateway.domain.quota import WINDOW_S, Quota
from prometeo import keys
from prometeo.keys import GATEWAY

# INCR and EXPIRE in one script: a crash between them can never leave a counter without a TTL.
_HIT = """
local used = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {used, ttl}
"""


class RateLimiter(abc.ABC):
    @abc.abstractmethod
    async def hit(self, actor: str, limit: int) -> Quota:
        """Count one request for `actor` against `limit` per minute and say where it stands."""


class RedisRateLimiter(RateLimiter):
    def __init__(self, client: aioredis.Redis) -> None:
        self._hit = client.register_script(_HIT)

    async def hit(self, actor: str, limit: int) -> Quota:
        used, ttl = await self._hit(keys=[keys.entity(GATEWAY, "ratelimit", actor)], args=[WINDOW_S])
        return Quota(limit=limit, used=int(used), reset_s=int(ttl))
