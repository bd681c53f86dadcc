"""Marketing's business levers: a multiplier per product on its arbitration priority.

The policy YAML holds each product's default; a change here takes effect on the next decision (every
decision reads the overrides), and is audited: one `audit.business_lever_changed` event on audit.v1
naming who moved which lever from what to what, published before the call returns.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter
from pydantic import BaseModel, Field

from next_best_action.deps import LeverStoreDep, PolicySourceDep, ProducerDep
from prometeo.contracts import ProductCode, new_event, topics
from prometeo.contracts.events import BusinessLeverChangedV1
from prometeo.web import Problem

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["levers"])
PUBLISH_TIMEOUT_S = 15.0
# Audit events are not about a customer; the envelope's key names the policy they change.
AUDIT_KEY = "nba-levers"


class LeverPublic(BaseModel):
    product: ProductCode
    lever: float
    default: float
    overridden: bool


class LeversPublic(BaseModel):
    policy_version: str
    levers: list[LeverPublic]


class LeverUpdate(BaseModel):
    lever: float = Field(gt=0, le=10, description="Priority multiplier (1 = neutral)")
    actor: str = Field(min_length=1, max_length=128, description="Who is changing it (audited)")
    reason: str = Field(default="", max_length=500)


class LeverReset(BaseModel):
    actor: str = Field(min_length=1, max_length=128)
    reason: str = Field(default="", max_length=500)


@router.get("/levers")
def levers(store: LeverStoreDep, policies: PolicySourceDep) -> LeversPublic:
    policy, overrides = policies.current(), store.all()
    return LeversPublic(
        policy_version=policy.version,
        levers=[
            LeverPublic(
                product=product,
                lever=overrides.get(product, spec.lever),
                default=spec.lever,
                overridden=product in overrides,
            )
            for product, spec in sorted(policy.products.items())
        ],
    )


@router.put("/levers/{product}")
def set_lever(
    product: ProductCode, body: LeverUpdate, store: LeverStoreDep, policies: PolicySourceDep, producer: ProducerDep
) -> LeversPublic:
    _known(product, policies)
    previous = store.set(product, body.lever)
    _audit(producer, body.actor, product, previous, body.lever, body.reason)
    return levers(store, policies)


@router.delete("/levers/{product}")
def reset_lever(
    product: ProductCode, body: LeverReset, store: LeverStoreDep, policies: PolicySourceDep, producer: ProducerDep
) -> LeversPublic:
    _known(product, policies)
    previous = store.clear(product)
    _audit(producer, body.actor, product, previous, None, body.reason)
    return levers(store, policies)


def _known(product: ProductCode, policies: PolicySourceDep) -> None:
    if product not in policies.current().products:
        raise Problem(404, "Product not in policy", f"the active policy does not price {product.value}")


def _audit(
    producer: ProducerDep, actor: str, product: ProductCode, previous: float | None, lever: float | None, reason: str
) -> None:
    event = BusinessLeverChangedV1(actor=actor, product=product, previous=previous, lever=lever, reason=reason)
    producer.publish(topics.AUDIT, new_event(event, customer_key=AUDIT_KEY, source="next-best-action")).get(
        timeout=PUBLISH_TIMEOUT_S
    )
    log.info(
        "business lever changed",
        extra={"actor": actor, "product": product.value, "previous": previous, "lever": lever, "reason": reason},
    )
