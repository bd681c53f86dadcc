"""Redis adapter for learned response estimates and marketing's business levers (docs/redis-keys.md):

nba:response:{segment}     hash    "{product}|{channel}|t" → Σ propensity of offers made, "…|s" → acceptances.
                                   Aggregate counts per product × channel × segment: no personal data, kept
                                   across restarts and erasures (nothing in them identifies a customer). No TTL.
nba:customer:{ck}:offered  hash    offer_id → "channel|segment": what an acceptance is credited to; deleted on
                                   the first acceptance (so it counts once) and erased with the customer; TTL
                                   contact retention
nba:levers                 hash    product → lever set by marketing (overrides the policy's default); no TTL
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import redis

from next_best_action.domain.decision import Decision
from next_best_action.domain.learning import UNKNOWN_SEGMENT, ResponseStats, ResponseTable
from prometeo import keys
from prometeo.contracts import Channel, ProductCode

# An offer counts as trials once (HSETNX), however often its decision is redelivered.
_RECORD_OFFERS = """
local offered, response, ttl = KEYS[1], KEYS[2], ARGV[1]
for i = 2, #ARGV, 4 do
  if redis.call('HSETNX', offered, ARGV[i], ARGV[i + 1]) == 1 then
    redis.call('HINCRBYFLOAT', response, ARGV[i + 2] .. '|t', ARGV[i + 3])
  end
end
redis.call('EXPIRE', offered, ttl)
return 1
"""

# An acceptance is credited once, to the channel and segment the offer was made in.
_CREDIT = """
local value = redis.call('HGET', KEYS[1], ARGV[1])
if not value then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
local sep = string.find(value, '|', 1, true)
local channel, segment = string.sub(value, 1, sep - 1), string.sub(value, sep + 1)
redis.call('HINCRBYFLOAT', ARGV[3] .. segment, ARGV[2] .. '|' .. channel .. '|s', 1)
return 1
"""


class ResponseStore:
    def __init__(self, client: redis.Redis, *, retention_s: int) -> None:
        self._redis = client
        self._retention_s = retention_s
        self._record = client.register_script(_RECORD_OFFERS)
        self._credit = client.register_script(_CREDIT)

    def table(self, segment: str | None) -> ResponseTable:
        return self.table_from(self._redis.hgetall(response_key(segment)))

    @staticmethod
    def queue_table(pipe: Any, segment: str | None) -> None:
        pipe.hgetall(response_key(segment))

    @staticmethod
    def queue_offered(pipe: Any, customer_key: str) -> None:
        """The offer ids already recorded for the customer (`record_offers` counts each once)."""
        pipe.hkeys(offered_key(customer_key))

    @staticmethod
    def table_from(raw: Mapping[Any, Any]) -> ResponseTable:
        trials: dict[tuple[ProductCode, Channel], float] = {}
        successes: dict[tuple[ProductCode, Channel], float] = {}
        for field, value in raw.items():
            product, channel, kind = _text(field).split("|")
            cell = (ProductCode(product), Channel(channel))
            (trials if kind == "t" else successes)[cell] = float(value)
        return {
            cell: ResponseStats(trials.get(cell, 0.0), successes.get(cell, 0.0))
            for cell in set(trials) | set(successes)
        }

    def record_offers(self, customer_key: str, decision: Decision, client: Any = None) -> None:
        if not decision.offers:
            return
        segment = decision.segment or UNKNOWN_SEGMENT
        args: list[str | float | int] = [self._retention_s]
        for offer in decision.offers:
            cell = f"{offer.product.value}|{offer.channel.value}"
            args += [offer.offer_id, f"{offer.channel.value}|{segment}", cell, offer.propensity]
        keys_ = [offered_key(customer_key), response_key(segment)]
        if client is None:
            self._record(keys=keys_, args=args)
        else:
            # EVAL in a pipeline: no SCRIPT EXISTS round trip per execute (NbaStore.record_contacts).
            client.eval(_RECORD_OFFERS, len(keys_), *keys_, *args)

    def credit_acceptance(self, customer_key: str, offer_id: str, product: ProductCode) -> bool:
        prefix = keys.entity(keys.NBA, "response", "")
        return bool(self._credit(keys=[offered_key(customer_key)], args=[offer_id, product.value, prefix]))


class LeverStore:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def all(self) -> dict[ProductCode, float]:
        return self.parse(self._redis.hgetall(levers_key()))

    @staticmethod
    def parse(raw: Mapping[Any, bytes | str]) -> dict[ProductCode, float]:
        """The levers hash as read (e.g. within another store's pipeline) → lever per product."""
        return {ProductCode(_text(k)): float(v) for k, v in raw.items()}

    def set(self, product: ProductCode, lever: float) -> float | None:
        """→ the previous override (None: the policy's default applied)."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.hget(levers_key(), product.value)
        pipe.hset(levers_key(), product.value, repr(lever))
        previous, _ = pipe.execute()
        return None if previous is None else float(previous)

    def clear(self, product: ProductCode) -> float | None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.hget(levers_key(), product.value)
        pipe.hdel(levers_key(), product.value)
        previous, _ = pipe.execute()
        return None if previous is None else float(previous)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def response_key(segment: str | None) -> str:
    return keys.entity(keys.NBA, "response", segment or UNKNOWN_SEGMENT)


def offered_key(customer_key: str) -> str:
    return keys.customer(keys.NBA, customer_key, "offered")


def levers_key() -> str:
    return f"{keys.NBA}:levers"
