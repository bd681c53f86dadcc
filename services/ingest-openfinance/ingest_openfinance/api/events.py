"""POST /v1/events:batch — canonical events, answered per item."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ingest_openfinance.api.answer import batch_answer
from ingest_openfinance.api.body import json_body
from ingest_openfinance.deps import EventsDep, SettingsDep
from ingest_openfinance.domain.results import BatchResultPublic
from ingest_openfinance.usecases.events import PublishFailed
from prometeo.contracts.ingest_api import EventsBatchCreate
from prometeo.web import Problem
from prometeo.web.openapi import json_body_doc

router = APIRouter(prefix="/v1", tags=["events"])


@router.post(
    "/events:batch",
    response_model=BatchResultPublic,
    openapi_extra=json_body_doc(EventsBatchCreate),
)
async def ingest_batch(request: Request, events: EventsDep, settings: SettingsDep) -> Response:
    body = await json_body(request, settings.max_body_bytes)
    items = body.get("events") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise Problem(
            422,
            "Request validation failed",
            "body must be an object with an 'events' array",
            errors=[{"field": "events", "message": "required array"}],
        )
    if len(items) > settings.max_batch_items:
        raise Problem(413, "Batch too large", f"at most {settings.max_batch_items} events per batch")
    try:
        results = await run_in_threadpool(events.ingest, items)
    except PublishFailed as exc:
        raise Problem(
            503,
            "Broker unavailable",
            f"{exc}; retry the batch: accepted items answer 'duplicate'",
            headers={"Retry-After": "5"},
        ) from exc
    return batch_answer(results)
