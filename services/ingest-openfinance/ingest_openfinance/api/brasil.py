"""Open Finance Brasil resources, posted as the regulated APIs return them (one GET response per request).

The resource payloads do not carry the customer's CPF, so the caller names the customer in `X-Customer-Id`
(headers, not the URL, keep the identifier out of access logs), the transmitting institution in
`X-Institution`, and for balances and transactions the `accountId` of the path in `X-Account-Id`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ingest_openfinance.api.body import json_body
from ingest_openfinance.api.sources import (
    AccountHeader,
    CustomerHeader,
    InstitutionHeader,
    ingest_document,
    register_consent_document,
)
from ingest_openfinance.deps import ConsentsDep, EventsDep, SettingsDep
from ingest_openfinance.domain.mappers import brasil
from ingest_openfinance.domain.results import BatchResultPublic
from ingest_openfinance.models import ConsentPublic
from prometeo import clock
from prometeo.web.openapi import json_body_doc

router = APIRouter(prefix="/v1/openfinance/brasil", tags=["open-finance-brasil"])


@router.post("/consents", openapi_extra=json_body_doc(description="The GET /consents/{consentId} response"))
async def register_consent(
    request: Request,
    consents: ConsentsDep,
    settings: SettingsDep,
    institution: InstitutionHeader,
    customer_id: CustomerHeader = None,
) -> ConsentPublic:
    """Body: `GET /consents/{consentId}` response. REJECTED + reason code maps to revoked / expired / rejected."""
    document = await json_body(request, settings.max_body_bytes)
    return await register_consent_document(
        lambda: brasil.map_consent(document, customer_id=customer_id, institution=institution, now=clock.now()),
        consents,
    )


@router.post(
    "/{resource}",
    response_model=BatchResultPublic,
    openapi_extra=json_body_doc(description="The resource's GET response"),
)
async def ingest_resource(
    resource: brasil.Resource,
    request: Request,
    events: EventsDep,
    settings: SettingsDep,
    institution: InstitutionHeader,
    customer_id: CustomerHeader = None,
    account_id: AccountHeader = None,
) -> Response:
    """Body: the resource's GET response (`{data: [...], links, meta}`); answered per record of `data`."""
    document = await json_body(request, settings.max_body_bytes, decimals=True)
    now = clock.now()
    return await ingest_document(
        lambda: brasil.map_resource(
            resource, document, customer_id=customer_id, institution=institution, parent_id=account_id, now=now
        ),
        events,
        settings,
    )
