"""Events ingestion: validate, pseudonymise, gate on consent, de-duplicate, publish."""

from __future__ import annotations

import json
import time
import uuid
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
from prometeo.bus.producer import SendFuture
from prometeo.contracts import EventPayload, InvalidEvent, new_event, payload_model, topics
from prometeo.contracts.envelope import Envelope
from prometeo.telemetry.metrics import INGEST_ITEMS

_EVENT_NAMESPACE = uuid.UUID("6f1c3f40-8a51-4c8e-9d2b-7d0d3a8f2e11")


class PublishFailed(RuntimeError):
    """The broker did not acknowledge some events; their dedupe claims were released for the retry."""

    def __init__(self, count: int) -> None:
        super().__init__(f"{count} event(s) not acknowledged by the broker")
        self.count = count


def event_id_for(source: str, source_event_id: str) -> uuid.UUID:
    """Stable per source event: downstream idempotency holds even past the dedupe window."""
    return uuid.uuid5(_EVENT_NAMESPACE, f"{source}\x00{source_event_id}")


def _field_errors(exc: ValidationError, prefix: str = "") -> str:
    return "; ".join(f"{prefix}{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])


def _refuse_conflicts(
    candidates: list[tuple[int, CanonicalEventCreate, str, Envelope]], results: list[ItemResult | None]
) -> list[tuple[int, CanonicalEventCreate, str, Envelope]]:
    """One source id twice in a request: identical content is a plain duplicate (dedupe answers it), but
    different content is a conflict. Every version is refused, since neither can be trusted over the other."""
    versions: dict[tuple[str, str], set[str]] = {}
    for _, item, _, _ in candidates:
        body = json.dumps([item.type, item.payload], sort_keys=True, default=str)
        versions.setdefault((item.source, item.source_event_id), set()).add(body)
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
        candidates: list[tuple[int, CanonicalEventCreate, str, Envelope]] = []
        typed: dict[int, EventPayload] = {}  # validated once here, not again for the consent gate
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
            ck = self.pseudonymise(item.customer_id)
            envelope = new_event(
                payload,
                customer_key=ck,
                source=item.source,
                occurred_at=item.occurred_at,
                event_id=event_id_for(item.source, item.source_event_id),
            )
            candidates.append((index, item, ck, envelope))
            typed[index] = payload
        candidates = _refuse_conflicts(candidates, results)

        consents = self._consents.for_customers([ck for _, _, ck, _ in candidates])
        now = clock.now()
        admitted: list[tuple[int, CanonicalEventCreate, Envelope]] = []
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
                results[index] = ItemResult(index=index, status=ItemStatus.DUPLICATE, event_id=str(envelope.event_id))
        self._publish(fresh, results)

        final = [r for r in results if r is not None]
        assert len(final) == len(raw_items), "every item gets exactly one result"
        for r in final:
            INGEST_ITEMS.labels(r.status.value).inc()
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
        self, fresh: list[tuple[int, CanonicalEventCreate, Envelope]], results: list[ItemResult | None]
    ) -> None:
        """Only what the broker acknowledged is `accepted`. The wait is bounded by the producer's
        delivery timeout (plus a margin); on any failure the claims of every unacknowledged event are
        released, so the sender's retry is published rather than answered `duplicate`."""
        if not fresh:
            return
        deadline = time.monotonic() + self._producer.ack_wait_s
        futures: list[tuple[int, CanonicalEventCreate, Envelope, SendFuture]] = []
        failed: list[tuple[str, str]] = []
        try:
            for index, item, envelope in fresh:
                futures.append((index, item, envelope, self._producer.publish(topics.ACCOUNT_EVENTS, envelope)))
        except Exception as exc:
            # send() itself failed (no metadata in time, buffer full): the rest were never handed over.
            self._producer.failed(exc, self._producer.generation)
            failed = [(item.source, item.source_event_id) for _, item, _ in fresh[len(futures) :]]
        # The generation the futures were sent on (the first send may have rebuilt a broken client).
        acked = self._producer.wait_acks([f for *_, f in futures], deadline, self._producer.generation)
        for (index, item, envelope, _), ok in zip(futures, acked, strict=True):
            if ok:
                results[index] = ItemResult(index=index, status=ItemStatus.ACCEPTED, event_id=str(envelope.event_id))
            else:
                failed.append((item.source, item.source_event_id))
        if failed:
            self._dedupe.release(failed)
            raise PublishFailed(len(failed))
