"""Campaign simulator: how much better does next-best-action targeting convert than random targeting
or "offer everyone the most popular product", on the synthetic bank's ground truth?

    python -m prometeo_dev.simulator --customers 3000 --budget-share 0.1

Half of the bank trains the propensity model in-process (scoring.training's candidates, no MLflow);
the other half is the campaign audience. Each strategy contacts the same number of customers (the
budget) with one product each, eligible under the next-best-action policy (not held here or elsewhere,
age bands, credit-risk limits). Responses are Bernoulli draws of the hidden propensity, averaged over
`--draws` replicates (random strategies re-sample their customers in each); the expected rate (mean hidden propensity of the contacted) is shown beside them.

Simplifications: one contact per customer, no channel response factors, contact caps or no-action
thresholds — every strategy gets the same budget and the same eligibility, so only targeting differs.

Strategies:
  nba           each customer's best eligible product by model propensity × value (BRL) — the
                next-best-action ranking — then the top-k customers by that expected value
  nba_propensity  the same, ranked by model propensity alone (maximises conversion, not value)
  random        k random customers, a random eligible product each
  most_popular  the product with the highest acceptance rate in the training half, to k random
                customers eligible for it
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from next_best_action.domain.policy import AGE_BANDS, Policy, load_policy
from next_best_action.settings import DEFAULT_POLICY
from prometeo_dev.synthbank import SyntheticBank, generate_bank
from prometeo_dev.training_set import build_training_frame
from scoring.domain.vector import LABEL_PREFIX
from scoring.training.candidates import fit_product
from scoring.training.pipeline import frame_layout, holdout_mask

STRATEGIES = ("nba", "nba_propensity", "random", "most_popular")


@dataclass(frozen=True)
class StrategyResult:
    strategy: str
    contacted: int
    conversions: float  # mean over draws
    expected_rate: float  # mean hidden propensity of the (customer, product) pairs contacted
    revenue_brl: float  # mean over draws: conversions × product value
    products: dict[str, int]  # offers per product

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

    def ratio(self, strategy: str, baseline: str) -> float:
        base = self.results[baseline].conversion_rate
        return self.results[strategy].conversion_rate / base if base else math.nan

    def table(self) -> pd.DataFrame:
        rows = []
        for name, r in self.results.items():
            rows.append({
                "strategy": name, "contacted": r.contacted, "conversions": round(r.conversions, 1),
                "conversion_rate": r.conversion_rate, "expected_rate": r.expected_rate,
                "revenue_brl": round(r.revenue_brl), "vs_random": self.ratio(name, "random"),
                "vs_most_popular": self.ratio(name, "most_popular"),
            })
        return pd.DataFrame(rows).set_index("strategy")

    def report(self) -> str:
        head = (f"{self.customers} customers, audience {self.audience} (the other half trained the model in "
                f"{self.train_seconds:.1f} s), budget {self.budget} contacts, {self.draws} response draws; "
                f"most popular product: {self.popular_product}")
        table = self.table().to_string(float_format=lambda v: f"{v:.3f}")
        goals = [f"{name} conversion = {self.ratio(name, 'random'):.2f}× random (goal ≥ 3), "
                 f"{self.ratio(name, 'most_popular'):.2f}× most popular (goal ≥ 1.5)"
                 for name in ("nba", "nba_propensity")]
        mix = [f"  {name}: " + ", ".join(f"{p} {n}" for p, n in sorted(r.products.items(), key=lambda x: -x[1])[:4])
               for name, r in self.results.items()]
        return "\n".join([head, table, *goals, "offers by product (top 4):", *mix])


def eligibility(bank: SyntheticBank, frame: pd.DataFrame, policy: Policy) -> np.ndarray:
    """customers × products: may the product be offered under the policy?"""
    ok = ~bank.held_here & ~bank.held_elsewhere
    bands = bank.customers["age_band"].map(AGE_BANDS.index).to_numpy()
    for p, product in enumerate(bank.products):
        rules = policy.products.get(product)
        if rules is None:
            ok[:, p] = False
            continue
        if rules.min_age_band:
            ok[:, p] &= bands >= AGE_BANDS.index(rules.min_age_band)
        if rules.max_age_band:
            ok[:, p] &= bands <= AGE_BANDS.index(rules.max_age_band)
        if rules.credit:
            for limit in policy.credit_risk.limits:
                if limit.feature in frame.columns:
                    values = frame[limit.feature].to_numpy(dtype=float)
                    known = ~np.isnan(values)
                    allowed = np.ones(len(values), bool)
                    allowed[known] = [limit.allows(v) for v in values[known]]
                    ok[:, p] &= allowed
    return ok


def train_propensities(frame: pd.DataFrame, train: np.ndarray, seed: int) -> np.ndarray:
    """Fit each product on the training rows (scoring's candidates and calibration); predict every row."""
    columns, products = frame_layout(frame)
    x = frame[columns].to_numpy(dtype=float)
    inner_holdout = holdout_mask(len(frame), seed + 1, 0.25)
    out = np.zeros((len(frame), len(products)))
    # Many small fits: OpenMP thread pools cost more than they give (10× slower on a busy 2-core box).
    with threadpool_limits(1):
        return _fit_all(frame, products, x, train, inner_holdout, out, seed)


def _fit_all(frame: pd.DataFrame, products: list[str], x: np.ndarray, train: np.ndarray,
             inner_holdout: np.ndarray, out: np.ndarray, seed: int) -> np.ndarray:
    for j, product in enumerate(products):
        y = frame[f"{LABEL_PREFIX}{product}"].to_numpy(dtype=float)
        known = ~np.isnan(y) & train
        fit_rows, hold_rows = known & ~inner_holdout, known & inner_holdout
        fit = fit_product(product, x[fit_rows], y[fit_rows], x[hold_rows], y[hold_rows], seed)
        out[:, j] = fit.estimator.predict_proba(x)[:, 1]
    return out


Selection = tuple[np.ndarray, np.ndarray]  # (customer rows, product column per customer)


def _draw(bank: SyntheticBank, selections: list[Selection], values: np.ndarray, rng: np.random.Generator,
          name: str) -> StrategyResult:
    """One response draw per selection (a random strategy re-samples its customers every draw, so its
    rate is not one lucky or unlucky sample); means over the draws."""
    conversions, revenue, expected = [], [], []
    counts: dict[str, int] = {}
    for customers, products in selections:
        truth = bank.oracle_propensity[customers, products]
        hits = rng.random(len(customers)) < truth
        conversions.append(hits.sum())
        revenue.append((hits * values[products]).sum())
        expected.append(truth.mean() if len(truth) else 0.0)
    for product in selections[0][1]:
        key = bank.products[product].value
        counts[key] = counts.get(key, 0) + 1
    return StrategyResult(
        strategy=name, contacted=len(selections[0][0]), conversions=float(np.mean(conversions)),
        expected_rate=float(np.mean(expected)), revenue_brl=float(np.mean(revenue)), products=counts,
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
    audience_mask = holdout_mask(bank.n_customers, bank.seed, 0.5)
    started = time.perf_counter()
    model = train_propensities(frame, ~audience_mask, bank.seed)
    train_seconds = time.perf_counter() - started

    _, products = frame_layout(frame)
    assert products == [p.value for p in bank.products], "frame columns follow the bank's products"
    values = np.array([policy.products[p].value_brl if p in policy.products else 0.0 for p in bank.products])
    eligible = eligibility(bank, frame, policy) & audience_mask[:, None]
    reachable = np.flatnonzero(eligible.any(axis=1))
    budget = max(1, min(len(reachable), round(budget_share * audience_mask.sum())))

    results: dict[str, StrategyResult] = {}
    for name, weight in (("nba", values), ("nba_propensity", 1.0)):
        # Best eligible product per customer, then the customers with the highest score.
        score = np.where(eligible, model * weight, -np.inf)
        best = score.argmax(axis=1)
        top = reachable[np.argsort(-score[reachable, best[reachable]], kind="stable")[:budget]]
        results[name] = _draw(bank, [(top, best[top])] * draws, values, rng, name)

    def random_pick() -> Selection:
        chosen = rng.choice(reachable, size=budget, replace=False)
        return chosen, np.array([rng.choice(np.flatnonzero(eligible[i])) for i in chosen], dtype=int)

    results["random"] = _draw(bank, [random_pick() for _ in range(draws)], values, rng, "random")

    train_rates = np.nanmean(np.where(audience_mask[:, None], np.nan, bank.labels), axis=0)
    popular = int(np.nanargmax(train_rates))
    pool = np.flatnonzero(eligible[:, popular])
    size = min(budget, len(pool))
    picks = [(rng.choice(pool, size=size, replace=False), np.full(size, popular)) for _ in range(draws)]
    results["most_popular"] = _draw(bank, picks, values, rng, "most_popular")
    return SimulationResult(
        customers=bank.n_customers, audience=int(audience_mask.sum()), budget=budget, draws=draws,
        popular_product=bank.products[popular].value, results=results, train_seconds=train_seconds,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m prometeo_dev.simulator",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--customers", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--budget-share", type=float, default=0.1, help="share of the audience contacted")
    parser.add_argument("--draws", type=int, default=50, help="response draws averaged per strategy")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    bank = generate_bank(args.customers, seed=args.seed)
    result = simulate(bank, budget_share=args.budget_share, draws=args.draws)
    print(result.report())
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
