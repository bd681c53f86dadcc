"""A person's own customers ranked by the expected value of their best offer (the console's "today").

An advisor lists their portfolio, a branch manager their branch; bank-wide roles name the portfolio or branch.
Each member's offers are next-best-action's read-only preview (GET, nothing is recorded as presented), fetched
concurrently and kept for a few seconds per list so paging and filtering do not recompute the whole portfolio.
One audit record per page names the customers shown.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, ValidationError

from gateway.audit import entry_for
from gateway.deps import AuditDep, RecommendationsReader, UpstreamsDep
from gateway.domain.audit import AuditAction
from gateway.domain.credentials import Principal
from gateway.domain.roles import Role
from gateway.domain.visibility import Resource, visible
from gateway.portfolios import Member, PortfolioReader
from gateway.upstream import Upstream, UpstreamRejected, Upstreams
from prometeo import clock
from prometeo.contracts import ProductCode
from prometeo.web import Problem

router = APIRouter(prefix="/v1/portfolio", tags=["portfolio"])

Lang = Literal["es", "en"]
CACHE_S = 15.0
CONCURRENCY = 16


class PriorityReason(BaseModel):
    code: str
    text: str


class PriorityPublic(BaseModel):
    customer_key: str
    segment: str | None
    product: str
    channel: str
    expected_value: float
    propensity: float
    reason: PriorityReason | None  # the one line of why
    offers: int  # how many offers the customer has now


class PrioritiesPublic(BaseModel):
    total: int
    page: int
    size: int
    generated_at: datetime
    items: list[PriorityPublic]


class _Reason(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: str
    text: str


class _Offer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    product: str
    channel: str
    propensity: float
    expected_value: float
    reasons: list[_Reason] = []


class _Preview(BaseModel):
    model_config = ConfigDict(extra="ignore")
    offers: list[_Offer]


@dataclass
class PriorityCache:
    """Ranked lists by (portfolio or branch, language), kept CACHE_S seconds."""

    entries: dict[tuple[str, str], tuple[float, list[PriorityPublic]]] = field(default_factory=dict)

    def get(self, key: tuple[str, str]) -> list[PriorityPublic] | None:
        hit = self.entries.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, key: tuple[str, str], items: list[PriorityPublic]) -> None:
        self.entries[key] = (time.monotonic() + CACHE_S, items)


def _reader(request: Request) -> PortfolioReader:
    return request.app.state.portfolios


def _cache(request: Request) -> PriorityCache:
    cache: PriorityCache | None = getattr(request.app.state, "priority_cache", None)
    if cache is None:
        cache = request.app.state.priority_cache = PriorityCache()
    return cache


def _whose(principal: Principal, portfolio: str | None, branch: str | None) -> tuple[str | None, str | None]:
    """(advisor id, branch id) the list is of: a scoped person's own, else the one asked for."""
    if principal.role is Role.ADVISOR and principal.portfolio_id:
        return principal.portfolio_id, None
    if principal.role is Role.BRANCH_MANAGER and principal.branch_id:
        return None, principal.branch_id
    if principal.role in (Role.ADVISOR, Role.BRANCH_MANAGER):
        raise Problem(403, "No portfolio", "this sign-in names no portfolio or branch")
    if not portfolio and not branch:
        raise Problem(422, "Portfolio required", "name a portfolio or a branch", field="portfolio")
    return portfolio, (None if portfolio else branch)


async def _best_offer(upstreams: Upstreams, member: Member, lang: Lang) -> PriorityPublic | None:
    try:
        response = await upstreams.call(
            Upstream.NEXT_BEST_ACTION, "GET", f"/v1/nba/{member.customer_key}", params={"lang": lang}
        )
    except UpstreamRejected:
        return None  # no scores yet: nothing to offer
    try:
        offers = _Preview.model_validate_json(response.content).offers
    except ValidationError as exc:
        raise Problem(502, "Upstream answered an invalid decision", "next-best-action response unreadable") from exc
    if not offers:
        return None
    best = max(offers, key=lambda o: o.expected_value)
    reason = PriorityReason(code=best.reasons[0].code, text=best.reasons[0].text) if best.reasons else None
    return PriorityPublic(
        customer_key=member.customer_key,
        segment=member.segment,
        product=best.product,
        channel=best.channel,
        expected_value=best.expected_value,
        propensity=best.propensity,
        reason=reason,
        offers=len(offers),
    )


async def ranked(upstreams: Upstreams, members: list[Member], lang: Lang) -> list[PriorityPublic]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(member: Member) -> PriorityPublic | None:
        async with gate:
            return await _best_offer(upstreams, member, lang)

    found = [p for p in await asyncio.gather(*(one(m) for m in members)) if p is not None]
    return sorted(found, key=lambda p: (-p.expected_value, p.customer_key))


@router.get("/priorities", response_model=PrioritiesPublic, response_class=JSONResponse)
async def get_priorities(
    principal: RecommendationsReader,
    upstreams: UpstreamsDep,
    audit: AuditDep,
    reader: Annotated[PortfolioReader, Depends(_reader)],
    cache: Annotated[PriorityCache, Depends(_cache)],
    lang: Lang = Query("es", description="Language of the reason texts"),
    product: ProductCode | None = Query(None, description="Only customers whose best offer is this product"),
    channel: str | None = Query(None, max_length=32, description="Only best offers on this channel"),
    segment: str | None = Query(None, max_length=32, description="Only this digital archetype"),
    page: int = Query(1, ge=1, le=1000),
    size: int = Query(20, ge=1, le=100),
    portfolio: str | None = Query(None, max_length=64, description="Bank-wide roles: whose portfolio"),
    branch: str | None = Query(None, max_length=64, description="Bank-wide roles: which branch"),
) -> JSONResponse:
    advisor_id, branch_id = _whose(principal, portfolio, branch)
    key = (f"a:{advisor_id}" if advisor_id else f"b:{branch_id}", lang)
    items = cache.get(key)
    if items is None:
        members = await reader.members(advisor_id=advisor_id, branch_id=branch_id)
        items = await ranked(upstreams, members, lang)
        cache.put(key, items)
    chosen = [
        p
        for p in items
        if (product is None or p.product == product.value)
        and (channel is None or p.channel == channel)
        and (segment is None or p.segment == segment)
    ]
    shown = chosen[(page - 1) * size : page * size]
    detail = f"page {page} of {key[0]}: " + " ".join(p.customer_key for p in shown)
    await audit.record(entry_for(principal, AuditAction.READ, Resource.PORTFOLIO.value, detail=detail[:2000]))
    body = PrioritiesPublic(total=len(chosen), page=page, size=size, generated_at=clock.now(), items=shown)
    return JSONResponse(visible(Resource.PORTFOLIO, principal.role, body.model_dump(mode="json")))
