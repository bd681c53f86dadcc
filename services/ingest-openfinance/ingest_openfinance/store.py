"""Redis adapter for ingest: the consent view and the dedupe window. Layout (docs/redis-keys.md):

ingest:customer:{ck}:consents   hash    consent_id → ConsentRecord JSON (materialised from consent-events.v1)
ingest:customer:{ck}:marketing  hash    channel → MarketingRecord JSON (opt-in / opt-out, registry imports)
ingest:customer:{ck}:privacy    hash    profiling_objected → "1" while the customer objects to profiling
ingest:consent:{consent_id}     string  → customer_key (status changes arrive by consent id)
ingest:consent-expiry:all       zset    "{ck} {consent_id}" scored by expiry epoch (time-based expiry)
ingest:dedupe:{digest}          string  source event seen; TTL = dedupe window
ingest:epoch                    string  epoch marker: the views are whole (prometeo.views)
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import cast

import redis

from ingest_openfinance.domain.consent import ConsentRecord
from ingest_openfinance.domain.marketing import MarketingRecord
from prometeo import clock, keys
from prometeo.keys import INGEST
from prometeo.redis_text import text

_EXPIRY = keys.entity(INGEST, "consent-expiry", "all")

# HVALS of every key given, in order (an absent hash answers an empty list, as HVALS does).
_HVALS_EACH = """
local out = {}
for i, key in ipairs(KEYS) do
  out[i] = redis.call('HVALS', key)
end
return out
"""


# Parsed consent records by their stored JSON. Parsing is a pure function of the bytes and a record is
# frozen, so one parse serves every batch that reads the same state (~9 µs a record, ~1,000 records a
# 2,000-event batch); a changed consent is new bytes, an erased one is never read.
@lru_cache(maxsize=20_000)
def _consent_record(raw: bytes) -> ConsentRecord:
    return ConsentRecord.model_validate_json(raw)


class ConsentStore:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client
        self._consents_of = client.register_script(_HVALS_EACH)

    def put(self, customer_key: str, record: ConsentRecord, *, occurred_at: datetime | None = None) -> bool:
        """Write a consent. With `occurred_at` (replayed events) the write is skipped if the customer
        was erased after it, or if the view already holds a newer state of that consent (the instance
        that registered an extension wrote it before its own older events came back round). WATCH on
        the tombstone and the consents makes check and write one atomic step, so an erasure or a newer
        write landing in between cannot be undone. Returns whether it wrote."""
        tombstone = _tombstone(customer_key)
        consents = keys.customer(INGEST, customer_key, "consents")
        stamped = record.model_copy(update={"updated_at": occurred_at or clock.now()})

        def write(pipe: redis.client.Pipeline) -> bool:
            if occurred_at is not None:
                raw = pipe.get(tombstone)
                if raw and occurred_at <= datetime.fromisoformat(text(raw)):
                    return False
                held = pipe.hget(consents, record.consent_id)
                if held is not None:
                    written = ConsentRecord.model_validate_json(text(held)).updated_at
                    if written is not None and written > occurred_at:
                        return False
            pipe.multi()
            pipe.hset(consents, record.consent_id, stamped.model_dump_json())
            pipe.set(keys.entity(INGEST, "consent", record.consent_id), customer_key)
            member = f"{customer_key} {record.consent_id}"
            if record.expires_at is not None and record.status == "authorised":
                pipe.zadd(_EXPIRY, {member: record.expires_at.timestamp()})
            else:
                pipe.zrem(_EXPIRY, member)
            return True

        # redis-py types the callable as returning None, though value_from_callable hands its value back.
        transact = cast("Callable[[redis.client.Pipeline], None]", write)
        return bool(self._redis.transaction(transact, tombstone, consents, value_from_callable=True))

    def for_customers(self, customer_keys: Sequence[str]) -> dict[str, list[ConsentRecord]]:
        """Every consent of each customer, in one script call: a pipeline of one HVALS per customer costs
        redis-py ~10 µs a command to pack and parse (a 2,000-event batch has ~1,000 customers); one
        command with the batch's keys reads the same hashes, in one round trip as before."""
        unique = list(dict.fromkeys(customer_keys))
        if not unique:
            return {}
        held = self._consents_of(keys=[keys.customer(INGEST, ck, "consents") for ck in unique])
        return {
            ck: [_consent_record(v) for v in values]
            for ck, values in zip(unique, cast("list[list[bytes]]", held), strict=True)
        }

    def put_marketing(
        self, customer_key: str, channel: str, record: MarketingRecord, *, occurred_at: datetime | None = None
    ) -> bool:
        """Write a channel's permission. With `occurred_at` (replayed events) the write is skipped if the
        customer was erased after it or the view holds a newer choice (checked atomically, as in `put`)."""
        tombstone = _tombstone(customer_key)
        marketing = keys.customer(INGEST, customer_key, "marketing")

        def write(pipe: redis.client.Pipeline) -> bool:
            if occurred_at is not None:
                raw = pipe.get(tombstone)
                if raw and occurred_at <= datetime.fromisoformat(text(raw)):
                    return False
                held = pipe.hget(marketing, channel)
                if held is not None and MarketingRecord.model_validate_json(text(held)).updated_at > occurred_at:
                    return False
            pipe.multi()
            pipe.hset(marketing, channel, record.model_dump_json())
            return True

        transact = cast("Callable[[redis.client.Pipeline], None]", write)
        return bool(self._redis.transaction(transact, tombstone, marketing, value_from_callable=True))

    def marketing(self, customer_keys: Sequence[str]) -> dict[str, dict[str, MarketingRecord]]:
        unique = list(dict.fromkeys(customer_keys))
        pipe = self._redis.pipeline(transaction=False)
        for ck in unique:
            pipe.hgetall(keys.customer(INGEST, ck, "marketing"))
        return {
            ck: {text(k): MarketingRecord.model_validate_json(v) for k, v in values.items()}
            for ck, values in zip(unique, pipe.execute(), strict=True)
        }

    def put_objection(self, customer_key: str, objected: bool) -> None:
        key = keys.customer(INGEST, customer_key, "privacy")
        if objected:
            self._redis.hset(key, "profiling_objected", "1")
        else:
            self._redis.hdel(key, "profiling_objected")

    def profiling_objected(self, customer_key: str) -> bool:
        return self._redis.hget(keys.customer(INGEST, customer_key, "privacy"), "profiling_objected") == b"1"

    def erased_after(self, customer_key: str, at: datetime) -> bool:
        """Was the customer erased after `at` (a replayed older event must not rebuild the view)?"""
        raw = self._redis.get(_tombstone(customer_key))
        return raw is not None and at <= datetime.fromisoformat(text(cast("bytes", raw)))

    def customer_of(self, consent_id: str) -> str | None:
        raw = self._redis.get(keys.entity(INGEST, "consent", consent_id))
        return text(raw) if raw else None

    def due_for_expiry(self, now: datetime, limit: int = 500) -> list[tuple[str, str]]:
        members = cast("list[bytes]", self._redis.zrangebyscore(_EXPIRY, "-inf", now.timestamp(), start=0, num=limit))
        return [(ck, consent_id) for ck, _, consent_id in (text(m).partition(" ") for m in members)]

    def erase(self, customer_key: str) -> None:
        """Forget everything ingest holds about the customer, including the consent index."""
        consents_key = keys.customer(INGEST, customer_key, "consents")
        consent_ids = [text(c) for c in self._redis.hkeys(consents_key)]
        pipe = self._redis.pipeline()
        for cid in consent_ids:
            pipe.delete(keys.entity(INGEST, "consent", cid))
            pipe.zrem(_EXPIRY, f"{customer_key} {cid}")
        pipe.delete(consents_key)
        # Marketing permissions are erased too: after erasure nothing links offers to the person anyway.
        pipe.delete(keys.customer(INGEST, customer_key, "marketing"))
        pipe.delete(keys.customer(INGEST, customer_key, "privacy"))
        # The consent topic may still hold this customer's older events (consumer lag, replays): the
        # tombstone keeps them from rebuilding a view the erasure removed.
        pipe.set(_tombstone(customer_key), clock.now().isoformat())
        pipe.execute()

    def restore_erasure(self, customer_key: str, erased_at: datetime) -> None:
        """Put a tombstone back (a rebuild, from customer-erasure.v1)."""
        self._redis.set(_tombstone(customer_key), erased_at.isoformat())

    def clear_erasure(self, customer_key: str) -> None:
        """A consent granted after the erasure starts a new relationship."""
        self._redis.delete(_tombstone(customer_key))


