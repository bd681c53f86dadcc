"""Each customer's branch and advisor, kept by the gateway from the bank's profile events. Key layout
(docs/redis-keys.md):

  gateway:customer:{ck}:scope   hash {branch, advisor, ts}   none; after erasure {erased_at}, 130 days

Why a local copy: the check sits on the hot path of every advisor's read, so it is one HMGET in the
Redis the gateway already uses, not a call to another service. The `:customer:` prefix puts it under
the platform's erasure convention (`<service>:customer:<ck>*`). A profile older than the one stored,
or than an erasure, never overwrites it (redelivery and replays are harmless).
"""

from __future__ import annotations

import abc
from datetime import datetime

import redis
import redis.asyncio as aioredis

from gateway.domain.scope import CustomerScope
from prometeo import keys
from prometeo.keys import GATEWAY

# The account-events retention: a replay within it must not resurrect an erased customer's scope.
ERASED_TTL_S = 130 * 24 * 3600

_SAVE = """
local erased = tonumber(redis.call('HGET', KEYS[1], 'erased_at') or '0')
local seen = tonumber(redis.call('HGET', KEYS[1], 'ts') or '0')
local at = tonumber(ARGV[1])
if at < erased or at < seen then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'ts', ARGV[1], 'branch', ARGV[2], 'advisor', ARGV[3])
return 1
"""


def scope_key(customer_key: str) -> str:
    return keys.customer(GATEWAY, customer_key, "scope")


class ScopeReader(abc.ABC):
    @abc.abstractmethod
    async def get(self, customer_key: str) -> CustomerScope | None: ...


class RedisScopeReader(ScopeReader):
    def __init__(self, client: aioredis.Redis) -> None:
        self._redis = client

    async def get(self, customer_key: str) -> CustomerScope | None:
        branch, advisor = await self._redis.hmget(scope_key(customer_key), ["branch", "advisor"])
        if not branch and not advisor:
            return None
        return CustomerScope(branch_id=_text(branch), advisor_id=_text(advisor))


def _text(value: bytes | str | None) -> str | None:
    if not value:
        return None
    return value.decode() if isinstance(value, bytes) else value


class ScopeWriter:
    """Used by the consumers (threads, sync client)."""

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client
        self._save = client.register_script(_SAVE)

    def save(self, customer_key: str, branch_id: str | None, advisor_id: str | None, at: datetime) -> bool:
        args = [f"{at.timestamp():.6f}", branch_id or "", advisor_id or ""]
        return bool(self._save(keys=[scope_key(customer_key)], args=args))

    def current(self, customer_key: str) -> tuple[str | None, str | None]:
        branch, advisor = self._redis.hmget(scope_key(customer_key), ["branch", "advisor"])
        return _text(branch), _text(advisor)

    def erase(self, customer_key: str, at: datetime) -> None:
        key = scope_key(customer_key)
        pipe = self._redis.pipeline()
        pipe.delete(key)
        pipe.hset(key, "erased_at", f"{at.timestamp():.6f}")
        pipe.expire(key, ERASED_TTL_S)
        pipe.execute()
