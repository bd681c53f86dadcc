"""Redis adapter for next-best-action. Key layout (docs/redis-keys.md):

nba:customer:{ck}:scores       string  latest ScoresComputedV1 payload + occurred_at (JSON); TTL scores_ttl_s
nba:customer:{ck}:permissions  hash    consent_id → comma-separated marketing channels  (prometeo.permissions)
nba:customer:{ck}:marketing    hash    channel → opted_in | opted_out: explicit choices, they override consents
nba:customer:{ck}:contacts     zset    "offer_id|product|channel" scored by epoch seconds; trimmed to retention
nba:customer:{ck}:declines     hash    product → ISO time of the latest decline
nba:customer:{ck}:accepted     set     products accepted (held now, before features catch up)
nba:event:{event_id}           string  processed marker, TTL processed_ttl_s
nba:volume:{YYYYMMDD}          hash    product → offers made that day, all customers (daily caps); TTL 3 d
nba:erased:{ck}                string  tombstone after erasure: in-flight scores are ignored; a new consent lifts it
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import redis

from next_best_action.domain.decision import Contact, ContactHistory, Decision
from prometeo import keys
from prometeo.contracts import Channel, ProductCode
from prometeo.contracts.events import ScoresComputedV1
from prometeo.permissions import MarketingPermissions
from prometeo.redis_text import text

VOLUME_TTL_S = 3 * 24 * 3600

# A contact counts towards the day's volume only when it is new: a redelivered decision adds nothing.
_RECORD_CONTACTS = """
local contacts, volume = KEYS[1], KEYS[2]
local at, cutoff, retention_s, volume_ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
for i = 5, #ARGV, 2 do
  if redis.call('ZADD', contacts, at, ARGV[i]) == 1 then
    redis.call('HINCRBY', volume, ARGV[i + 1], 1)
  end
