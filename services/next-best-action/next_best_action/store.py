"""Redis adapter for next-best-action. Key layout (docs/redis-keys.md):

nba:customer:{ck}:scores       string  latest ScoresComputedV1 payload + occurred_at (JSON); TTL scores_ttl_s
nba:customer:{ck}:permissions  hash    consent_id → comma-separated marketing channels  (prometeo.permissions)
nba:customer:{ck}:marketing    hash    channel → opted_in | opted_out: explicit choices, they override consents
nba:customer:{ck}:purposes     hash    consent_id → purposes of active consents (no contact without `marketing`)
nba:customer:{ck}:registries   hash    do-not-contact registry → channels listed (REUS for a Mexican customer)
nba:customer:{ck}:privacy      hash    jurisdiction, profiling_objected (then no scores kept, no decision)
nba:customer:{ck}:contacts     zset    "offer_id|product|channel" scored by epoch seconds; trimmed to retention
nba:customer:{ck}:declines     hash    product → ISO time of the latest decline
nba:customer:{ck}:accepted     set     products accepted (held now, before features catch up)
nba:event:{event_id}           string  processed marker, TTL processed_ttl_s
nba:volume:{YYYYMMDD}          hash    product → offers made that day, all customers (daily caps); TTL 3 d
nba:erased:{ck}                string  tombstone after erasure: in-flight scores are ignored; a new consent lifts it
nba:volume:{period}:{stamp}:{product|*}:{channel|*}
                               string  offers reserved in the day (YYYYMMDD) or week (YYYYWww), all customers:
                                       volume constraints and the product-share cap; TTL 8 d
nba:epoch                      string  epoch marker: the views are whole (prometeo.views)
nba:reservation:{decision_id}  string  the reservation's verdicts ("product=ok|rule,…"), so a redelivered
                                       decision reserves nothing twice; TTL 8 d
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import redis

from next_best_action.domain.decision import (
    Contact,
    ContactHistory,
    Decision,
    volume_day,
    volume_week,
    with_reservation,
)
from next_best_action.domain.policy import Policy
from next_best_action.domain.rules import Rule
from prometeo import keys
from prometeo.contracts import Channel, ProductCode
from prometeo.contracts.events import ScoresComputedV1
from prometeo.permissions import CHANNEL_READS, MarketingPermissions
from prometeo.redis_text import text

VOLUME_TTL_S = 3 * 24 * 3600
RESERVATION_TTL_S = 8 * 24 * 3600
ANY = "*"

# Reserve volume for a decision's candidates in priority order, atomically: the first `slots`
# candidates every counter admits are counted, the rest are refused with the rule that stopped
# them. Counters with limit -1 are only counted (the share cap's numerator and denominator).
# ARGV: slots, ttl, share (0 = none), share_floor, then per candidate: product, n, (key index,
# limit) × n, share key index, total key index.
_RESERVE = """
local marker = KEYS[1]
local done = redis.call('GET', marker)
if done then return done end
local slots, ttl, share, floor = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local taken, verdicts, i = 0, {}, 5
while i <= #ARGV do
  local product, n = ARGV[i], tonumber(ARGV[i + 1])
  i = i + 2
  local verdict = 'ok'
  if taken >= slots then verdict = 'max_offers_per_decision' end
  local counters = {}
  for j = 1, n do
    local key, limit = KEYS[tonumber(ARGV[i])], tonumber(ARGV[i + 1])
    i = i + 2
    counters[#counters + 1] = key
    if verdict == 'ok' and limit >= 0 and tonumber(redis.call('GET', key) or '0') >= limit then
      verdict = 'volume_constraint'
    end
  end
  local own, total = KEYS[tonumber(ARGV[i])], KEYS[tonumber(ARGV[i + 1])]
  i = i + 2
  if verdict == 'ok' and share > 0 then
    local mine = tonumber(redis.call('GET', own) or '0')
    local all = tonumber(redis.call('GET', total) or '0')
    if mine >= floor and mine + 1 > share * (all + 1) then verdict = 'product_share_cap' end
  end
  if verdict == 'ok' then
    taken = taken + 1
    for _, key in ipairs(counters) do
      redis.call('INCR', key)
      redis.call('EXPIRE', key, ttl)
    end
  end
  verdicts[#verdicts + 1] = product .. '=' .. verdict
end
local result = table.concat(verdicts, ',')
redis.call('SET', marker, result, 'EX', ttl)
return result
"""

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
        self._reserve = client.register_script(_RESERVE)
        self.marketing = MarketingPermissions(client, keys.NBA)

    # -- idempotency -------------------------------------------------------------------------------
    def seen(self, event_id: str) -> bool:
        return bool(self._redis.exists(keys.processed_event(keys.NBA, event_id)))

    def mark(self, event_id: str, client: Any = None) -> None:
        """`client`: a pipeline to queue the write on (default: now)."""
        (client or self._redis).set(keys.processed_event(keys.NBA, event_id), "1", ex=self._processed_ttl_s)

    def pipeline(self) -> Any:
        return self._redis.pipeline(transaction=False)

    # -- a poll of scores events, read together ------------------------------------------------------
    def queue_scores_inputs(self, pipe: Any, event_id: str, customer_key: str) -> None:
        """Queues the SCORES_INPUT_READS reads a scores event's decision needs (`scores_inputs_from`)."""
        pipe.exists(keys.processed_event(keys.NBA, event_id))
        pipe.exists(_tombstone(customer_key))
        pipe.get(_key(customer_key, "scores"))
        self.marketing.queue_channels(pipe, customer_key)
        _queue_history(pipe, customer_key)

    def scores_inputs_from(self, results: list[Any]) -> ScoresInputs:
        seen, erased, current, *rest = results
        channel_reads, history = rest[:CHANNEL_READS], rest[CHANNEL_READS:]
        privacy = channel_reads[-1]
        return ScoresInputs(
            seen=bool(seen),
            erased=bool(erased),
            profiling_objected=privacy.get(b"profiling_objected") == b"1",
            scores_at=None if current is None else datetime.fromisoformat(json.loads(current)["occurred_at"]),
            permissions=self.marketing.channels_from(channel_reads),
            history=_history_from(*history),
        )

    def put_scores(self, customer_key: str, scores: Mapping[str, Any], occurred_at: datetime, client: Any) -> None:
        """Queue the scores' write (the caller checked they are the newest, as `save_scores` does).
        `scores`: the event's payload as it came off the wire, already validated as a ScoresComputedV1
        (every read validates it again); dumping the model back to JSON was a tenth of a decision."""
        body = {"occurred_at": occurred_at.isoformat(), "scores": scores}
        client.set(_key(customer_key, "scores"), orjson.dumps(body), ex=self._scores_ttl_s)

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

    def drop_scores(self, customer_key: str) -> None:
        self._redis.delete(_key(customer_key, "scores"))

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
    def record_contacts(self, customer_key: str, decision: Decision, day: str, client: Any = None) -> None:
        """Offers made become contacts (member = offer id, so once each) and count in the day's volume."""
        args: list[str | float | int] = [
            decision.decided_at.timestamp(),
            (decision.decided_at - self._retention).timestamp(),
            int(self._retention.total_seconds()),
            VOLUME_TTL_S,
        ]
        for offer in decision.offers:
            args += [f"{offer.offer_id}|{offer.product.value}|{offer.channel.value}", offer.product.value]
        keys_ = [_key(customer_key, "contacts"), _volume_key(day)]
        if client is None:
            self._record_contacts(keys=keys_, args=args)
        else:
            # EVAL, not the registered script: a script in a pipeline costs redis-py a SCRIPT EXISTS round
            # trip per execute, and EVAL cannot miss Redis' script cache (a restarted Redis).
            client.eval(_RECORD_CONTACTS, len(keys_), *keys_, *args)

    def record_delivery(
        self, customer_key: str, offer_id: str, product: ProductCode, channel: Channel, at: datetime
    ) -> None:
        """A contact made outside this service's decisions (a campaign sequence step) still counts
        towards the weekly cap and repeat rule. NX: our own offers are already recorded, at decision time."""
        key = _key(customer_key, "contacts")
        self._redis.zadd(key, {f"{offer_id}|{product.value}|{channel.value}": at.timestamp()}, nx=True)
        self._redis.expire(key, int(self._retention.total_seconds()))

    def reserve(self, decision: Decision, policy: Policy, slots: int) -> Decision:
        """Reserve volume for the decision's best candidates that every constraint admits (atomic across
        concurrent decisions); the returned decision offers those and blocks the rest with the rule."""
        if not decision.candidates or slots == 0:
            return decision
        day, week = volume_day(decision.decided_at, policy), volume_week(decision.decided_at, policy)
        stamps = {"day": day, "week": week}
        keys_: list[str] = [keys.entity(keys.NBA, "reservation", decision.decision_id)]
        index: dict[str, int] = {}

        def key_index(key: str) -> int:
            if key not in index:
                keys_.append(key)
                index[key] = len(keys_)  # Lua's KEYS is 1-based
            return index[key]

        share = policy.max_product_share or 0.0
        args: list[str | float | int] = [slots, RESERVATION_TTL_S, share, policy.share_floor]
        for offer in decision.candidates:
            own = volume_counter("week", week, offer.product, None)
            total = volume_counter("week", week, None, None)
            counters: dict[str, int] = {own: -1, total: -1}
            for c in policy.volume_constraints:
                if c.product in (None, offer.product) and c.channel in (None, offer.channel):
                    key = volume_counter(c.period, stamps[c.period], c.product, c.channel)
                    counters[key] = c.max if counters.get(key, -1) < 0 else min(c.max, counters[key])
            args += [offer.product.value, len(counters)]
            for key, limit in counters.items():
                args += [key_index(key), limit]
            args += [key_index(own), key_index(total)]
        raw = self._reserve(keys=keys_, args=args)
        verdicts: dict[ProductCode, Rule | None] = {}
        for item in (raw.decode() if isinstance(raw, bytes) else str(raw)).split(","):
            product, _, verdict = item.partition("=")
            verdicts[ProductCode(product)] = None if verdict == "ok" else Rule(verdict)
        return with_reservation(decision, verdicts)

    def reserved(self, period: str, stamp: str, product: ProductCode | None, channel: Channel | None) -> int:
        raw = self._redis.get(volume_counter(period, stamp, product, channel))
        return int(raw) if raw is not None else 0

    def volume(self, day: str) -> dict[ProductCode, int]:
        return self.volume_from(self._redis.hgetall(_volume_key(day)))

    @staticmethod
    def queue_volume(pipe: Any, day: str) -> None:
        pipe.hgetall(_volume_key(day))

    @staticmethod
    def volume_from(raw: dict[Any, Any]) -> dict[ProductCode, int]:
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
        _queue_history(pipe, customer_key)
        return _history_from(*pipe.execute())

    def queue_inbound(self, pipe: Any, customer_key: str, day: str, levers_key: str) -> None:
        """Queues on a caller's pipeline (sync or asyncio) everything an inbound decision reads, for one
        round trip: the newest scores, the channels permitted and the privacy choices, the contact
        history, the day's volume and marketing's levers (raw hash). `inbound_from` folds the results."""
        pipe.get(_key(customer_key, "scores"))
        self.marketing.queue_channels(pipe, customer_key)
        _queue_history(pipe, customer_key)
        pipe.hgetall(_volume_key(day))
        pipe.hgetall(levers_key)

    def inbound_from(self, results: list[Any]) -> InboundReads | None:
        """The reads `queue_inbound` queued; None when no scores are known for the customer.
        Raises ProfilingObjected first when the customer objected to profiling (no decision at all)."""
        raw, *rest = results
        channel_reads, (contacts, declines, accepted, volume, levers) = rest[:CHANNEL_READS], rest[CHANNEL_READS:]
        if channel_reads[-1].get(b"profiling_objected") == b"1":  # the privacy hash
            raise ProfilingObjected
        if raw is None:
            return None
        body = _loads(raw)
        return InboundReads(
            scores=ScoresComputedV1.model_validate(body["scores"]),
            computed_at=datetime.fromisoformat(body["occurred_at"]),
            permissions=self.marketing.channels_from(channel_reads),
            history=_history_from(contacts, declines, accepted),
            volume={ProductCode(text(k)): int(v) for k, v in volume.items()},
            levers=levers,
        )

    # -- erasure -----------------------------------------------------------------------------------
    def erase(self, customer_key: str) -> int:
        deleted = 0
        for key in self._redis.scan_iter(match=keys.customer_pattern(keys.NBA, customer_key), count=500):
            deleted += self._redis.delete(key)
        self._redis.set(_tombstone(customer_key), "1", ex=self._erased_ttl_s)
        return deleted

    def restore_erasure(self, customer_key: str, ttl_s: int) -> None:
        """Put a tombstone back (a rebuild, from customer-erasure.v1) for what is left of its TTL."""
        self._redis.set(_tombstone(customer_key), "1", ex=ttl_s)

    def is_erased(self, customer_key: str) -> bool:
        return bool(self._redis.exists(_tombstone(customer_key)))

    def clear_erasure(self, customer_key: str) -> None:
        self._redis.delete(_tombstone(customer_key))


# How many pipeline results `NbaStore.queue_scores_inputs` adds.
SCORES_INPUT_READS = 3 + CHANNEL_READS + 3


@dataclass(frozen=True)
class ScoresInputs:
    """What deciding on one scores event reads, as read in its poll's pipeline."""

    seen: bool  # processed marker
    erased: bool  # tombstone
    profiling_objected: bool
    scores_at: datetime | None  # when the scores kept were computed (None: none kept)
    permissions: frozenset[Channel]
    history: ContactHistory


@dataclass(frozen=True)
class InboundReads:
    scores: ScoresComputedV1
    computed_at: datetime
    permissions: frozenset[Channel]
    history: ContactHistory
    volume: dict[ProductCode, int]
    levers: dict[bytes, bytes]  # LeverStore.parse folds it


class ProfilingObjected(Exception):
    """The customer objected to profiling: no decision is made for them."""


def _loads(raw: bytes) -> Any:
    """`json.loads` of the stored scores, by orjson (a few times faster, on every presentation); what orjson
    refuses (NaN, which `save_scores`' json.dumps can write) goes to json. Integers past 64 bits come back as
    floats: every number in the stored scores is a float field, so the validated scores are the same."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def _queue_history(pipe: Any, customer_key: str) -> None:
    pipe.zrange(_key(customer_key, "contacts"), 0, -1, withscores=True)
    pipe.hgetall(_key(customer_key, "declines"))
    pipe.smembers(_key(customer_key, "accepted"))


def _history_from(
    contacts_raw: list[tuple[bytes, float]], declines_raw: dict[bytes, bytes], accepted_raw: set[bytes]
) -> ContactHistory:
    contacts = []
    for member, score in contacts_raw:
        offer_id, product, channel = member.decode().split("|")
        contacts.append(Contact(offer_id, ProductCode(product), Channel(channel), datetime.fromtimestamp(score, UTC)))
    return ContactHistory(
        contacts=tuple(contacts),
        declines={ProductCode(k.decode()): datetime.fromisoformat(v.decode()) for k, v in declines_raw.items()},
        accepted=frozenset(ProductCode(p.decode()) for p in accepted_raw),
    )


def _key(customer_key: str, part: str) -> str:
    return keys.customer(keys.NBA, customer_key, part)


def volume_counter(period: str, stamp: str, product: ProductCode | None, channel: Channel | None) -> str:
    scope = f"{product.value if product else ANY}:{channel.value if channel else ANY}"
    return keys.entity(keys.NBA, "volume", f"{period}:{stamp}", scope)


def _volume_key(day: str) -> str:
    return keys.entity(keys.NBA, "volume", day)


def _tombstone(customer_key: str) -> str:
    return keys.entity(keys.NBA, "erased", customer_key)
