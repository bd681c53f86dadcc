"""Next-best-action recommendations for one customer, as advisors and CRM systems see them. Audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, cast, get_args

import orjson
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, ValidationError

from gateway.deps import (
    AuditDep,
    PurposeDep,
    ReadableCustomerKeyDep,
    RecommendationsReader,
    UpstreamsDep,
    read_recommendations,
    solve_customer_read,
)
from gateway.domain.audit import AuditedResource, ReadPurpose
from gateway.domain.roles import Role
from gateway.domain.visibility import Resource, visible
from gateway.upstream import Upstream
from prometeo.contracts import Objective
from prometeo.web import Problem
from prometeo.web.fastpath import Handler, fast_route

router = APIRouter(prefix="/v1/customers", tags=["recommendations"])

Lang = Literal["es", "en"]


class ReasonPublic(BaseModel):
    code: str
    text: str


class RecommendationPublic(BaseModel):
    rank: int
    offer_id: str
    product: str
    channel: str
    propensity: float
    expected_value: float
    reasons: list[ReasonPublic]
    # Which eligibility and contact-policy rules this offer passed (the other half of its explanation).
    rules_passed: list[str] = []


class RecommendationsPublic(BaseModel):
    customer_key: str
    decision_id: str
    model_version: str
    generated_at: datetime
    objective: Objective = "expected_value"  # what the ranking maximised
    recommendations: list[RecommendationPublic]
    blocked: dict[str, list[str]]


class _UpstreamReason(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: str
    text: str


class _UpstreamOffer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    offer_id: str
    product: str
    channel: str
    propensity: float
    expected_value: float
    reasons: list[_UpstreamReason] = []
    rules_passed: list[str] = []


class _UpstreamDecision(BaseModel):
    """next-best-action's DecisionPublic, read leniently: new upstream fields must not break the edge."""

    model_config = ConfigDict(extra="ignore")
    customer_key: str
    decision_id: str
    model_version: str
    decided_at: datetime
    objective: Objective = "expected_value"
    offers: list[_UpstreamOffer]
    blocked: dict[str, list[str]] = {}


def to_public(decision: _UpstreamDecision) -> RecommendationsPublic:
    return RecommendationsPublic(
        customer_key=decision.customer_key,
        decision_id=decision.decision_id,
        model_version=decision.model_version,
        generated_at=decision.decided_at,
        objective=decision.objective,
        recommendations=[
            RecommendationPublic(
                rank=rank,
                offer_id=offer.offer_id,
                product=offer.product,
                channel=offer.channel,
                propensity=offer.propensity,
                expected_value=offer.expected_value,
                reasons=[ReasonPublic(code=r.code, text=r.text) for r in offer.reasons],
                rules_passed=offer.rules_passed,
            )
            for rank, offer in enumerate(decision.offers, start=1)
        ],
        blocked=decision.blocked,
    )


def public_body(decision: _UpstreamDecision) -> dict[str, Any]:
    """`to_public(decision)`'s JSON form, built without a second model (the request path's answer)."""
    return {
        "customer_key": decision.customer_key,
        "decision_id": decision.decision_id,
        "model_version": decision.model_version,
        "generated_at": decision.decided_at,
        "objective": decision.objective,
        "recommendations": [
            {
                "rank": rank,
                "offer_id": offer.offer_id,
                "product": offer.product,
                "channel": offer.channel,
                "propensity": offer.propensity,
                "expected_value": offer.expected_value,
                "reasons": [{"code": r.code, "text": r.text} for r in offer.reasons],
                "rules_passed": offer.rules_passed,
            }
            for rank, offer in enumerate(decision.offers, start=1)
        ],
        "blocked": decision.blocked,
    }


async def get_recommendations(
    principal: RecommendationsReader,
    customer_key: ReadableCustomerKeyDep,
    purpose: PurposeDep,
    upstreams: UpstreamsDep,
    audit: AuditDep,
    lang: Lang = Query("es", description="Language of the reason texts"),
    objective: Objective | None = Query(
        None,
        description="Rank by this objective instead of the policy's: "
        "expected_value (margin per contact) or conversion (acceptances per contact)",
    ),
) -> Response:
    # A presentation, not a preview: the offers shown are recorded so their outcomes can be reported.
    params: dict[str, str] = {"lang": lang, **({"objective": objective} if objective else {})}
    if principal.role is Role.ADVISOR and principal.portfolio_id:
        # Whom they were shown to, by the id outcomes carry as `advisor_id`: adherence per advisor.
        params["presented_to"] = principal.portfolio_id
    response = await upstreams.call(
        Upstream.NEXT_BEST_ACTION, "POST", f"/v1/nba/{customer_key}/presentations", params=params
    )
    try:
        decision = _UpstreamDecision.model_validate_json(response.content)
    except ValidationError as exc:
        raise Problem(502, "Upstream answered an invalid decision", "next-best-action response unreadable") from exc
    await audit.record_read(principal, customer_key, AuditedResource.RECOMMENDATIONS, purpose)
    # The upstream answer was validated above; the public shape is written once (no response-model pass).
    body = visible(Resource.RECOMMENDATIONS, principal.role, public_body(decision))
    return Response(orjson.dumps(body, option=orjson.OPT_UTC_Z), media_type="application/json")


_LANGS = frozenset(get_args(Lang))
_OBJECTIVES = frozenset(get_args(Objective))
_PURPOSES = {p.value: p for p in ReadPurpose}


async def _fast(request: Request, slow: Handler) -> Response:
    """The route without FastAPI's dependency solving (prometeo.web.fastpath): inputs FastAPI would refuse
    go to FastAPI's own handler before anything runs, so its 422s (after 401/429/403) are unchanged."""
    query = request.query_params
    lang, objective, purpose = query.get("lang", "es"), query.get("objective"), request.headers.get("x-purpose")
    if (
        lang not in _LANGS
        or (objective is not None and objective not in _OBJECTIVES)
        or (purpose is not None and purpose not in _PURPOSES)
    ):
        return await slow(request)
    principal, customer_key, read_purpose = await solve_customer_read(
        request, request.path_params["customer_id"], read_recommendations, _PURPOSES[purpose] if purpose else None
    )
    state = request.app.state
    return await get_recommendations(
        principal,
        customer_key,
        read_purpose,
        state.upstreams,
        state.audit,
        cast(Lang, lang),
        cast(Objective | None, objective),
    )


router.add_api_route(
    "/{customer_id}/recommendations",
    get_recommendations,
    methods=["GET"],
    response_model=RecommendationsPublic,
    route_class_override=fast_route(_fast),
)
