"""Campaign KPIs: offers, contacts, outcomes, acceptance, conversion by product and channel, revenue."""

from __future__ import annotations

from fastapi import APIRouter

from campaigns import kpi_gauges
from campaigns.deps import StoreDep
from campaigns.domain.kpis import KpiSummary

router = APIRouter(prefix="/v1", tags=["kpis"])


class KpisPublic(KpiSummary):
    pass


@router.get("/kpis")
def get_kpis(store: StoreDep) -> KpisPublic:
    summary = store.kpis()
    kpi_gauges.export(summary)
    return KpisPublic.model_validate(summary.model_dump())
