"""Arbitration across customers: which (customer, offer) pairs a campaign of a fixed size contacts.

The stream path reserves volume one decision at a time in Redis (store.reserve); a campaign that
knows its size in advance (the simulator, a batch run) picks its contacts here, highest priority
first, under the same two limits: volume constraints per product and channel, and the cap on any
one product's share of the campaign's contacts.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from prometeo.contracts import Channel, ProductCode


@dataclass(frozen=True)
class Candidate:
    customer: int | str  # the stream's customer key, or a row index in a batch
    product: ProductCode
    channel: Channel
    priority: float


def share_limit(budget: int, share: float | None) -> int:
    """Contacts one product may have in a campaign of `budget` contacts."""
    return budget if share is None else max(1, math.floor(share * budget))


def select_contacts(
    candidates: Sequence[Candidate],
    budget: int,
    *,
    max_product_share: float | None = None,
    volume_limits: Mapping[tuple[ProductCode | None, Channel | None], int] | None = None,
) -> list[Candidate]:
    """At most one offer per customer, at most `budget` in all, greedily by priority: a customer whose
    best offer's product is at its cap gets their next-best offer instead. `volume_limits` maps
    (product or None, channel or None) → maximum offers (None = any)."""
    per_product = share_limit(budget, max_product_share)
    limits = dict(volume_limits or {})
    used: Counter[tuple[ProductCode | None, Channel | None]] = Counter()
    products: Counter[ProductCode] = Counter()
    taken: set[int | str] = set()
    chosen: list[Candidate] = []
    ordered = sorted(candidates, key=lambda c: (-c.priority, c.product.value, str(c.customer)))
    for c in ordered:
        if len(chosen) >= budget:
            break
        if c.customer in taken or products[c.product] >= per_product:
            continue
        scopes = [s for s in limits if s[0] in (None, c.product) and s[1] in (None, c.channel)]
        if any(used[s] >= limits[s] for s in scopes):
            continue
        for s in scopes:
            used[s] += 1
        products[c.product] += 1
        taken.add(c.customer)
        chosen.append(c)
    return chosen
