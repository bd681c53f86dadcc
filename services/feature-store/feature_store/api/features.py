"""Online feature reads: one Redis round trip per request, single or batch."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from feature_store.deps import RepositoryDep
from feature_store.domain.aggregation import CustomerState, compute_features, held_products, last_event_at
from feature_store.domain.definitions import FEATURE_SET_VERSION, FEATURES
from prometeo import clock
from prometeo.web import Problem

router = APIRouter(prefix="/v1", tags=["features"])


class FeaturesPublic(BaseModel):
    customer_key: str
    feature_set_version: str
    as_of: datetime
    # Freshness: when the newest event reflected in these features happened.
    last_event_at: datetime | None
    features: dict[str, float]
    held_products: list[str]
    held_elsewhere: list[str]


class FeaturesBatchRequest(BaseModel):
    customer_keys: list[str] = Field(min_length=1, max_length=500)


class FeaturesBatchPublic(BaseModel):
    found: list[FeaturesPublic]
    missing: list[str]


class FeatureDefinitionPublic(BaseModel):
    name: str
    description: str
    aggregation: str
    window_days: int | None
    sources: list[str]


def _public(customer_key: str, state: CustomerState, as_of: datetime) -> FeaturesPublic:
    here, elsewhere = held_products(state.profile)
    return FeaturesPublic(
        customer_key=customer_key,
        feature_set_version=FEATURE_SET_VERSION,
        as_of=as_of,
        last_event_at=last_event_at(state.profile),
        features=compute_features(state, as_of),
        held_products=here,
        held_elsewhere=elsewhere,
    )


@router.get("/features/{customer_key}")
def get_features(customer_key: str, repository: RepositoryDep) -> FeaturesPublic:
    now = clock.now()
    [state] = repository.load([customer_key], now)
    if state.is_empty:
        raise Problem(404, "Customer not found", "no features are held for this customer")
    return _public(customer_key, state, now)


@router.post("/features:batch")
def get_features_batch(body: FeaturesBatchRequest, repository: RepositoryDep) -> FeaturesBatchPublic:
    now = clock.now()
    found, missing = [], []
    for ck, state in zip(body.customer_keys, repository.load(body.customer_keys, now), strict=True):
        if state.is_empty:
            missing.append(ck)
        else:
            found.append(_public(ck, state, now))
    return FeaturesBatchPublic(found=found, missing=missing)


@router.get("/feature-definitions")
def list_definitions() -> list[FeatureDefinitionPublic]:
    return [
        FeatureDefinitionPublic(
            name=f.name,
            description=f.description,
            aggregation=f.aggregation,
            window_days=f.window_days,
            sources=list(f.sources),
        )
        for f in FEATURES
    ]
