"""Data-subject rights at the edge: portability (what ingest holds), erasure, rectification of the profile
and objection to profiling, each published for every service to act on."""

from __future__ import annotations

import logging

from ingest_openfinance.models import ConsentExport, CustomerExportPublic, ObjectionCreate, RectificationCreate
from ingest_openfinance.usecases.common import UseCase
from prometeo import clock
from prometeo.contracts import topics
from prometeo.contracts.envelope import Envelope
from prometeo.contracts.events import CustomerErasureRequestedV1, CustomerRectifiedV1, ProfilingObjectionChangedV1


class NothingToRectify(ValueError):
    """A rectification that names no field."""


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
                jurisdiction=c.jurisdiction,
            )
            for c in sorted(self._consents.for_customers([ck])[ck], key=lambda c: c.consent_id)
        ]
        marketing = {channel: record.permission.value for channel, record in self._consents.marketing([ck])[ck].items()}
        return CustomerExportPublic(
            customer_key=ck,
            exported_at=clock.now(),
            consents=consents,
            marketing=marketing,
            profiling_objected=self._consents.profiling_objected(ck),
        )

    def rectify(self, body: RectificationCreate) -> Envelope:
        """The corrected profile goes to account-events.v1, where every service holding profile data
        (feature-store, the gateway's scopes) folds it in. Not consent-gated: correcting data already
        held is the customer's right, not new processing."""
        fields = body.model_dump(exclude={"customer_id"}, exclude_none=True)
        if not fields:
            raise NothingToRectify("name at least one profile field to correct")
        ck = self.pseudonymise(body.customer_id)
        [event] = self._emit(topics.ACCOUNT_EVENTS, ck, [CustomerRectifiedV1(**fields)])
        log.info("profile rectified", extra={"customer_key": ck, "fields": sorted(fields)})
        return event

    def object_to_profiling(self, body: ObjectionCreate) -> Envelope:
        """Opposition to profiling: on consent-events.v1, so feature-store stops publishing features,
        next-best-action stops deciding and campaigns stops sending; other consents stand."""
        ck = self.pseudonymise(body.customer_id)
        [event] = self._emit(topics.CONSENT_EVENTS, ck, [ProfilingObjectionChangedV1(objected=body.objected)])
        self._consents.put_objection(ck, body.objected)
        log.info("profiling objection changed", extra={"customer_key": ck, "objected": body.objected})
        return event
