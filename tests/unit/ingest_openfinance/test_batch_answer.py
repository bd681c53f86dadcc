"""The batch answer is written by orjson, not by FastAPI from the model: it must be the JSON the
`BatchResultPublic` model gives, and the OpenAPI document must still describe it."""

from __future__ import annotations

import orjson

from ingest_openfinance.api.answer import batch_answer
from ingest_openfinance.domain.results import BatchResultPublic, ItemResult, ItemStatus
from ingest_openfinance.main import app


def _results() -> list[ItemResult]:
    return [
        ItemResult.model_construct(index=0, status=ItemStatus.ACCEPTED, reason=None, event_id="e-0"),
        ItemResult(index=1, status=ItemStatus.INVALID, reason='payload.amount: "12,00" ç→€ is not a number'),
        ItemResult(index=2, status=ItemStatus.DUPLICATE, event_id="e-2"),
        ItemResult(index=3, status=ItemStatus.REFUSED_NO_CONSENT, reason="no_consent"),
        ItemResult(index=4, status=ItemStatus.ACCEPTED, event_id="e-4"),
        # ingest_mapped renumbers results to their source index with model_copy.
        ItemResult(index=0, status=ItemStatus.CONFLICT, reason="repeated").model_copy(update={"index": 5}),
    ]


def test_the_answer_is_the_models_json() -> None:
    results = _results()
    answer = batch_answer(results)
    assert answer.media_type == "application/json"
    expected = BatchResultPublic.of(results).model_dump(mode="json")
    assert orjson.loads(answer.body) == expected
    assert expected["counts"] == {
        "accepted": 2,
        "duplicate": 1,
        "refused_no_consent": 1,
        "invalid": 1,
        "conflict": 1,
        "unsupported": 0,
    }


def test_an_empty_batch_counts_every_status_as_zero() -> None:
    assert orjson.loads(batch_answer([]).body) == BatchResultPublic.of([]).model_dump(mode="json")


def test_the_published_schema_still_names_the_answer() -> None:
    paths = app.openapi()["paths"]
    for path in ("/v1/events:batch", "/v1/openfinance/brasil/{resource}", "/v1/webhooks/belvo"):
        ok = paths[path]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": "#/components/schemas/BatchResultPublic"}, path