def _tombstone(customer_key: str) -> str:
    return keys.entity(INGEST, "erased", customer_key)


_CLAIM = """
local flags = {}
for i, key in ipairs(KEYS) do
  flags[i] = redis.call('SET', key, '1', 'NX', 'EX', ARGV[1]) and 1 or 0
end
return flags
"""


class DedupeWindow:
    def __init__(self, client: redis.Redis, window_s: int) -> None:
        self._redis = client
        self._window_s = window_s
        self._claim = client.register_script(_CLAIM)

    @staticmethod
    def _key(source: str, source_event_id: str) -> str:
        digest = hashlib.sha256(f"{source}\x00{source_event_id}".encode()).hexdigest()[:32]
        return keys.entity(INGEST, "dedupe", digest)

    def claim(self, ids: Sequence[tuple[str, str]]) -> list[bool]:
        """True for each (source, id) seen for the first time within the window. One script call for the
        batch: redis-py packs a 2,000-command pipeline at ~20 µs a command, one command with 2,000 keys
        at a fraction of it (same SET NX EX per key, same atomicity per key)."""
        if not ids:
            return []
        flags = self._claim(keys=[self._key(source, sid) for source, sid in ids], args=[self._window_s])
        return [bool(f) for f in cast("list[int]", flags)]

    def release(self, ids: Sequence[tuple[str, str]]) -> None:
        """Undo claims whose publish failed, so the sender's retry is accepted rather than 'duplicate'."""
        if ids:
            self._redis.delete(*(self._key(s, i) for s, i in ids))
