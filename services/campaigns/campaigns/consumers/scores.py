"""scores.v1 → enrol the customer in every active campaign whose target (features, scores, segments)
they match, within the campaign's budget, once per campaign (sequences.py); keep the count of products
the customer holds here and which (products-per-customer KPIs, the held-together matrix)."""

from __future__ import annotations

from campaigns.domain.preview import AudienceMember
from campaigns.sequences import SequenceRunner
from campaigns.store import CampaignStore
from prometeo.contracts import Envelope, EventPayload
from prometeo.contracts.events import ScoresComputedV1


class ScoresHandler:
    def __init__(self, store: CampaignStore, runner: SequenceRunner) -> None:
        self._store = store
        self._runner = runner

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        if not isinstance(payload, ScoresComputedV1) or self._store.erased_after(
            envelope.customer_key, envelope.occurred_at
        ):
            return
        # Products per customer and multi-product customers (KPIs) follow the latest holdings seen.
        # The latest picture of the customer, for a campaign's audience preview before launch; both in one
        # round trip.
        held = [p.value for p in payload.held_products]
        self._store.record_scores(
            AudienceMember(
                customer_key=envelope.customer_key,
                features=payload.features,
                propensity={s.product.value: s.propensity for s in payload.scores},
                profile=payload.profile,
                held=frozenset(held) | {p.value for p in payload.held_elsewhere},
            ),
            held,
        )
        # Enrolment is idempotent per (customer, campaign): a redelivered event enrols nobody twice.
        self._runner.consider(envelope.customer_key, payload, envelope.occurred_at)
