"""Who is in each advisor's portfolio and each branch, kept by the gateway from the bank's profile events,
so a person can list their own customers (the console's "today"). Key layout (docs/redis-keys.md):

  gateway:portfolio:{advisor_id}:members   hash  customer key → digital archetype ("" when unknown); no TTL
  gateway:branch:{branch_id}:members       hash  customer key → digital archetype; no TTL

A customer moved to another portfolio stays listed in the old hash until read: readers keep only the members
whose current scope (gateway:customer:{ck}:scope) still names the portfolio or branch, so a move or an
erasure takes effect at once, and the stale field is dropped on that read.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis
import redis.asyncio as aioredis

from gateway.scopes import scope_key
from prometeo import keys
from prometeo.keys import GATEWAY


def portfolio_key(advisor_id: str) -> str:
    return keys.entity(GATEWAY, "portfolio", advisor_id, "members")


def branch_key(branch_id: str) -> str:
    return keys.entity(GATEWAY, "branch", branch_id, "members")


@dataclass(frozen=True)
class Member:
    customer_key: str
    segment: str | None


class PortfolioWriter:
    """Used by the account-events consumer (thread, sync client) after a profile is saved."""

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def add(self, customer_key: str, branch_id: str | None, advisor_id: str | None, segment: str | None) -> None:
        pipe = self._redis.pipeline(transaction=False)
        if advisor_id:
            pipe.hset(portfolio_key(advisor_id), customer_key, segment or "")
        if branch_id:
            pipe.hset(branch_key(branch_id), customer_key, segment or "")
        pipe.execute()

    def remove(self, customer_key: str) -> int:
        """Erasure: the customer leaves every portfolio and branch index, stale ones included (a member who
        moved is otherwise only dropped when the old list is read). One pass over the indexes: there is one
        per advisor and branch, not per customer."""
        removed = 0
        for pattern in (portfolio_key("*"), branch_key("*")):
            for index in self._redis.scan_iter(match=pattern, count=500):
                removed += int(self._redis.hdel(index, customer_key))
        return removed


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else value


class PortfolioReader:
    def __init__(self, client: aioredis.Redis) -> None:
        self._redis = client

    async def members(self, *, advisor_id: str | None = None, branch_id: str | None = None) -> list[Member]:
        """The portfolio's (or branch's) current members, in customer-key order."""
        if advisor_id:
            index, field, wanted = portfolio_key(advisor_id), "advisor", advisor_id
        elif branch_id:
            index, field, wanted = branch_key(branch_id), "branch", branch_id
        else:
            return []
        listed = {_text(k): _text(v) for k, v in (await self._redis.hgetall(index)).items()}
        if not listed:
            return []
        ordered = sorted(listed)
        pipe = self._redis.pipeline(transaction=False)
        for ck in ordered:
            pipe.hget(scope_key(ck), field)
        current = [_text(v) for v in await pipe.execute()]
        stale = [ck for ck, now in zip(ordered, current, strict=True) if now != wanted]
        if stale:
            await self._redis.hdel(index, *stale)
        return [Member(ck, listed[ck] or None) for ck, now in zip(ordered, current, strict=True) if now == wanted]
