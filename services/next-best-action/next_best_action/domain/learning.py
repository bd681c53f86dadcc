"""Response estimates learned from every outcome: a Beta posterior per product × channel × segment.

An offer made with propensity p is p "trials" of the response it was hoping for: the posterior of
(acceptances, Σ p) estimates the hidden share of propensity that converts on that channel in that
segment — the quantity the policy's fixed channel factor guesses.

Two levels, so a cell with few offers is not left to its prior: the channel's posterior in the segment
(all products pooled) starts from the policy's channel factor; each product × channel cell starts from
that pooled estimate, and moves away from it as its own outcomes accumulate.

Pure: callers pass the counts and a seed; the same decision id always draws the same factors, so a
redelivered scores event yields the same decision.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from next_best_action.domain.decision import ResponseFactors
from next_best_action.domain.policy import Policy
from prometeo.contracts import Channel, ProductCode

UNKNOWN_SEGMENT = "unknown"


@dataclass(frozen=True)
class ResponseStats:
    trials: float = 0.0  # Σ propensity of the offers made
    successes: float = 0.0  # acceptances

    def add(self, other: ResponseStats) -> ResponseStats:
        return ResponseStats(self.trials + other.trials, self.successes + other.successes)


_NONE = ResponseStats()  # a cell without offers (frozen: shared)

ResponseTable = Mapping[tuple[ProductCode, Channel], ResponseStats]


def posterior(
    stats: ResponseStats, prior_factor: float, policy: Policy, *, prior_rate: float | None = None
) -> tuple[float, float]:
    """(alpha, beta) of the response rate's Beta posterior; the prior's mean is `prior_rate` (a rate)
    when given, else the channel factor × prior_scale."""
    learning = policy.learning
    mean = min(0.99, max(0.01, prior_factor * learning.prior_scale if prior_rate is None else prior_rate))
    alpha = mean * learning.prior_strength + stats.successes
    # More acceptances than weighted trials (an under-confident model) must not make beta negative.
    beta = (1 - mean) * learning.prior_strength + max(0.0, stats.trials - stats.successes)
    return alpha, beta


def explores(decision_id: str, share: float) -> bool:
    """Whether this decision ranks on a Thompson draw: a stable hash of its id, below `share`."""
    return _unit(decision_id, "explore") < share


def response_factors(
    table: ResponseTable,
    products: Iterable[ProductCode],
    channels: Iterable[Channel],
    policy: Policy,
    *,
    decision_id: str,
) -> dict[tuple[ProductCode, Channel], float]:
    """The factors decide() ranks with: posterior means, or one Thompson draw for an exploring decision."""
    learning = policy.learning
    draw = explores(decision_id, learning.exploration_share)
    rng = random.Random(int(_unit(decision_id, "draw") * 2**53))
    factors: dict[tuple[ProductCode, Channel], float] = {}
    pooled: dict[Channel, ResponseStats] = {}
    for (_, channel), stats in table.items():
        pooled[channel] = pooled.get(channel, _NONE).add(stats)
    # The channel's pooled prior rate is the same for every product: worked out once per channel, not per
    # cell (this ran for every decision; the draws still come in product, then channel, order).
    priors: list[tuple[Channel, float, float]] = []
    for channel in sorted(channels):
        prior = policy.channels.response_factors.get(channel)
        if prior is not None:
            a0, b0 = posterior(pooled.get(channel, _NONE), prior, policy)
            priors.append((channel, prior, a0 / (a0 + b0)))
    for product in sorted(products):
        for channel, prior, prior_rate in priors:
            alpha, beta = posterior(table.get((product, channel), _NONE), prior, policy, prior_rate=prior_rate)
            rate = rng.betavariate(alpha, beta) if draw else alpha / (alpha + beta)
            factors[(product, channel)] = round(rate / learning.prior_scale, 6)
    return factors


def learned_or_fixed(
    table: ResponseTable | None, products: Iterable[ProductCode], policy: Policy, *, decision_id: str
) -> ResponseFactors | None:
    """None (the fixed factors) unless the policy learns."""
    if table is None or not policy.learning.enabled:
        return None
    return response_factors(table, products, policy.channels.response_factors, policy, decision_id=decision_id)


def _unit(decision_id: str, salt: str) -> float:
    digest = hashlib.blake2b(f"{salt}:{decision_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64
