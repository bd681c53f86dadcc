"""Real-time next best action for a customer already in conversation with the bank.

Same `decide()` as the stream path, in "inbound" mode: the customer started the contact, so an offer
can be shown by the advisor (or the app) even without an outbound marketing permission, and the
weekly cap and repeat rules (which limit unsolicited contact) do not apply. Eligibility and the decline
cooldown still do. `GET` is a read-only preview; `POST …/presentations` is the same decision when an
advisor or the app actually shows it: it is published to offers.v1 so campaigns records the offers
and their outcomes can be reported and counted.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal, cast, get_args

import orjson
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from next_best_action.consumers.scores import SOURCE, offer_decided
from next_best_action.deps import (
    AckedPresentationsDep,
    AsyncRedis,
    AsyncRedisDep,
    PolicySourceDep,
    ProducerDep,
    StoreDep,
)
from next_best_action.domain.decision import Decision, decide, volume_day
from next_best_action.policy_source import PolicySource
from next_best_action.response_store import LeverStore, levers_key
from next_best_action.store import NbaStore, ProfilingObjected
from prometeo import clock
from prometeo.contracts import Objective, new_event, topics
from prometeo.web import Problem
from prometeo.web.fastpath import Handler, fast_route

PRESENTED_TO_MAX = 64
_PRESENTATIONS = uuid.UUID("0b6f2a8e-4f7c-4a51-9c3e-2d8a7e1f5c90")

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
    objective: Objective  # what the ranking maximised
    offers: list[OfferPublic]
    blocked: dict[str, list[str]]


def decision_body(customer_key: str, decision: Decision, lang: Lang) -> dict[str, Any]:
    """`DecisionPublic`'s JSON form straight from the domain objects (the request path's answer)."""
    return {
        "customer_key": customer_key,
        "decision_id": decision.decision_id,
        "model_version": decision.model_version,
        "decided_at": decision.decided_at,  # orjson: ISO 8601, UTC as Z (as pydantic writes it)
        "objective": decision.objective,
        "offers": [
            {
                "offer_id": o.offer_id,
                "product": o.product.value,
                "channel": o.channel.value,
                "propensity": o.propensity,
                "expected_value": o.expected_value,
                "reasons": [
                    {"code": r.code, "text": r.text_es if lang == "es" else r.text_en, "weight": r.weight}
                    for r in o.reasons
                ],
                "rules_passed": list(o.rules_passed),
            }
            for o in decision.offers
        ],
        "blocked": {k: list(v) for k, v in decision.blocked.items()},
    }


ObjectiveQuery = Query(
    None,
    description="Rank by this objective instead of the policy's "
    "(expected_value: margin per contact; conversion: acceptances per contact)",
)


async def _inbound_decision(
    customer_key: str,
    store: NbaStore,
    aio: AsyncRedis,
    policies: PolicySource,
    decision_id: str | None,
    objective: Objective | None,
) -> Decision:
    now, policy = clock.now(), policies.current()
    # One Redis round trip for every read the decision needs, awaited on the event loop (no thread hop).
    pipe = aio.pipeline(transaction=False)
    store.queue_inbound(pipe, customer_key, volume_day(now, policy), levers_key())
    try:
        reads = store.inbound_from(await pipe.execute())
    except ProfilingObjected:
        raise Problem(409, "Profiling objected", "the customer objected to profiling: no offers are made") from None
    if reads is None:
        raise Problem(404, "Customer not found", "no scores are known for this customer")
    if decision_id is None:
        # One presentation per customer, scores and day: showing the same offers again records nothing new.
        stamp = (
            f"{customer_key}|{reads.computed_at.isoformat()}|{now.date().isoformat()}|{objective or policy.objective}"
        )
        decision_id = _presentation_id(stamp)
    return decide(
        reads.scores,
        reads.permissions,
        reads.history,
        now,
        policy,
        decision_id=decision_id,
        mode="inbound",
        # Daily caps protect a product's budget whoever shows the offer; only outbound offers consume them.
        volume_today=reads.volume,
        objective=objective,
        levers=LeverStore.parse(reads.levers),  # marketing's levers rank the advisor's list as they rank the stream
    )


@lru_cache(maxsize=16384)
def _presentation_id(stamp: str) -> str:
    """The presentation's decision id, a pure function of its stamp (cached: repeats ask for the same one)."""
    return "dc_" + uuid.uuid5(_PRESENTATIONS, stamp).hex


