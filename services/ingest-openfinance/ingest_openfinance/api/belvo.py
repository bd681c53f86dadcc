"""Belvo-style aggregator webhooks: transactions created, updated and deleted (Mexico, Colombia, Chile)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ingest_openfinance.api.body import json_body
from ingest_openfinance.api.sources import ingest_document
from ingest_openfinance.deps import EventsDep, SettingsDep
from ingest_openfinance.domain.mappers import belvo
from ingest_openfinance.domain.results import BatchResultPublic
from prometeo import clock
from prometeo.web.openapi import json_body_doc

router = APIRouter(prefix="/v1/webhooks", tags=["aggregators"])


@router.post(
    "/belvo",
    response_model=BatchResultPublic,
    openapi_extra=json_body_doc(description="A Belvo webhook notification"),
)
async def belvo_webhook(request: Request, events: EventsDep, settings: SettingsDep) -> Response:
    """Answered per transaction. Webhook types other than TRANSACTIONS are acknowledged with nothing ingested."""
    document = await json_body(request, settings.max_body_bytes, decimals=True)
    now = clock.now()
    return await ingest_document(lambda: belvo.map_webhook(document, now=now), events, settings)
