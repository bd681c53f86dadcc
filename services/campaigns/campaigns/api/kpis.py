"""Campaign KPIs: offers, contacts, outcomes, acceptance, conversion by product and channel, revenue;
realised model quality per scoring version."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from campaigns import kpi_gauges
from campaigns.deps import StoreDep
from campaigns.domain import kpis
from campaigns.domain.kpis import KpiSeries, KpiSummary

router = APIRouter(prefix="/v1", tags=["kpis"])


class KpisPublic(KpiSummary):
    # {product: {product: customers holding both now}}; a product with itself = its holders (aggregate only).
    held_together: dict[str, dict[str, int]] = Field(default_factory=dict)


@router.get("/kpis")
def get_kpis(store: StoreDep) -> KpisPublic:
    summary = store.kpis()
    kpi_gauges.export(summary)
    return KpisPublic.model_validate(summary.model_dump() | {"held_together": store.held_together()})


@router.get("/kpis/series")
def get_kpi_series(store: StoreDep, days: int = Query(30, ge=1, le=kpis.SERIES_MAX_DAYS)) -> KpiSeries:
    """KPIs per business day over the last `days` (today included): offers, contacts, acceptance, conversion,
    contact rate and revenue — aggregates only."""
    return store.series(days)


class ModelQualityPublic(BaseModel):
    model_version: str
    sent: int
    accepted: int
    acceptance_rate: float | None
    auc: float | None
    ece: float | None
    mean_propensity: float | None


class ModelQualitiesPublic(BaseModel):
    versions: list[ModelQualityPublic]


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else value


@router.get("/model-quality")
def get_model_quality(store: StoreDep) -> ModelQualitiesPublic:
    """Realised quality per scoring model version, from the outcomes of the offers decided on it
    (what `python -m scoring.promotion` compares champion and challenger on)."""
    qualities = store.qualities()
    kpi_gauges.export_quality(qualities)
    return ModelQualitiesPublic(
        versions=[
            ModelQualityPublic(
                model_version=q.version,
                sent=q.sent,
                accepted=q.accepted,
                acceptance_rate=_finite(q.acceptance_rate),
                auc=_finite(q.auc),
                ece=_finite(q.ece),
                mean_propensity=_finite(q.mean_propensity),
            )
            for q in qualities
        ]
    )


class DrillCustomerPublic(BaseModel):
    customer_key: str
    offers: int  # this customer's offers in the bar
    accepted: int
    last_offer_at: datetime


class DrillPublic(BaseModel):
    dimension: str
    key: str
    total: int
    page: int
    size: int
    items: list[DrillCustomerPublic]


@router.get("/kpis/{dimension}/{key}/customers")
def drill(
    dimension: Literal["product", "channel", "segment", "campaign"],
    store: StoreDep,
    key: str = Path(max_length=64),
    page: int = Query(1, ge=1, le=10_000),
    size: int = Query(20, ge=1, le=100),
) -> DrillPublic:
    """The customers behind one bar of a KPI breakdown, newest offer first (pseudonymous keys only)."""
    total, members = store.drill(dimension, key, offset=(page - 1) * size, limit=size)
    return DrillPublic(
        dimension=dimension,
        key=key,
        total=total,
        page=page,
        size=size,
        items=[DrillCustomerPublic(**m.__dict__) for m in members],
    )
