"""Marketing's business levers on next-best-action (a priority multiplier per product).

The actor next-best-action audits is the caller the gateway authenticated (role and key hash), never a
name the caller supplies.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from gateway.deps import CampaignManager, UpstreamsDep
from gateway.domain.credentials import Principal
from gateway.upstream import Upstream
from prometeo.contracts import ProductCode

router = APIRouter(prefix="/v1", tags=["levers"])


class LeverChange(BaseModel):
    lever: float = Field(gt=0, le=10, description="Priority multiplier (1 = neutral)")
    reason: str = Field(default="", max_length=500)


class LeverReset(BaseModel):
    reason: str = Field(default="", max_length=500)


def _actor(principal: Principal) -> str:
    return f"{principal.role.value}:{principal.actor}"


@router.get("/levers")
async def get_levers(_: CampaignManager, upstreams: UpstreamsDep) -> Any:
    return (await upstreams.call(Upstream.NEXT_BEST_ACTION, "GET", "/v1/levers")).json()


@router.put("/levers/{product}")
async def set_lever(
    product: ProductCode, body: LeverChange, principal: CampaignManager, upstreams: UpstreamsDep
) -> Any:
    change = {"lever": body.lever, "actor": _actor(principal), "reason": body.reason}
    return (await upstreams.call(Upstream.NEXT_BEST_ACTION, "PUT", f"/v1/levers/{product.value}", json=change)).json()


@router.delete("/levers/{product}")
async def reset_lever(
    product: ProductCode, body: LeverReset, principal: CampaignManager, upstreams: UpstreamsDep
) -> Any:
    reset = {"actor": _actor(principal), "reason": body.reason}
    return (await upstreams.call(Upstream.NEXT_BEST_ACTION, "DELETE", f"/v1/levers/{product.value}", json=reset)).json()
