"""UK Open Banking account information (v3.1), posted as the ASPSP returned it. Same headers as Brazil:
`X-Customer-Id` (the customer), `X-Institution` (the ASPSP)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ingest_openfinance.api.body import json_body
from ingest_openfinance.api.sources import (
    CustomerHeader,
    InstitutionHeader,
    ingest_document,
    register_consent_document,
)
from ingest_openfinance.deps import ConsentsDep, EventsDep, SettingsDep
from ingest_openfinance.domain.mappers import uk
from ingest_openfinance.domain.results import BatchResultPublic
from ingest_openfinance.models import ConsentPublic
from prometeo import clock
from prometeo.web.openapi import json_body_doc

router = APIRouter(prefix="/v1/openbanking/uk", tags=["open-banking-uk"])


@router.post(
    "/account-access-consents",
    openapi_extra=json_body_doc(description="The GET /account-access-consents/{ConsentId} response"),
)
async def register_consent(
    request: Request,
    consents: ConsentsDep,
    settings: SettingsDep,
    institution: InstitutionHeader,
    customer_id: CustomerHeader = None,
) -> ConsentPublic:
    """Body: `GET /account-access-consents/{ConsentId}` response; v3.1 Revoked and v4 EXPD/CANC end the consent."""
    document = await json_body(request, settings.max_body_bytes)
    return await register_consent_document(
        lambda: uk.map_consent(document, customer_id=customer_id, institution=institution), consents
    )


@router.post(
    "/{resource}",
    response_model=BatchResultPublic,
    openapi_extra=json_body_doc(description="The resource's GET response"),
)
async def ingest_resource(
    resource: uk.Resource,
    request: Request,
    events: EventsDep,
    settings: SettingsDep,
    institution: InstitutionHeader,
    customer_id: CustomerHeader = None,
) -> Response:
    document = await json_body(request, settings.max_body_bytes, decimals=True)
    now = clock.now()
    return await ingest_document(
        lambda: uk.map_resource(resource, document, customer_id=customer_id, institution=institution, now=now),
        events,
        settings,
    )
