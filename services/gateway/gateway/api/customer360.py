"""One customer's 360 in one call (the console's customer page): holdings here and elsewhere, trend and spend mix,
the top offers with reasons and the rules that blocked others, channel permissions, contact history. Scoped,
field-filtered and audited as one read; the offers are a presentation (recorded, like /recommendations)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, ValidationError

from gateway.api.recommendations import RecommendationsPublic, _UpstreamDecision, to_public
from gateway.deps import AuditDep, PurposeDep, ReadableCustomerKeyDep, RecommendationsReader, UpstreamsDep
from gateway.domain import customer360
from gateway.domain.audit import AuditedResource
from gateway.domain.roles import Role
from gateway.domain.visibility import Resource, balance_band, visible
from gateway.upstream import Upstream, UpstreamRejected, Upstreams
from prometeo.web import Problem

router = APIRouter(prefix="/v1/customers", tags=["customer-360"])

Lang = Literal["es", "en"]


class Customer360Public(BaseModel):
    customer_key: str
    as_of: datetime | None
    held_products: list[str]
    held_elsewhere: list[str]
    balance_band: str | None
    trend: dict[str, float | None]
    spend_mix: dict[str, dict[str, float]]
    amounts: dict[str, Any]
    permissions: list[str]
    recommendations: RecommendationsPublic | None
    contacts: list[dict[str, Any]]


class _Features(BaseModel):
    model_config = ConfigDict(extra="ignore")
    as_of: datetime
    features: dict[str, float]
    held_products: list[str] = []
    held_elsewhere: list[str] = []


async def _json(upstreams: Upstreams, upstream: Upstream, method: str, path: str, **kw: Any) -> bytes | None:
    """The upstream's body, or None when it knows nothing of the customer yet (404)."""
    try:
        return (await upstreams.call(upstream, method, path, **kw)).content
    except UpstreamRejected as exc:
        if exc.response.status_code == 404:
            return None
        raise


@router.get("/{customer_id}/overview", response_model=Customer360Public, response_class=JSONResponse)
async def get_overview(
    principal: RecommendationsReader,
    customer_key: ReadableCustomerKeyDep,
    purpose: PurposeDep,
    upstreams: UpstreamsDep,
    audit: AuditDep,
    lang: Lang = Query("es", description="Language of the reason texts"),
) -> JSONResponse:
    params: dict[str, str] = {"lang": lang}
    if principal.role is Role.ADVISOR and principal.portfolio_id:
        params["presented_to"] = principal.portfolio_id
    features_raw, decision_raw, offers_raw, permissions_raw = await asyncio.gather(
        _json(upstreams, Upstream.FEATURE_STORE, "GET", f"/v1/features/{customer_key}"),
        _json(upstreams, Upstream.NEXT_BEST_ACTION, "POST", f"/v1/nba/{customer_key}/presentations", params=params),
        _json(upstreams, Upstream.CAMPAIGNS, "GET", f"/v1/offers/{customer_key}"),
        _json(upstreams, Upstream.NEXT_BEST_ACTION, "GET", f"/v1/nba/{customer_key}/permissions"),
    )
    if features_raw is None and decision_raw is None:
        raise Problem(404, "Customer not found", "no customer with this identifier")
    try:
        features = _Features.model_validate_json(features_raw) if features_raw else None
        decision = _UpstreamDecision.model_validate_json(decision_raw) if decision_raw else None
        offers = _OffersList.model_validate_json(offers_raw).offers if offers_raw else []
        permissions = _Permissions.model_validate_json(permissions_raw).channels if permissions_raw else []
    except ValidationError as exc:
        raise Problem(502, "Upstream answered an invalid body", "a customer-360 source was unreadable") from exc
    values = features.features if features else {}
    spend = customer360.spend_by_category(values)
    body = Customer360Public(
        customer_key=customer_key,
        as_of=features.as_of if features else None,
        held_products=features.held_products if features else [],
        held_elsewhere=features.held_elsewhere if features else [],
        balance_band=balance_band(values.get("balance_avg_30d")),
        trend=customer360.trend(values, spend),
        spend_mix=customer360.spend_mix(spend),
        amounts=customer360.amounts(values, spend),
        permissions=permissions,
        recommendations=to_public(decision) if decision else None,
        contacts=customer360.contacts(offers),
    )
    await audit.record_read(principal, customer_key, AuditedResource.CUSTOMER_360, purpose)
    return JSONResponse(visible(Resource.CUSTOMER_360, principal.role, body.model_dump(mode="json")))


class _OffersList(BaseModel):
    model_config = ConfigDict(extra="ignore")
    offers: list[dict[str, Any]]


class _Permissions(BaseModel):
    model_config = ConfigDict(extra="ignore")
    channels: list[str]
