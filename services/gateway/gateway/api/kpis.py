"""Campaign definitions and KPIs (aggregates only, no customer data) for marketing teams."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from gateway.deps import CampaignManager, KpisReader, UpstreamsDep
from gateway.domain.visibility import Resource, visible
from gateway.upstream import Upstream

router = APIRouter(prefix="/v1", tags=["kpis"])


@router.get("/kpis")
async def get_kpis(principal: KpisReader, upstreams: UpstreamsDep) -> dict[str, Any]:
    # campaigns owns the KpisPublic schema; the gateway relays it rather than freeze a copy here.
    response = await upstreams.call(Upstream.CAMPAIGNS, "GET", "/v1/kpis")
    kpis: dict[str, Any] = visible(Resource.KPIS, principal.role, response.json())
    return kpis


@router.post("/campaigns", response_class=Response, status_code=201)
async def create_campaign(_: CampaignManager, request: Request, upstreams: UpstreamsDep) -> Response:
    upstream = await upstreams.call(
        Upstream.CAMPAIGNS,
        "POST",
        "/v1/campaigns",
        content=await request.body(),
        headers={"content-type": request.headers.get("content-type", "application/json")},
    )
    return Response(upstream.content, status_code=upstream.status_code, media_type="application/json")


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
