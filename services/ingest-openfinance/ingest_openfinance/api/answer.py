"""The per-item answer of a batch, written by orjson from the results as they are. Returned as a model,
FastAPI validates every item of it again and dumps it through a TypeAdapter: for a 2,000-event batch a
visible share of the request. Routes keep `response_model=BatchResultPublic` for the published schema."""

from __future__ import annotations

from collections import Counter
from operator import attrgetter

import orjson
from fastapi.responses import Response

from ingest_openfinance.domain.results import ItemResult, ItemStatus

_STATUS = attrgetter("status")


def batch_answer(results: list[ItemResult]) -> Response:
    """The JSON of `BatchResultPublic.of(results)` (tests/unit/ingest_openfinance/test_batch_answer.py).
    An item is its model's fields as pydantic holds them (`__dict__`: index, status, reason, event_id; the
    status a StrEnum, which orjson writes as its value), so no per-item dict or enum lookup is built."""
    counted = Counter(map(_STATUS, results))
    body = {
        "received": len(results),
        "counts": {status.value: counted.get(status, 0) for status in ItemStatus},
        "items": [r.__dict__ for r in results],
    }
    return Response(orjson.dumps(body), media_type="application/json")
