"""What the source-standard routers share: mapping errors → 422, batch limits, publish failures → 503."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.concurrency import run_in_threadpool

from prometeo.web import Problem

from ingest_openfinance.domain.mappers.common import DocumentError, Mapped
from ingest_openfinance.domain.results import BatchResultPublic
from ingest_openfinance.ingestion import Ingestor, PublishFailed
from ingest_openfinance.settings import Settings


def document_problem(exc: DocumentError) -> Problem:
    return Problem(422, "Request validation failed", str(exc), errors=[{"field": exc.field, "message": exc.message}])


async def ingest_document(map_document: Callable[[], Mapped], ingestor: Ingestor,
                          settings: Settings) -> BatchResultPublic:
    try:
        mapped = map_document()
    except DocumentError as exc:
        raise document_problem(exc) from exc
    if len(mapped.items) > settings.max_batch_items:
        raise Problem(413, "Batch too large", f"at most {settings.max_batch_items} records per document")
    try:
        results = await run_in_threadpool(ingestor.ingest_mapped, mapped.items)
    except PublishFailed as exc:
        raise Problem(503, "Broker unavailable", f"{exc}; retry: accepted records answer 'duplicate'",
                      headers={"Retry-After": "5"}) from exc
    return BatchResultPublic.of(results)