end
redis.call('ZREMRANGEBYSCORE', contacts, '-inf', cutoff)
redis.call('EXPIRE', contacts, retention_s)
redis.call('EXPIRE', volume, volume_ttl)
return 1
"""


class NbaStore:
    def __init__(
        self,
        client: redis.Redis,
        *,
        processed_ttl_s: int,
        scores_ttl_s: int,
        contact_retention_days: int,
        erased_ttl_s: int,
    ) -> None:
        self._redis = client
        self._processed_ttl_s = processed_ttl_s
        self._scores_ttl_s = scores_ttl_s
        self._retention = timedelta(days=contact_retention_days)
        self._erased_ttl_s = erased_ttl_s
        self._record_contacts = client.register_script(_RECORD_CONTACTS)
        self.marketing = MarketingPermissions(client, keys.NBA)

    # -- idempotency -------------------------------------------------------------------------------
    def seen(self, event_id: str) -> bool:
        return bool(self._redis.exists(keys.processed_event(keys.NBA, event_id)))

    def mark(self, event_id: str) -> None:
        self._redis.set(keys.processed_event(keys.NBA, event_id), "1", ex=self._processed_ttl_s)

    # -- scores ------------------------------------------------------------------------------------
    def save_scores(self, customer_key: str, scores: ScoresComputedV1, occurred_at: datetime) -> bool:
        """Keep only the newest scores: a late, older event must not replace a fresher one."""
        key = _key(customer_key, "scores")
        current = self._redis.get(key)
        if current is not None and datetime.fromisoformat(json.loads(current)["occurred_at"]) > occurred_at:
            return False
        body = {"occurred_at": occurred_at.isoformat(), "scores": scores.model_dump(mode="json")}
        self._redis.set(key, json.dumps(body), ex=self._scores_ttl_s)
        return True

    def latest_scores(self, customer_key: str) -> ScoresComputedV1 | None:
        latest = self.latest_scores_at(customer_key)
        return None if latest is None else latest[0]

    def latest_scores_at(self, customer_key: str) -> tuple[ScoresComputedV1, datetime] | None:
        """The newest scores and when they were computed (which identifies them)."""
        raw = self._redis.get(_key(customer_key, "scores"))
        if raw is None:
            return None
        body = json.loads(raw)
        return ScoresComputedV1.model_validate(body["scores"]), datetime.fromisoformat(body["occurred_at"])

    # -- permissions -------------------------------------------------------------------------------
    def permissions(self, customer_key: str) -> frozenset[Channel]:
        return self.marketing.channels(customer_key)

    # -- contact history ---------------------------------------------------------------------------
    def record_contacts(self, customer_key: str, decision: Decision, day: str) -> None:
        """Offers made become contacts (member = offer id, so once each) and count in the day's volume."""
        args: list[str | float | int] = [
            decision.decided_at.timestamp(),
            (decision.decided_at - self._retention).timestamp(),
            int(self._retention.total_seconds()),
            VOLUME_TTL_S,
        ]
        for offer in decision.offers:
            args += [f"{offer.offer_id}|{offer.product.value}|{offer.channel.value}", offer.product.value]
        self._record_contacts(keys=[_key(customer_key, "contacts"), _volume_key(day)], args=args)

    def record_delivery(
        self, customer_key: str, offer_id: str, product: ProductCode, channel: Channel, at: datetime
    ) -> None:
        """A contact made outside this service's decisions (a campaign sequence step) still counts
        towards the weekly cap and repeat rule. NX: our own offers are already recorded, at decision time."""
        key = _key(customer_key, "contacts")
        self._redis.zadd(key, {f"{offer_id}|{product.value}|{channel.value}": at.timestamp()}, nx=True)
        self._redis.expire(key, int(self._retention.total_seconds()))

    def volume(self, day: str) -> dict[ProductCode, int]:
        raw = self._redis.hgetall(_volume_key(day))
        return {ProductCode(text(k)): int(v) for k, v in raw.items()}

    def record_decline(self, customer_key: str, product: ProductCode, at: datetime) -> None:
        key = _key(customer_key, "declines")
        current = self._redis.hget(key, product.value)
        if current is None or datetime.fromisoformat(text(current)) < at:
            self._redis.hset(key, product.value, at.isoformat())
        self._redis.expire(key, int(self._retention.total_seconds()))

    def record_acceptance(self, customer_key: str, product: ProductCode) -> None:
        self._redis.sadd(_key(customer_key, "accepted"), product.value)

    def history(self, customer_key: str) -> ContactHistory:
        pipe = self._redis.pipeline(transaction=False)
        pipe.zrange(_key(customer_key, "contacts"), 0, -1, withscores=True)
        pipe.hgetall(_key(customer_key, "declines"))
        pipe.smembers(_key(customer_key, "accepted"))
        contacts_raw, declines_raw, accepted_raw = pipe.execute()
        contacts = []
        for member, score in contacts_raw:
            offer_id, product, channel = member.decode().split("|")
            contacts.append(
                Contact(offer_id, ProductCode(product), Channel(channel), datetime.fromtimestamp(score, UTC))
            )
        return ContactHistory(
            contacts=tuple(contacts),
            declines={ProductCode(k.decode()): datetime.fromisoformat(v.decode()) for k, v in declines_raw.items()},
            accepted=frozenset(ProductCode(p.decode()) for p in accepted_raw),
        )

    # -- erasure -----------------------------------------------------------------------------------
    def erase(self, customer_key: str) -> int:
        deleted = 0
        for key in self._redis.scan_iter(match=keys.customer_pattern(keys.NBA, customer_key), count=500):
            deleted += self._redis.delete(key)
        self._redis.set(_tombstone(customer_key), "1", ex=self._erased_ttl_s)
        return deleted

    def is_erased(self, customer_key: str) -> bool:
        return bool(self._redis.exists(_tombstone(customer_key)))

    def clear_erasure(self, customer_key: str) -> None:
        self._redis.delete(_tombstone(customer_key))


def _key(customer_key: str, part: str) -> str:
    return keys.customer(keys.NBA, customer_key, part)


def _volume_key(day: str) -> str:
    return keys.entity(keys.NBA, "volume", day)


def _tombstone(customer_key: str) -> str:
    return keys.entity(keys.NBA, "erased", customer_key)
