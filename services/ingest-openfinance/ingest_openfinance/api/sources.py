"""What the source-standard routers share: identity headers, consent registration, mapping errors →
422, batch limits, publish failures → 503."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Header
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ingest_openfinance.api.answer import batch_answer
from ingest_openfinance.domain.mappers.common import DocumentError, Mapped
from ingest_openfinance.domain.mappers.consents import ConsentUpsert
from ingest_openfinance.models import ConsentPublic
from ingest_openfinance.settings import Settings
from ingest_openfinance.usecases.consents import ConsentRegistration
from ingest_openfinance.usecases.events import EventIngestion, PublishFailed
from prometeo.web import Problem

# Identifiers travel in headers, not the URL, so they stay out of access logs.
CustomerHeader = Annotated[str | None, Header(alias="x-customer-id", max_length=64)]
InstitutionHeader = Annotated[str, Header(alias="x-institution", min_length=1, max_length=128)]
AccountHeader = Annotated[str | None, Header(alias="x-account-id", max_length=100)]


def document_problem(exc: DocumentError) -> Problem:
    return Problem(422, "Request validation failed", str(exc), errors=[{"field": exc.field, "message": exc.message}])


async def register_consent_document(
    map_consent: Callable[[], ConsentUpsert], consents: ConsentRegistration
) -> ConsentPublic:
    try:
        upsert = map_consent()
    except DocumentError as exc:
        raise document_problem(exc) from exc
    ck, status, erased = await run_in_threadpool(consents.register, upsert)
    return ConsentPublic(customer_key=ck, consent_id=upsert.consent_id, status=status, erasure_requested=erased)


async def ingest_document(map_document: Callable[[], Mapped], events: EventIngestion, settings: Settings) -> Response:
    try:
        mapped = map_document()
    except DocumentError as exc:
        raise document_problem(exc) from exc
    if len(mapped.items) > settings.max_batch_items:
        raise Problem(413, "Batch too large", f"at most {settings.max_batch_items} records per document")
    try:
        results = await run_in_threadpool(events.ingest_mapped, mapped.items)
    except PublishFailed as exc:
        raise Problem(
            503,
            "Broker unavailable",
            f"{exc}; retry: accepted records answer 'duplicate'",
            headers={"Retry-After": "5"},
        ) from exc
    return batch_answer(results)
