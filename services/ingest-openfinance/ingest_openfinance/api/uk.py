"""UK Open Banking account information (v3.1), posted as the ASPSP returned it. Same headers as Brazil:
`X-Customer-Id` (the customer), `X-Institution` (the ASPSP)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool

from prometeo.contracts import utcnow

from ingest_openfinance.api.body import json_body
from ingest_openfinance.api.sources import document_problem, ingest_document
from ingest_openfinance.deps import IngestorDep, SettingsDep
from ingest_openfinance.domain.mappers import uk
from ingest_openfinance.domain.mappers.common import DocumentError
from ingest_openfinance.domain.results import BatchResultPublic
from ingest_openfinance.models import ConsentPublic

router = APIRouter(prefix="/v1/openbanking/uk", tags=["open-banking-uk"])

CustomerHeader = Annotated[str | None, Header(alias="x-customer-id", max_length=64)]
InstitutionHeader = Annotated[str, Header(alias="x-institution", min_length=1, max_length=128)]


@router.post("/account-access-consents")
async def register_consent(request: Request, ingestor: IngestorDep, settings: SettingsDep,
                           institution: InstitutionHeader, customer_id: CustomerHeader = None) -> ConsentPublic:
    """Body: `GET /account-access-consents/{ConsentId}` response; v3.1 Revoked and v4 EXPD/CANC end the consent."""
    document = await json_body(request, settings.max_body_bytes)
    try:
        upsert = uk.map_consent(document, customer_id=customer_id, institution=institution)
    except DocumentError as exc:
        raise document_problem(exc) from exc
    ck, status, erased = await run_in_threadpool(ingestor.register, upsert)
    return ConsentPublic(customer_key=ck, consent_id=upsert.consent_id, status=status, erasure_requested=erased)


@router.post("/{resource}")
async def ingest_resource(resource: uk.Resource, request: Request, ingestor: IngestorDep, settings: SettingsDep,
                          institution: InstitutionHeader, customer_id: CustomerHeader = None) -> BatchResultPublic:
    document = await json_body(request, settings.max_body_bytes, decimals=True)
    now = utcnow()
    return await ingest_document(
        lambda: uk.map_resource(resource, document, customer_id=customer_id, institution=institution, now=now),
        ingestor, settings,
    )
