"""Events ingestion: validate, pseudonymise, gate on consent, de-duplicate, publish."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections import Counter
from typing import Any

from pydantic import ValidationError

from ingest_openfinance.domain.consent import gate
from ingest_openfinance.domain.mappers.common import ItemError
from ingest_openfinance.domain.results import ItemResult, ItemStatus
from ingest_openfinance.models import CanonicalEventCreate
from ingest_openfinance.store import ConsentStore, DedupeWindow
from ingest_openfinance.usecases.common import UseCase
from prometeo import clock
from prometeo.bus import EventProducer
from prometeo.bus.producer import PublishInterrupted, SendFuture
from prometeo.contracts import EventPayload, InvalidEvent, payload_model, topics
from prometeo.contracts.wire import EncodedEvent, EnvelopeEncoder
from prometeo.telemetry.metrics import INGEST_ITEMS

_EVENT_NAMESPACE = uuid.UUID("6f1c3f40-8a51-4c8e-9d2b-7d0d3a8f2e11")


class PublishFailed(RuntimeError):
    """The broker did not acknowledge some events; their dedupe claims were released for the retry."""

    def __init__(self, count: int) -> None:
        super().__init__(f"{count} event(s) not acknowledged by the broker")
        self.count = count


def event_id_for(source: str, source_event_id: str) -> uuid.UUID:
    """Stable per source event: downstream idempotency holds even past the dedupe window. The UUIDv5 of
    `uuid.uuid5(_EVENT_NAMESPACE, ...)`."""
    return uuid.UUID(event_id_text(source, source_event_id))


def event_id_text(source: str, source_event_id: str) -> str:
    """`str(event_id_for(...))` without the UUID object in between (it runs per event, and the batch path
    needs only the text: in the envelope's JSON and in the answer)."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + f"{source}\x00{source_event_id}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_NAMESPACE_BYTES = _EVENT_NAMESPACE.bytes


def _field_errors(exc: ValidationError, prefix: str = "") -> str:
    return "; ".join(f"{prefix}{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])


def _refuse_conflicts(
    candidates: list[tuple[int, CanonicalEventCreate, str, EncodedEvent]], results: list[ItemResult | None]
) -> list[tuple[int, CanonicalEventCreate, str, EncodedEvent]]:
    """One source id twice in a request: identical content is a plain duplicate (dedupe answers it), but
    different content is a conflict. Every version is refused, since neither can be trusted over the other."""
    seen: set[tuple[str, str]] = set()
    repeated: set[tuple[str, str]] = set()
    for _, item, _, _ in candidates:
        key = (item.source, item.source_event_id)
        (repeated if key in seen else seen).add(key)
    if not repeated:  # the usual batch: no source id twice, nothing to compare
        return candidates
    versions: dict[tuple[str, str], set[str]] = {}
    for _, item, _, _ in candidates:
        key = (item.source, item.source_event_id)
        if key in repeated:
            versions.setdefault(key, set()).add(json.dumps([item.type, item.payload], sort_keys=True, default=str))
    conflicting = {key for key, bodies in versions.items() if len(bodies) > 1}
    if not conflicting:
        return candidates
    kept = []
    for index, item, ck, envelope in candidates:
        if (item.source, item.source_event_id) in conflicting:
            results[index] = ItemResult(
                index=index,
                status=ItemStatus.CONFLICT,
                reason="source_event_id: repeated in this request with different content (every version refused)",
            )
        else:
            kept.append((index, item, ck, envelope))
    return kept


class EventIngestion(UseCase):
    def __init__(self, producer: EventProducer, consents: ConsentStore, dedupe: DedupeWindow, secret: str) -> None:
        super().__init__(producer, consents, secret)
        self._dedupe = dedupe

    def ingest(self, raw_items: list[Any]) -> list[ItemResult]:
        results: list[ItemResult | None] = [None] * len(raw_items)
        candidates: list[tuple[int, CanonicalEventCreate, str, EncodedEvent]] = []
        typed: dict[int, EventPayload] = {}  # validated once here, not again for the consent gate
        keys: dict[str, str] = {}  # one HMAC per customer of the batch, not per event
        encoder = EnvelopeEncoder(clock.now())  # the batch's events are ingested at one instant
        for index, raw in enumerate(raw_items):
            try:
                item = CanonicalEventCreate.model_validate(raw)
                payload = payload_model(item.type, item.version).model_validate(item.payload)
            except ValidationError as exc:
                results[index] = ItemResult(index=index, status=ItemStatus.INVALID, reason=_field_errors(exc))
                continue
            except InvalidEvent as exc:
                results[index] = ItemResult(index=index, status=ItemStatus.INVALID, reason=str(exc))
                continue
            ck = keys.get(item.customer_id)
            if ck is None:
                ck = keys[item.customer_id] = self.pseudonymise(item.customer_id)
            # Every field is already valid (the key is an HMAC, source was checked above, the payload by its
            # own model): written to its wire bytes without building and validating an Envelope again.
            envelope = encoder.encode(
                payload,
                event_id=event_id_text(item.source, item.source_event_id),
                occurred_at=item.occurred_at,
                customer_key=ck,
                source=item.source,
            )
            candidates.append((index, item, ck, envelope))
            typed[index] = payload
        candidates = _refuse_conflicts(candidates, results)

        consents = self._consents.for_customers(list(keys.values()))
        now = clock.now()
        admitted: list[tuple[int, CanonicalEventCreate, EncodedEvent]] = []
        for index, item, ck, envelope in candidates:
            refusal = gate(consents[ck], envelope.type, typed[index], now)
            if refusal is not None:
                results[index] = ItemResult(index=index, status=ItemStatus.REFUSED_NO_CONSENT, reason=refusal.value)
            else:
                admitted.append((index, item, envelope))

        claims = self._dedupe.claim([(item.source, item.source_event_id) for _, item, _ in admitted])
        fresh = []
        for (index, item, envelope), first in zip(admitted, claims, strict=True):
            if first:
                fresh.append((index, item, envelope))
            else:
                results[index] = ItemResult(index=index, status=ItemStatus.DUPLICATE, event_id=envelope.event_id)
        self._publish(fresh, results)

        final = [r for r in results if r is not None]
        assert len(final) == len(raw_items), "every item gets exactly one result"
        for status, count in Counter(r.status for r in final).items():  # counted per batch, not per item
            INGEST_ITEMS.labels(status.value).inc(count)
        return final

    def ingest_mapped(self, items: list[dict[str, Any] | ItemError]) -> list[ItemResult]:
        """Mapped source records: mapping errors answer `invalid`, the rest go through `ingest` (gate,
        dedupe, publish), so accepted + duplicate + refused + invalid = received still holds."""
        valid = [i for i, item in enumerate(items) if not isinstance(item, ItemError)]
        results: list[ItemResult | None] = [None] * len(items)
        for index, item in enumerate(items):
            if isinstance(item, ItemError):
                status = ItemStatus.UNSUPPORTED if item.unsupported else ItemStatus.INVALID
                results[index] = ItemResult(index=index, status=status, reason=item.reason)
                INGEST_ITEMS.labels(status.value).inc()
        if valid:
            for index, result in zip(valid, self.ingest([items[i] for i in valid]), strict=True):
                results[index] = result.model_copy(update={"index": index})
        return [r for r in results if r is not None]

    def _publish(
        self, fresh: list[tuple[int, CanonicalEventCreate, EncodedEvent]], results: list[ItemResult | None]
    ) -> None:
        """Only what the broker acknowledged is `accepted`. The wait is bounded by the producer's
        delivery timeout (plus a margin); on any failure the claims of every unacknowledged event are
        released, so the sender's retry is published rather than answered `duplicate`."""
        if not fresh:
            return
        deadline = time.monotonic() + self._producer.ack_wait_s
        futures: list[SendFuture] = []
        failed: list[tuple[str, str]] = []
        try:
            futures = self._producer.publish_many(topics.ACCOUNT_EVENTS, [envelope for _, _, envelope in fresh])
        except PublishInterrupted as exc:
            # send() itself failed (no metadata in time, buffer full): the rest were never handed over.
            futures = exc.futures
            self._producer.failed(exc.cause, self._producer.generation)
            failed = [(item.source, item.source_event_id) for _, item, _ in fresh[len(futures) :]]
        # The generation the futures were sent on (the first send may have rebuilt a broken client).
        acked = self._producer.wait_acks(futures, deadline, self._producer.generation)
        # strict=False: after an interrupted send, `fresh` runs past `acked` (that tail is in `failed`).
        for (index, item, envelope), ok in zip(fresh, acked, strict=False):
            if ok:
                results[index] = ItemResult.model_construct(
                    index=index, status=ItemStatus.ACCEPTED, reason=None, event_id=envelope.event_id
                )
            else:
                failed.append((item.source, item.source_event_id))
        if failed:
            self._dedupe.release(failed)
            raise PublishFailed(len(failed))
