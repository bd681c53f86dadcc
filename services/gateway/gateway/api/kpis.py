"""Campaign definitions and KPIs (aggregates only, no customer data) for marketing teams."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response

from gateway.audit import entry_for
from gateway.deps import AuditDep, CampaignManager, KpisReader, UpstreamsDep
from gateway.domain.audit import AuditAction
from gateway.domain.visibility import Resource, allowed_fields, visible
from gateway.upstream import Upstream
from prometeo.web import Problem

router = APIRouter(prefix="/v1", tags=["kpis"])


@router.get("/kpis")
async def get_kpis(principal: KpisReader, upstreams: UpstreamsDep) -> dict[str, Any]:
    # campaigns owns the KpisPublic schema; the gateway relays it rather than freeze a copy here.
    response = await upstreams.call(Upstream.CAMPAIGNS, "GET", "/v1/kpis")
    kpis: dict[str, Any] = visible(Resource.KPIS, principal.role, response.json())
    return kpis


@router.get("/kpis/series")
async def get_kpi_series(
    principal: KpisReader, upstreams: UpstreamsDep, days: int = Query(30, ge=1, le=366)
) -> dict[str, Any]:
    """KPIs per business day (offers, contacts, acceptance, conversion, revenue): aggregates only, to the roles
    that read the KPIs."""
    response = await upstreams.call(Upstream.CAMPAIGNS, "GET", "/v1/kpis/series", params={"days": str(days)})
    series: dict[str, Any] = visible(Resource.KPIS, principal.role, response.json())
    return series


@router.get("/kpis/drill")
async def drill(
    principal: KpisReader,
    upstreams: UpstreamsDep,
    audit: AuditDep,
    dimension: Literal["product", "channel", "segment", "campaign"] = Query(...),
    key: str = Query(..., min_length=1, max_length=64),
    page: int = Query(1, ge=1, le=10_000),
    size: int = Query(20, ge=1, le=100),
) -> dict[str, Any]:
    """The customers behind one bar of a breakdown, paged: pseudonymous keys and counts for marketing, more only
    where the field visibility says so. One audit record per page names the customers shown."""
    if not allowed_fields(Resource.KPI_DRILL, principal.role):
        raise Problem(403, "Forbidden", f"role {principal.role.value} may not list the customers behind a KPI")
    path = f"/v1/kpis/{dimension}/{quote(key, safe='')}/customers"
    response = await upstreams.call(Upstream.CAMPAIGNS, "GET", path, params={"page": str(page), "size": str(size)})
    body: dict[str, Any] = response.json()
    shown = ",".join(str(i.get("customer_key")) for i in body.get("items", []))
    detail = f"{dimension}={key} page={page} customers={shown}"
    await audit.record(entry_for(principal, AuditAction.READ, Resource.KPI_DRILL.value, detail=detail[:2000]))
    drilled: dict[str, Any] = visible(Resource.KPI_DRILL, principal.role, body)
    return drilled


@router.post("/campaigns", response_class=Response, status_code=201)
async def create_campaign(_: CampaignManager, request: Request, upstreams: UpstreamsDep) -> Response:
    return await _relay_post(upstreams, "/v1/campaigns", request)


@router.post("/campaigns:preview", response_class=Response)
async def preview_campaign(_: CampaignManager, request: Request, upstreams: UpstreamsDep) -> Response:
    """Before launch: the audience a definition reaches, how many are contactable and the conversions expected —
    counts only, nothing created."""
    return await _relay_post(upstreams, "/v1/campaigns:preview", request)


@router.get("/campaigns")
async def list_campaigns(_: CampaignManager, upstreams: UpstreamsDep) -> Any:
    return (await upstreams.call(Upstream.CAMPAIGNS, "GET", "/v1/campaigns")).json()


@router.get("/campaigns/{campaign_id}")
async def get_campaign(campaign_id: str, _: CampaignManager, upstreams: UpstreamsDep) -> Any:
    """Progress of one campaign (enrolled, budget left, sends per step) — aggregates only."""
    return (await upstreams.call(Upstream.CAMPAIGNS, "GET", f"/v1/campaigns/{quote(campaign_id, safe='')}")).json()


@router.post("/campaigns/{campaign_id}/{action}")
async def change_campaign(
    campaign_id: str, action: Literal["pause", "resume"], _: CampaignManager, upstreams: UpstreamsDep
) -> Any:
    """Pause (no enrolment, due steps held) or resume a campaign."""
    path = f"/v1/campaigns/{quote(campaign_id, safe='')}/{action}"
    return (await upstreams.call(Upstream.CAMPAIGNS, "POST", path)).json()


@router.get("/experiments/{campaign_id}")
async def get_experiment(campaign_id: str, _: KpisReader, upstreams: UpstreamsDep) -> Any:
    """Test vs holdout conversion and the lift with its 95 % CI and p-value — aggregates only."""
    return (await upstreams.call(Upstream.CAMPAIGNS, "GET", f"/v1/experiments/{quote(campaign_id, safe='')}")).json()


async def _relay_post(upstreams: UpstreamsDep, path: str, request: Request) -> Response:
    """The caller's JSON body to campaigns as it came; campaigns' answer (or its problem+json) back as it went."""
    upstream = await upstreams.call(
        Upstream.CAMPAIGNS,
        "POST",
        path,
        content=await request.body(),
        headers={"content-type": request.headers.get("content-type", "application/json")},
    )
    return Response(upstream.content, status_code=upstream.status_code, media_type="application/json")
