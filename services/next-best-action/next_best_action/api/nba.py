"""Real-time next best action for a customer already in conversation with the bank.

Same `decide()` as the stream path, in "inbound" mode: the customer started the contact, so an offer
can be shown by the advisor (or the app) even without an outbound marketing permission, and the
weekly cap and repeat rules (which limit unsolicited contact) do not apply. Eligibility and the decline
cooldown still do. Read-only: nothing is published and no contact is recorded.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from prometeo.contracts import utcnow
from prometeo.web import Problem

from next_best_action.deps import PolicySourceDep, StoreDep
from next_best_action.domain.decision import Decision, Offer, decide, volume_day

router = APIRouter(prefix="/v1", tags=["next-best-action"])

Lang = Literal["es", "en"]


class ReasonPublic(BaseModel):
    code: str
    text: str
    weight: float


class OfferPublic(BaseModel):
    offer_id: str
    product: str
    channel: str
    propensity: float
    expected_value: float
    reasons: list[ReasonPublic]
    rules_passed: list[str]


class DecisionPublic(BaseModel):
    customer_key: str
    decision_id: str
    model_version: str
    decided_at: datetime
    offers: list[OfferPublic]
    blocked: dict[str, list[str]]


def _offer_public(offer: Offer, lang: Lang) -> OfferPublic:
    return OfferPublic(
        offer_id=offer.offer_id,
        product=offer.product.value,
        channel=offer.channel.value,
        propensity=offer.propensity,
        expected_value=offer.expected_value,
        reasons=[ReasonPublic(code=r.code, text=r.text_es if lang == "es" else r.text_en, weight=r.weight)
                 for r in offer.reasons],
        rules_passed=list(offer.rules_passed),
    )


def decision_public(customer_key: str, decision: Decision, lang: Lang) -> DecisionPublic:
    return DecisionPublic(
        customer_key=customer_key,
        decision_id=decision.decision_id,
        model_version=decision.model_version,
        decided_at=decision.decided_at,
        offers=[_offer_public(o, lang) for o in decision.offers],
        blocked=decision.blocked,
    )


@router.get("/nba/{customer_key}")
def next_best_action(
    customer_key: str, store: StoreDep, policies: PolicySourceDep, lang: Lang = Query("es")
) -> DecisionPublic:
    scores = store.latest_scores(customer_key)
    if scores is None:
        raise Problem(404, "Customer not found", "no scores are known for this customer")
    now, policy = utcnow(), policies.current()
    decision = decide(
        scores,
        store.permissions(customer_key),
        store.history(customer_key),
        now,
        policy,
        decision_id="dc_" + uuid.uuid4().hex,
        mode="inbound",
        # Daily caps protect a product's budget whoever shows the offer; only outbound offers consume them.
        volume_today=store.volume(volume_day(now, policy)),
    )
    return decision_public(customer_key, decision, lang)
