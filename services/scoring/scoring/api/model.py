"""Which model versions this instance serves."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from scoring.deps import ModelsDep

router = APIRouter(prefix="/v1", tags=["model"])


class LoadedModelPublic(BaseModel):
    name: str
    alias: str
    version: str
    feature_set_version: str
    products: list[str]
    loaded_at: datetime


@router.get("/models")
def loaded_models(models: ModelsDep) -> list[LoadedModelPublic]:
    return [
        LoadedModelPublic(
            name=m.name,
            alias=alias,
            version=m.version,
            feature_set_version=m.feature_set_version,
            products=list(m.spec.products),
            loaded_at=m.loaded_at,
        )
        for alias, m in sorted(models.all().items())
    ]
