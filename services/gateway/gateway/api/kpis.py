"""Campaign KPIs (aggregates only, no customer data) for marketing teams."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from gateway.deps import KpisReader, UpstreamsDep
from gateway.upstream import Upstream

router = APIRouter(prefix="/v1", tags=["kpis"])


@router.get("/kpis")
async def get_kpis(_: KpisReader, upstreams: UpstreamsDep) -> dict[str, Any]:
    # campaigns owns the KpisPublic schema; the gateway relays it rather than freeze a copy here.
    response = await upstreams.call(Upstream.CAMPAIGNS, "GET", "/v1/kpis")
    return response.json()
