"""The per-item answer of a batch, written by orjson from the results as they are. Returned as a model,
FastAPI validates every item of it again and dumps it through a TypeAdapter: for a 2,000-event batch a
visible share of the request. Routes keep `response_model=BatchResultPublic` for the published schema."""

from __future__ import annotations

import orjson
from fastapi.responses import Response

from ingest_openfinance.domain.results import ItemResult, ItemStatus


def batch_answer(results: list[ItemResult]) -> Response:
    """The JSON of `BatchResultPublic.of(results)` (tests/unit/ingest_openfinance/test_batch_answer.py)."""
    counts = dict.fromkeys(ItemStatus, 0)
    items = []
    for r in results:
        counts[r.status] += 1
        items.append({"index": r.index, "status": r.status.value, "reason": r.reason, "event_id": r.event_id})
    body = {"received": len(results), "counts": {s.value: n for s, n in counts.items()}, "items": items}
    return Response(orjson.dumps(body), media_type="application/json")