def _answer(customer_key: str, decision: Decision, lang: Lang) -> Response:
    """The decision as JSON bytes: built from the domain objects once, with no response-model pass over it
    (the route's declared model documents the same shape; tests check the two agree)."""
    body = orjson.dumps(decision_body(customer_key, decision, lang), option=orjson.OPT_UTC_Z)
    return Response(body, media_type="application/json")


@router.get("/nba/{customer_key}", response_model=DecisionPublic)
async def next_best_action(
    customer_key: str,
    store: StoreDep,
    aio: AsyncRedisDep,
    policies: PolicySourceDep,
    lang: Lang = Query("es"),
    objective: Objective | None = ObjectiveQuery,
) -> Response:
    decision = await _inbound_decision(customer_key, store, aio, policies, "dc_" + uuid.uuid4().hex, objective)
    return _answer(customer_key, decision, lang)


async def present_next_best_action(
    customer_key: str,
    store: StoreDep,
    aio: AsyncRedisDep,
    policies: PolicySourceDep,
    producer: ProducerDep,
    acked: AckedPresentationsDep,
    lang: Lang = Query("es"),
    objective: Objective | None = ObjectiveQuery,
    presented_to: str | None = Query(
        None, max_length=PRESENTED_TO_MAX, description="The advisor shown the offers (portfolio id, set by the gateway)"
    ),
) -> Response:
    decision = await _inbound_decision(customer_key, store, aio, policies, None, objective)
    if decision.offers:
        payload = offer_decided(decision).model_copy(update={"presented_to": presented_to})
        fingerprint = payload.model_dump_json().encode()
        if not acked.acked(customer_key, fingerprint):  # else the same record is already durable
            event = new_event(
                payload,
                customer_key=customer_key,
                source=SOURCE,
                event_id=uuid.uuid5(_PRESENTATIONS, decision.decision_id),
            )
            # Answered only once the broker holds the record (acks=all), awaited without a thread.
            await producer.publish_acked(topics.OFFERS, event)
            acked.remember(customer_key, fingerprint)
    return _answer(customer_key, decision, lang)


_LANGS = frozenset(get_args(Lang))
_OBJECTIVES = frozenset(get_args(Objective))


async def _fast_presentation(request: Request, slow: Handler) -> Response:
    """The presentation route without FastAPI's dependency solving (prometeo.web.fastpath): its dependencies
    only read app state. Inputs FastAPI would refuse go to FastAPI's own handler (its 422s are unchanged)."""
    query = request.query_params
    lang, objective, presented_to = query.get("lang", "es"), query.get("objective"), query.get("presented_to")
    if (
        lang not in _LANGS
        or (objective is not None and objective not in _OBJECTIVES)
        or (presented_to is not None and len(presented_to) > PRESENTED_TO_MAX)
    ):
        return await slow(request)
    state = request.app.state
    return await present_next_best_action(
        request.path_params["customer_key"],
        state.store,
        state.aio_redis,
        state.policies,
        state.runtime.producer,
        state.acked_presentations,
        cast(Lang, lang),
        cast(Objective | None, objective),
        presented_to,
    )


router.add_api_route(
    "/nba/{customer_key}/presentations",
    present_next_best_action,
    methods=["POST"],
    response_model=DecisionPublic,
    route_class_override=fast_route(_fast_presentation),
)
