"""Open Finance Brasil resources, posted as the regulated APIs return them (one GET response per request).

The resource payloads do not carry the customer's CPF, so the caller names the customer in `X-Customer-Id`
(headers, not the URL, keep the identifier out of access logs), the transmitting institution in
`X-Institution`, and for balances and transactions the `accountId` of the path in `X-Account-Id`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool

from prometeo.contracts import utcnow

from ingest_openfinance.api.body import json_body
from ingest_openfinance.api.sources import document_problem, ingest_document
from ingest_openfinance.deps import IngestorDep, SettingsDep
from ingest_openfinance.domain.mappers import brasil
from ingest_openfinance.domain.mappers.common import DocumentError
from ingest_openfinance.domain.results import BatchResultPublic
from ingest_openfinance.models import ConsentPublic

router = APIRouter(prefix="/v1/openfinance/brasil", tags=["open-finance-brasil"])

CustomerHeader = Annotated[str | None, Header(alias="x-customer-id", max_length=64)]
InstitutionHeader = Annotated[str, Header(alias="x-institution", min_length=1, max_length=128)]
AccountHeader = Annotated[str | None, Header(alias="x-account-id", max_length=100)]


@router.post("/consents")
async def register_consent(request: Request, ingestor: IngestorDep, settings: SettingsDep,
                           institution: InstitutionHeader, customer_id: CustomerHeader = None) -> ConsentPublic:
    """Body: `GET /consents/{consentId}` response. REJECTED + reason code maps to revoked / expired / rejected."""
    document = await json_body(request, settings.max_body_bytes)
    try:
        upsert = brasil.map_consent(document, customer_id=customer_id, institution=institution)
    except DocumentError as exc:
        raise document_problem(exc) from exc
    ck, status, erased = await run_in_threadpool(ingestor.register, upsert)
    return ConsentPublic(customer_key=ck, consent_id=upsert.consent_id, status=status, erasure_requested=erased)


@router.post("/{resource}")
async def ingest_resource(resource: brasil.Resource, request: Request, ingestor: IngestorDep,
                          settings: SettingsDep, institution: InstitutionHeader,
                          customer_id: CustomerHeader = None, account_id: AccountHeader = None) -> BatchResultPublic:
    """Body: the resource's GET response (`{data: [...], links, meta}`); answered per record of `data`."""
    document = await json_body(request, settings.max_body_bytes, decimals=True)
    now = utcnow()
    return await ingest_document(
        lambda: brasil.map_resource(resource, document, customer_id=customer_id, institution=institution,
                                    parent_id=account_id, now=now),
        ingestor, settings,
    )
