"""Consents: granted, changed, registered as a source standard reports them, and expired by time.

A consent that ends while the customer has no other active one requests the customer's erasure.
"""

from __future__ import annotations

from datetime import datetime

from ingest_openfinance.domain.consent import ENDED_STATUSES, ConsentRecord
from ingest_openfinance.domain.mappers.consents import ConsentUpsert
from ingest_openfinance.models import ConsentCreate
from ingest_openfinance.store import ConsentStore
from ingest_openfinance.usecases.common import UseCase
from ingest_openfinance.usecases.data_subject import DataSubjectRequests
from prometeo import clock
from prometeo.bus import EventProducer
from prometeo.contracts import EventPayload, topics
from prometeo.contracts.events import ConsentChangedV1, ConsentGrantedV1, ConsentStatus


class ConsentRegistration(UseCase):
    def __init__(
        self, producer: EventProducer, consents: ConsentStore, secret: str, data_subject: DataSubjectRequests
    ) -> None:
        super().__init__(producer, consents, secret)
        self._data_subject = data_subject

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
            jurisdiction=body.jurisdiction,
        )
        granted = ConsentGrantedV1(
            consent_id=body.consent_id,
            institution=body.institution,
            scopes=body.scopes,
            purposes=body.purposes,
            expires_at=body.expires_at,
            marketing_channels=body.marketing_channels,
            jurisdiction=body.jurisdiction,
        )
        events: list[EventPayload] = [granted]
        if body.status is not ConsentStatus.AUTHORISED:
            events.append(ConsentChangedV1(consent_id=body.consent_id, status=body.status))
        self._emit(topics.CONSENT_EVENTS, ck, events)
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
        self._emit(topics.CONSENT_EVENTS, ck, [ConsentChangedV1(consent_id=consent_id, status=status, reason=reason)])
        self._consents.put(ck, current.model_copy(update={"status": status}))
        if status in ENDED_STATUSES and not self._has_other_active(ck, consent_id):
            erasure = "consent_expired" if status is ConsentStatus.EXPIRED else "consent_revoked"
            self._data_subject.request_erasure(ck, erasure)
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
        now = clock.now()
        return any(c.active_at(now) for c in self._consents.for_customers([ck])[ck] if c.consent_id != consent_id)

    def expire_due(self, now: datetime | None = None) -> int:
        """Expiry is enforced by time: consents past expires_at end even if no status update comes."""
        expired = 0
        for _ck, consent_id in self._consents.due_for_expiry(now or clock.now()):
            if self.change_status(consent_id, ConsentStatus.EXPIRED, "CONSENT_EXPIRED") is not None:
                expired += 1
        return expired
