"""Ingestion use cases: validate, pseudonymise, gate on consent, de-duplicate, publish.

Consents are written to Kafka first (the compacted topic is the source of truth) and then to the
Redis view, so an event posted right after its consent is already admitted.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from ingest_openfinance.domain.consent import ENDED_STATUSES, ConsentRecord, gate
from ingest_openfinance.domain.mappers.common import ItemError
from ingest_openfinance.domain.mappers.consents import ConsentUpsert
from ingest_openfinance.domain.results import ItemResult, ItemStatus
from ingest_openfinance.models import CanonicalEventCreate, ConsentCreate, ConsentExport, CustomerExportPublic
from ingest_openfinance.store import ConsentStore, DedupeWindow
from prometeo.bus import EventProducer
from prometeo.contracts import InvalidEvent, new_event, payload_model, topics, utcnow
from prometeo.contracts.envelope import Envelope
from prometeo.contracts.events import ConsentChangedV1, ConsentGrantedV1, ConsentStatus, CustomerErasureRequestedV1
from prometeo.identity import customer_key
from prometeo.telemetry.metrics import INGEST_ITEMS

log = logging.getLogger(__name__)
SOURCE = "ingest-openfinance"
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


class Ingestor:
    def __init__(self, producer: EventProducer, consents: ConsentStore, dedupe: DedupeWindow, secret: str) -> None:
        self._producer = producer
        self._consents = consents
        self._dedupe = dedupe
        self._secret = secret

    def pseudonymise(self, customer_id: str) -> str:
        return customer_key(customer_id, self._secret)

    # -- consents ----------------------------------------------------------------------------------
    def grant(self, body: ConsentCreate) -> tuple[str, ConsentRecord]:
        ck = self.pseudonymise(body.customer_id)
        record = ConsentRecord(
            consent_id=body.consent_id,
            institution=body.institution,
            scopes=frozenset(body.scopes),
            purposes=frozenset(body.purposes),
            status=body.status,
            expires_at=body.expires_at,
            marketing_channels=tuple(body.marketing_channels),
        )
        granted = ConsentGrantedV1(
            consent_id=body.consent_id,
            institution=body.institution,
            scopes=body.scopes,
            purposes=body.purposes,
            expires_at=body.expires_at,
            marketing_channels=body.marketing_channels,
        )
        events = [new_event(granted, customer_key=ck, source=SOURCE)]
        if body.status is not ConsentStatus.AUTHORISED:
            events.append(
                new_event(
                    ConsentChangedV1(consent_id=body.consent_id, status=body.status), customer_key=ck, source=SOURCE
                )
            )
        self._producer.publish_all(topics.CONSENT_EVENTS, events)
        self._consents.put(ck, record)
        self._consents.clear_erasure(ck)
        return ck, record

    def change_status(self, consent_id: str, status: ConsentStatus, reason: str | None) -> tuple[str, bool] | None:
        """Returns (customer_key, erasure requested), or None for an unknown consent."""
        ck = self._consents.customer_of(consent_id)
        if ck is None:
            return None
        current = next((c for c in self._consents.for_customers([ck])[ck] if c.consent_id == consent_id), None)
        if current is None:
            return None
        changed = new_event(
            ConsentChangedV1(consent_id=consent_id, status=status, reason=reason), customer_key=ck, source=SOURCE
        )
        self._producer.publish_all(topics.CONSENT_EVENTS, [changed])
        self._consents.put(ck, current.model_copy(update={"status": status}))
        if status in ENDED_STATUSES and not self._has_other_active(ck, consent_id):
            erasure = "consent_expired" if status is ConsentStatus.EXPIRED else "consent_revoked"
            self.request_erasure(ck, erasure)  # type: ignore[arg-type]
            return ck, True
        return ck, False

    def register(self, upsert: ConsentUpsert) -> tuple[str, ConsentStatus, bool]:
        """A consent as a source standard reports it: granted when new, else a status change.
        Returns (customer_key, status, erasure requested)."""
        ck = self.pseudonymise(upsert.customer_id)
        create = ConsentCreate(
            customer_id=upsert.customer_id,
            consent_id=upsert.consent_id,
            institution=upsert.institution,
            scopes=upsert.scopes,
            status=upsert.status,
            expires_at=upsert.expires_at,
        )
        known = self._consents.customer_of(upsert.consent_id)
        if known is None:
            self.grant(create)
            return ck, upsert.status, False
        current = next(
            (c for c in self._consents.for_customers([known])[known] if c.consent_id == upsert.consent_id), None
        )
        if current is not None and current.status is upsert.status:
            # Open Finance Brasil extends a consent in place (same id, later expirationDateTime).
            renewed = current.expires_at != upsert.expires_at or current.scopes != frozenset(upsert.scopes)
            if renewed and upsert.status is ConsentStatus.AUTHORISED and known == ck:
                self.grant(create)
            return known, upsert.status, False
        changed = self.change_status(upsert.consent_id, upsert.status, upsert.reason)
        return known, upsert.status, bool(changed and changed[1])

    def _has_other_active(self, ck: str, consent_id: str) -> bool:
        now = utcnow()
        return any(c.active_at(now) for c in self._consents.for_customers([ck])[ck] if c.consent_id != consent_id)

    def request_erasure(self, ck: str, reason: str) -> Envelope:
        event = new_event(CustomerErasureRequestedV1(reason=reason), customer_key=ck, source=SOURCE)  # type: ignore[arg-type]
        self._producer.publish_all(topics.CUSTOMER_ERASURE, [event])
        self._consents.erase(ck)
        log.info("erasure requested", extra={"customer_key": ck, "reason": reason})
        return event

    def expire_due(self, now: datetime | None = None) -> int:
        """Expiry is enforced by time: consents past expires_at end even if no status update comes."""
        expired = 0
        for _ck, consent_id in self._consents.due_for_expiry(now or utcnow()):
            if self.change_status(consent_id, ConsentStatus.EXPIRED, "CONSENT_EXPIRED") is not None:
                expired += 1
        return expired

    def export(self, customer_id: str) -> CustomerExportPublic:
        ck = self.pseudonymise(customer_id)
        consents = [
            ConsentExport(
                consent_id=c.consent_id,
                institution=c.institution,
                scopes=sorted(c.scopes),
                purposes=sorted(c.purposes),
                status=c.status,
                expires_at=c.expires_at,
            )
            for c in sorted(self._consents.for_customers([ck])[ck], key=lambda c: c.consent_id)
        ]
        marketing = {channel: record.permission.value for channel, record in self._consents.marketing([ck])[ck].items()}
        return CustomerExportPublic(customer_key=ck, exported_at=utcnow(), consents=consents, marketing=marketing)

    # -- events ------------------------------------------------------------------------------------
    def ingest(self, raw_items: list[Any]) -> list[ItemResult]:
        results: list[ItemResult | None] = [None] * len(raw_items)
        candidates: list[tuple[int, CanonicalEventCreate, str, Envelope]] = []
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
        candidates = _refuse_conflicts(candidates, results)

        consents = self._consents.for_customers([ck for _, _, ck, _ in candidates])
        now = utcnow()
        admitted: list[tuple[int, CanonicalEventCreate, Envelope]] = []
        for index, item, ck, envelope in candidates:
            refusal = gate(consents[ck], envelope.type, envelope.typed(), now)
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
        futures = [(i, item, env, self._producer.publish(topics.ACCOUNT_EVENTS, env)) for i, item, env in fresh]
        self._producer.flush()
        failed = []
        for index, item, envelope, future in futures:
            try:
                future.get(timeout=30)
                results[index] = ItemResult(index=index, status=ItemStatus.ACCEPTED, event_id=str(envelope.event_id))
            except Exception:
                failed.append((item.source, item.source_event_id))
        if failed:
            self._dedupe.release(failed)
            raise PublishFailed(len(failed))
