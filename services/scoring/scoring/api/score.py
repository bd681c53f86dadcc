"""Synchronous scoring: one customer or a batch, every product the model covers, with reasons."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from prometeo.contracts import ProductCode
from prometeo.contracts.events import ProductScore
from prometeo.web import Problem
from scoring.deps import ModelDep, SettingsDep
from scoring.domain.scorer import ScoringInput
from scoring.models import LoadedModel

router = APIRouter(prefix="/v1", tags=["score"])


class ScoreItem(BaseModel):
    customer_key: str | None = Field(default=None, max_length=128)
    features: dict[str, float]
    held_products: list[ProductCode] = []
    held_elsewhere: list[ProductCode] = []


class ScoreBatch(BaseModel):
    items: list[ScoreItem] = Field(min_length=1)


class CustomerScoresPublic(BaseModel):
    customer_key: str | None
    model_name: str
    model_version: str
    feature_set_version: str
    scores: list[ProductScore]


class ScoresBatchPublic(BaseModel):
    model_name: str
    model_version: str
    feature_set_version: str
    items: list[CustomerScoresPublic]


def _score(model: LoadedModel, items: list[ScoreItem], reasons: int) -> list[CustomerScoresPublic]:
    inputs = [
        ScoringInput(i.features, [p.value for p in i.held_products], [p.value for p in i.held_elsewhere]) for i in items
    ]
    return [
        CustomerScoresPublic(
            customer_key=item.customer_key,
            model_name=model.name,
            model_version=model.version,
            feature_set_version=model.feature_set_version,
            scores=scores,
        )
        for item, scores in zip(items, model.score(inputs, reasons), strict=True)
    ]


@router.post("/score")
def score(
    body: ScoreBatch | ScoreItem, model: ModelDep, settings: SettingsDep
) -> CustomerScoresPublic | ScoresBatchPublic:
    if isinstance(body, ScoreItem):
        return _score(model, [body], settings.reasons_per_product)[0]
    if len(body.items) > settings.max_batch:
        raise Problem(413, "Batch too large", f"at most {settings.max_batch} items per request")
    return ScoresBatchPublic(
        model_name=model.name,
        model_version=model.version,
        feature_set_version=model.feature_set_version,
        items=_score(model, body.items, settings.reasons_per_product),
    )
