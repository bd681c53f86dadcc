"""Campaign simulator: how much better does next-best-action targeting convert than random targeting
or "offer everyone the most popular product", on the synthetic bank's ground truth?

    python -m prometeo_dev.simulator --customers 3000 --budget-share 0.1 [--weeks 8]

Half of the bank trains the propensity model in-process (scoring.training's candidates, no MLflow);
the other half is the campaign audience. Every audience customer gets a real next-best-action
decision — `next_best_action.domain.decision.decide()` with the default policy, outbound, at noon on
a weekday: eligibility (held here or elsewhere, age bands, credit-risk limits), marketing permission
and the archetype's channel, the no-action threshold. Each strategy then contacts the same number of
customers (the budget) with one product each, on the channel the policy picks for that customer, so
only *targeting* differs between strategies. A contacted customer accepts with probability
hidden propensity × the bank's hidden response to that channel (`SyntheticBank.response_rate`); the
rates are means over `--draws` replicates (random strategies re-sample their customers in each).

Strategies:
  nba_conversion  the decision ranked for conversion (policy objective `conversion`: propensity ×
                  channel response factor), then the customers whose offer ranks highest
  nba_value       the same with objective `expected_value` (propensity × value × channel factor):
                  maximises margin per contact, not conversion — shown for its revenue
  random          random customers, a random eligible product each
  most_popular    the product with the highest acceptance rate in the training half, to random
                  customers eligible for it
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from next_best_action.domain.arbitration import Candidate, select_contacts
from next_best_action.domain.decision import ContactHistory, Decision, channel_for, decide
from next_best_action.domain.policy import Policy, load_policy
from next_best_action.domain.rules import Rule
from next_best_action.settings import DEFAULT_POLICY
from prometeo.contracts import Channel, Objective
from prometeo.contracts.events import ProductScore, ScoresComputedV1
from prometeo_dev.synthbank import SyntheticBank, generate_bank
from prometeo_dev.training_set import build_training_frame
from scoring.domain.vector import LABEL_PREFIX
from scoring.training.candidates import fit_product
from scoring.training.pipeline import frame_layout, holdout_mask

STRATEGIES = ("nba_conversion", "nba_value", "random", "most_popular")
NBA_OBJECTIVES: dict[str, Objective] = {"nba_conversion": "conversion", "nba_value": "expected_value"}
# Weekday noon in São Paulo: outside quiet hours, so every permitted channel is usable.
DECIDED_AT = datetime(2025, 6, 4, 15, 0, tzinfo=UTC)
# Blocked only by these, a product is eligible: they are the NBA's targeting, not a rule every
# strategy must respect.
_RANKING_RULES = frozenset({Rule.MAX_OFFERS.value, Rule.MIN_EXPECTED_VALUE.value})


@dataclass(frozen=True)
class StrategyResult:
    strategy: str
    contacted: int
    conversions: float  # mean over draws
    expected_rate: float  # mean acceptance probability (propensity × channel response) of the contacts
    revenue_brl: float  # mean over draws: conversions × product value
    products: dict[str, int]  # offers per product
    channels: dict[str, int]  # offers per channel

    @property
    def top_share(self) -> float:
        return max(self.products.values()) / self.contacted if self.contacted else 0.0

    @property
    def conversion_rate(self) -> float:
        return self.conversions / self.contacted if self.contacted else 0.0


@dataclass(frozen=True)
class SimulationResult:
    customers: int
    audience: int
    budget: int
    draws: int
    popular_product: str
    results: dict[str, StrategyResult]
    train_seconds: float
    share_cap: float = 1.0

    def ratio(self, strategy: str, baseline: str, field: str = "conversion_rate") -> float:
        base = getattr(self.results[baseline], field)
        return getattr(self.results[strategy], field) / base if base else math.nan

    def table(self) -> pd.DataFrame:
        rows = []
        for name, r in self.results.items():
            rows.append(
                {
                    "strategy": name,
                    "contacted": r.contacted,
                    "conversions": round(r.conversions, 1),
                    "conversion_rate": r.conversion_rate,
                    "expected_rate": r.expected_rate,
                    "revenue_brl": round(r.revenue_brl),
                    "vs_random": self.ratio(name, "random"),
                    "vs_most_popular": self.ratio(name, "most_popular"),
                    "revenue_vs_random": self.ratio(name, "random", "revenue_brl"),
                }
            )
        return pd.DataFrame(rows).set_index("strategy")

    def report(self) -> str:
        head = (
            f"{self.customers} customers, audience {self.audience} (the other half trained the model in "
            f"{self.train_seconds:.1f} s), budget {self.budget} contacts, {self.draws} response draws; "
            f"most popular product: {self.popular_product}"
        )
        table = self.table().to_string(float_format=lambda v: f"{v:.3f}")
        goals = [
            f"{name} conversion = {self.ratio(name, 'random'):.2f}× random (goal ≥ 2.5), "
            f"{self.ratio(name, 'most_popular'):.2f}× most popular (goal ≥ 1.5); revenue "
            f"{self.ratio(name, 'random', 'revenue_brl'):.2f}× random (goal ≥ 3); top product "
            f"{self.results[name].top_share:.0%} of contacts (cap {self.share_cap:.0%})"
            for name in NBA_OBJECTIVES
        ]
        mix = [
            f"  {name}: "
            + ", ".join(f"{p} {n}" for p, n in sorted(r.products.items(), key=lambda x: -x[1])[:4])
            + " | "
            + ", ".join(f"{c} {n}" for c, n in sorted(r.channels.items(), key=lambda x: -x[1]))
            for name, r in self.results.items()
        ]
        return "\n".join([head, table, *goals, "offers by product (top 4) | by channel:", *mix])


def audience_of(bank: SyntheticBank) -> np.ndarray:
    """Half the bank, drawn from its own stream: `holdout_mask(n, bank.seed, …)` would replay the first
    uniform draws generate_bank(seed) made, which pick each customer's age band, so the "random" half
    would be exactly the youngest customers."""
    return np.random.default_rng([bank.seed, 2026]).random(bank.n_customers) < 0.5


def train_propensities(frame: pd.DataFrame, train: np.ndarray, seed: int) -> np.ndarray:
    """Fit each product on the training rows (scoring's candidates and calibration); predict every row."""
    columns, products = frame_layout(frame)
    x = frame[columns].to_numpy(dtype=float)
    inner_holdout = holdout_mask(len(frame), seed + 1, 0.25)
    out = np.zeros((len(frame), len(products)))
    # Many small fits: OpenMP thread pools cost more than they give (10× slower on a busy 2-core box).
    with threadpool_limits(1):
        for j, product in enumerate(products):
            y = frame[f"{LABEL_PREFIX}{product}"].to_numpy(dtype=float)
            known = ~np.isnan(y) & train
            fit_rows, hold_rows = known & ~inner_holdout, known & inner_holdout
            fit = fit_product(product, x[fit_rows], y[fit_rows], x[hold_rows], y[hold_rows], seed)
            out[:, j] = fit.estimator.predict_proba(x)[:, 1]
    return out


def scores_event(
    bank: SyntheticBank, frame: pd.DataFrame, model: np.ndarray, i: int, features: list[str]
) -> ScoresComputedV1:
    """What the scoring service would publish for customer i (no reasons: the simulator needs none)."""
    row = bank.customers.iloc[i]
    return ScoresComputedV1(
        model_name="simulator",
        model_version="in-process",
        feature_set_version=str(frame.attrs.get("feature_set_version", "unknown")),
        scores=[ProductScore(product=p, propensity=float(model[i, j])) for j, p in enumerate(bank.products)],
        held_products=[p for j, p in enumerate(bank.products) if bank.held_here[i, j]],
        held_elsewhere=[p for j, p in enumerate(bank.products) if bank.held_elsewhere[i, j]],
        profile={
            "digital_archetype": row["digital_archetype"],
            "age_band": row["age_band"],
            "timezone": "America/Sao_Paulo",
        },
        features={f: value for f in features if not math.isnan(value := float(frame[f].iloc[i]))},
    )


@dataclass(frozen=True)
class Decisions:
    """One outbound decision per audience customer and objective, as arrays over the bank."""

    eligible: np.ndarray  # customers × products: not blocked by an eligibility or permission rule
    channel: np.ndarray  # customers: the channel index the policy picks (-1 none)
    # strategy → every eligible (customer, product) with its priority: arbitration picks from these
    candidates: dict[str, list[Candidate]]


CHANNELS = tuple(Channel)


def decide_all(
    bank: SyntheticBank, frame: pd.DataFrame, model: np.ndarray, audience: np.ndarray, policy: Policy
) -> Decisions:
    n, k = bank.n_customers, len(bank.products)
    eligible = np.zeros((n, k), dtype=bool)
    channel = np.full(n, -1)
    candidates: dict[str, list[Candidate]] = {name: [] for name in NBA_OBJECTIVES}
    consents = bank.consent_requests()
    risk_features = [limit.feature for limit in policy.credit_risk.limits if limit.feature in frame.columns]
    for i in np.flatnonzero(audience):
        scores = scores_event(bank, frame, model, int(i), risk_features)
        permissions = [Channel(c) for c in consents[i]["marketing_channels"]]
        picked = channel_for(scores.profile, permissions, DECIDED_AT, policy)
        channel[i] = -1 if picked is None else CHANNELS.index(picked)
        for name, objective in NBA_OBJECTIVES.items():
            decision: Decision = decide(
                scores, permissions, ContactHistory(), DECIDED_AT, policy, decision_id=f"sim_{i}", objective=objective
            )
            candidates[name] += [Candidate(int(i), o.product, o.channel, o.priority) for o in decision.candidates]
            if name == "nba_conversion":
                for j, product in enumerate(bank.products):
                    rules = decision.blocked.get(product.value)
                    eligible[i, j] = product in {o.product for o in decision.offers} or (
                        rules is not None and set(rules) <= _RANKING_RULES
                    )
    return Decisions(eligible=eligible, channel=channel, candidates=candidates)


Selection = tuple[np.ndarray, np.ndarray]  # (customer rows, product column per customer)


def _draw(
    bank: SyntheticBank,
    selections: list[Selection],
    channel: np.ndarray,
    values: np.ndarray,
    rng: np.random.Generator,
    name: str,
) -> StrategyResult:
    """One response draw per selection; means over the draws."""
    conversions, revenue, expected = [], [], []
    for customers, products in selections:
        chance = bank.acceptance_chance(customers, products, [CHANNELS[c] for c in channel[customers]])
        hits = rng.random(len(customers)) < chance
        conversions.append(hits.sum())
        revenue.append((hits * values[products]).sum())
        expected.append(chance.mean() if len(chance) else 0.0)
    customers, products = selections[0]
    by_product = pd.Series([bank.products[p].value for p in products]).value_counts()
    by_channel = pd.Series([CHANNELS[c].value for c in channel[customers]]).value_counts()
    return StrategyResult(
        strategy=name,
        contacted=len(customers),
        conversions=float(np.mean(conversions)),
        expected_rate=float(np.mean(expected)),
        revenue_brl=float(np.mean(revenue)),
        products={str(k): int(v) for k, v in by_product.items()},
        channels={str(k): int(v) for k, v in by_channel.items()},
    )


def simulate(
    bank: SyntheticBank,
    frame: pd.DataFrame | None = None,
    *,
    budget_share: float = 0.1,
    draws: int = 50,
    policy: Policy | None = None,
) -> SimulationResult:
    policy = policy or load_policy(DEFAULT_POLICY)
    frame = frame if frame is not None else build_training_frame(bank)
    rng = np.random.default_rng([bank.seed, 2024])
    audience_mask = audience_of(bank)
    started = time.perf_counter()
    model = train_propensities(frame, ~audience_mask, bank.seed)
    train_seconds = time.perf_counter() - started

    _, products = frame_layout(frame)
    assert products == [p.value for p in bank.products], "frame columns follow the bank's products"
    values = np.array([policy.products[p].value_brl if p in policy.products else 0.0 for p in bank.products])
    decided = decide_all(bank, frame, model, audience_mask, policy)
    eligible = decided.eligible
    reachable = np.flatnonzero(eligible.any(axis=1))
    budget = max(1, min(len(reachable), round(budget_share * audience_mask.sum())))

    results: dict[str, StrategyResult] = {}
    index = {p: j for j, p in enumerate(bank.products)}
    for name in NBA_OBJECTIVES:
        # Arbitration across the audience: highest priority first, no product above its share.
        picked = select_contacts(decided.candidates[name], budget, max_product_share=policy.max_product_share)
        top = np.array([c.customer for c in picked], dtype=int)
        chosen = np.array([index[c.product] for c in picked], dtype=int)
        results[name] = _draw(bank, [(top, chosen)] * draws, decided.channel, values, rng, name)

    def random_pick() -> Selection:
        chosen = rng.choice(reachable, size=budget, replace=False)
        return chosen, np.array([rng.choice(np.flatnonzero(eligible[i])) for i in chosen], dtype=int)

    results["random"] = _draw(bank, [random_pick() for _ in range(draws)], decided.channel, values, rng, "random")

    train_rates = np.nanmean(np.where(audience_mask[:, None], np.nan, bank.labels), axis=0)
    popular = int(np.nanargmax(train_rates))
    pool = np.flatnonzero(eligible[:, popular])
    size = min(budget, len(pool))
    picks = [(rng.choice(pool, size=size, replace=False), np.full(size, popular)) for _ in range(draws)]
    results["most_popular"] = _draw(bank, picks, decided.channel, values, rng, "most_popular")
    return SimulationResult(
        customers=bank.n_customers,
        audience=int(audience_mask.sum()),
        budget=budget,
        draws=draws,
        popular_product=bank.products[popular].value,
        results=results,
        train_seconds=train_seconds,
        share_cap=policy.max_product_share or 1.0,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m prometeo_dev.simulator", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--customers", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--budget-share", type=float, default=0.1, help="share of the audience contacted")
    parser.add_argument("--draws", type=int, default=50, help="response draws averaged per strategy")
    parser.add_argument(
        "--weeks", type=int, default=0, help="also simulate this many weeks: learning, challenger, drift (weeks.py)"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    bank = generate_bank(args.customers, seed=args.seed)
    result = simulate(bank, budget_share=args.budget_share, draws=args.draws)
    print(result.report())
    if args.weeks:
        from prometeo_dev.weeks import run  # imports this module: deferred

        print()
        print(run(bank, args.weeks))
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
