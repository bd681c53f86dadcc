"""The insider-threat guard's state in Redis, one script (one round trip) per read. Key layout
(docs/redis-keys.md):

  gateway:guard:{user}:reads   sorted set  customer key → time of the latest read; TTL = the window
  gateway:guard:{user}:block   string      the rule that blocked the user; no TTL (an admin lifts it)
  gateway:guard:blocked        set         blocked user ids, for the admin listing

Time is the caller's `now` (the clock seam), so tests state the hour they mean.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable
from datetime import datetime
from typing import NoReturn

import redis
import redis.asyncio as aioredis

from gateway.audit import AuditTrail, entry_for
from gateway.domain.audit import AuditAction, AuditResult
from gateway.domain.credentials import Principal
from gateway.domain.guard import GuardPolicy, GuardRule, describe, outside_working_hours
from prometeo import keys
from prometeo.keys import GATEWAY
from prometeo.telemetry.metrics import GATEWAY_INSIDER_BLOCKS
from prometeo.web import Problem

log = logging.getLogger(__name__)

BLOCKED_INDEX = keys.entity(GATEWAY, "guard", "blocked")

# KEYS: reads, block, index. ARGV: now (s), window (s), max distinct, customer key, user id.
# Returns {0, distinct} allowed, {1, rule} already blocked, {2, distinct} blocked by this read.
_READ = """
local rule = redis.call('GET', KEYS[2])
if rule then return {1, rule} end
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('EXPIRE', KEYS[1], window)
local distinct = redis.call('ZCARD', KEYS[1])
if distinct > tonumber(ARGV[3]) then
  redis.call('SET', KEYS[2], 'read_volume')
  redis.call('SADD', KEYS[3], ARGV[5])
  return {2, distinct}
end
return {0, distinct}
"""


def _reads(user_id: str) -> str:
    return keys.entity(GATEWAY, "guard", user_id, "reads")


def _block(user_id: str) -> str:
    return keys.entity(GATEWAY, "guard", user_id, "block")


class GuardVerdict:
    def __init__(self, blocked: GuardRule | None, new_block: bool) -> None:
        self.blocked = blocked
        self.new_block = new_block


class InsiderGuard(abc.ABC):
    def __init__(self, policy: GuardPolicy, now: Callable[[], datetime]) -> None:
        self.policy = policy
        self.now = now

    @abc.abstractmethod
    async def record_read(self, user_id: str, customer_key: str) -> GuardVerdict: ...

    @abc.abstractmethod
    async def lift(self, user_id: str) -> bool:
        """Lift the user's block and forget their reads; False if they were not blocked."""

    @abc.abstractmethod
    async def blocked(self) -> dict[str, str]:
        """Blocked user → rule."""


class RedisInsiderGuard(InsiderGuard):
    def __init__(self, client: aioredis.Redis, policy: GuardPolicy, now: Callable[[], datetime]) -> None:
        super().__init__(policy, now)
        self._redis = client
        self._read = client.register_script(_READ)

    async def record_read(self, user_id: str, customer_key: str) -> GuardVerdict:
        at = self.now().timestamp()
        args: list[str | int] = [f"{at:.6f}", self.policy.window_s, self.policy.max_customers, customer_key, user_id]
        outcome, value = await self._read(keys=[_reads(user_id), _block(user_id), BLOCKED_INDEX], args=args)
        if int(outcome) == 0:
            return GuardVerdict(None, False)
        rule = GuardRule(value.decode() if isinstance(value, bytes) else str(value)) if int(outcome) == 1 else None
        return GuardVerdict(rule or GuardRule.READ_VOLUME, int(outcome) == 2)

    async def lift(self, user_id: str) -> bool:
        pipe = self._redis.pipeline()
        pipe.delete(_block(user_id))
        pipe.delete(_reads(user_id))
        pipe.srem(BLOCKED_INDEX, user_id)
        deleted, _, _ = await pipe.execute()
        return bool(deleted)

    async def blocked(self) -> dict[str, str]:
        users = sorted(
            u.decode() if isinstance(u, bytes) else str(u) for u in await self._redis.smembers(BLOCKED_INDEX)
        )
        if not users:
            return {}
        rules = await self._redis.mget([_block(u) for u in users])
        return {u: (r.decode() if isinstance(r, bytes) else str(r)) for u, r in zip(users, rules, strict=True) if r}


async def enforce(guard: InsiderGuard, principal: Principal, customer_key: str, audit: AuditTrail, zone: str) -> None:
    """Refuse the read (403 naming the rule) when a rule fires; a new block goes on the audit trail
    as a security event and counts in prometeo_gateway_insider_blocks_total (alerted on)."""
    user_id = principal.user_id or principal.actor
    if outside_working_hours(guard.now(), zone, guard.policy):
        await _refuse(guard, principal, customer_key, audit, GuardRule.OUT_OF_HOURS, new=True)
    try:
        verdict = await guard.record_read(user_id, customer_key)
    except (redis.RedisError, OSError) as exc:
        raise Problem(503, "Guard unavailable", "reads cannot be checked now", headers={"Retry-After": "5"}) from exc
    if verdict.blocked is not None:
        await _refuse(guard, principal, customer_key, audit, verdict.blocked, new=verdict.new_block)


async def _refuse(
    guard: InsiderGuard, principal: Principal, customer_key: str, audit: AuditTrail, rule: GuardRule, *, new: bool
) -> NoReturn:
    detail = describe(rule, guard.policy)
    if new:
        log.warning("insider-threat guard fired", extra={"actor": principal.actor, "rule": rule.value})
        GATEWAY_INSIDER_BLOCKS.labels(rule.value).inc()
        entry = entry_for(
            principal,
            AuditAction.SECURITY,
            rule.value,
            customer_key=customer_key,
            result=AuditResult.BLOCKED,
            detail=detail,
        )
        await audit.record(entry)
    raise Problem(403, "Blocked by the insider-threat guard", detail, rule=rule.value)
