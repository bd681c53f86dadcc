"""Data-subject rights: portability (what ingest holds about a customer) and erasure across the platform."""

from __future__ import annotations

import logging

from ingest_openfinance.models import ConsentExport, CustomerExportPublic
from ingest_openfinance.usecases.common import UseCase
from prometeo import clock
from prometeo.contracts import topics
from prometeo.contracts.envelope import Envelope
from prometeo.contracts.events import CustomerErasureRequestedV1

log = logging.getLogger(__name__)


class DataSubjectRequests(UseCase):
    def request_erasure(self, ck: str, reason: str) -> Envelope:
        [event] = self._emit(topics.CUSTOMER_ERASURE, ck, [CustomerErasureRequestedV1(reason=reason)])
        self._consents.erase(ck)
        log.info("erasure requested", extra={"customer_key": ck, "reason": reason})
        return event

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
        return CustomerExportPublic(customer_key=ck, exported_at=clock.now(), consents=consents, marketing=marketing)
