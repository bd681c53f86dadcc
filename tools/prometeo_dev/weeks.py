"""Several simulated weeks of next-best-action campaigns on the synthetic bank: learning, challengers, drift.

    python -m prometeo_dev.simulator --weeks 8

Each week the audience half of the bank is decided afresh — a stationary population, so only what the
platform learns carries over — and each policy contacts the same number of customers, arbitrated
across the audience under the default policy's product-share cap (`select_contacts`). Responses are
drawn from the bank's hidden behaviour (oracle propensity × its channel response for the customer's
archetype). Week by week:

  fixed     the default policy: the YAML channel factors, never updated
  learning  the same policy with `learning.enabled`: Beta posteriors per product × channel × segment,
            updated from that week's drawn responses (trials = Σ propensity, successes = acceptances),
            a bounded share of decisions ranked on a Thompson draw
  random, most_popular  the baselines of the one-shot simulator

A planted better challenger (the champion is the same model trained on a small share of the training
rows) serves a share of customers chosen by customer hash (scoring's `serves_challenger`); its realised
AUC and calibration are computed from the learning policy's outcomes (`prometeo.model_quality`), and
it is promoted as soon as `challenger_verdict` says so. From `drift_week` on, a planted drift scales one
served feature; PSI against the training snapshot (`scoring.domain.drift`) must cross the threshold of
the `PrometeoFeatureDrift` alert.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from next_best_action.domain.arbitration import Candidate, select_contacts
from next_best_action.domain.decision import ContactHistory, Decision, decide
from next_best_action.domain.learning import UNKNOWN_SEGMENT, ResponseStats, learned_or_fixed
from next_best_action.domain.policy import Policy, load_policy
from next_best_action.settings import DEFAULT_POLICY
from prometeo.contracts import Channel, Objective, ProductCode
from prometeo.contracts.events import ScoresComputedV1
from prometeo.model_quality import Quality, bins_from, challenger_verdict, quality
from prometeo_dev.simulator import _RANKING_RULES, DECIDED_AT, audience_of, scores_event, train_propensities
from prometeo_dev.synthbank import SyntheticBank
from prometeo_dev.training_set import build_training_frame
from scoring.domain.drift import monitor_from, reference_from
from scoring.domain.routing import serves_challenger
from scoring.training.pipeline import frame_layout

# Same threshold as the PrometeoFeatureDrift alert in deploy/prometheus/alerts.yml.
DRIFT_ALERT_PSI = 0.25
DRIFTED_FEATURE = "inflow_30d"
POLICIES = ("fixed", "learning")
CHAMPION, CHALLENGER = "1", "2"


@dataclass(frozen=True)
class Week:
    week: int
    contacted: int
    expected_rate: dict[str, float]  # strategy → mean true acceptance probability of its contacts
    drawn_rate: dict[str, float]  # strategy → acceptances drawn / contacts
    revenue_brl: dict[str, float]  # strategy → expected revenue (Σ probability × value)
    top_share: dict[str, float]  # strategy → share of its contacts on its most offered product
    champion: str
    qualities: dict[str, Quality]  # version → realised quality so far (learning policy's outcomes)
    promoted: bool
    max_psi: float
    max_psi_feature: str


@dataclass
class WeeksResult:
    weeks: list[Week] = field(default_factory=list)
    budget: int = 0
    audience: int = 0
    seconds: float = 0.0
    challenger_share: float = 0.0
    learning_objective: str = "conversion"
    drift_week: int = 0

    def table(self) -> pd.DataFrame:
        rows = []
        for w in self.weeks:
            row: dict[str, object] = {"week": w.week}
            for name in (*POLICIES, "random", "most_popular"):
                row[f"{name}_conv"] = w.expected_rate[name]
            row["learning_drawn"] = w.drawn_rate["learning"]
            row["cc_conv"] = w.expected_rate["champion_challenger"]
            row["fixed_rev"] = round(w.revenue_brl["fixed"])
            row["learning_rev"] = round(w.revenue_brl["learning"])
            row["cc_rev"] = round(w.revenue_brl["champion_challenger"])
            row["random_rev"] = round(w.revenue_brl["random"])
            row["top_share"] = max(w.top_share[t] for t in (*POLICIES, "champion_challenger"))
            champ = w.qualities.get(CHAMPION)
            chall = w.qualities.get(CHALLENGER)
            row["auc_v1"] = champ.auc if champ else math.nan
            row["auc_v2"] = chall.auc if chall else math.nan
            row["champion"] = f"v{w.champion}" + (" (promoted)" if w.promoted else "")
            row["max_psi"] = f"{w.max_psi:.2f} {w.max_psi_feature}" + (" ALERT" if w.max_psi > DRIFT_ALERT_PSI else "")
            rows.append(row)
        return pd.DataFrame(rows).set_index("week")

    def report(self) -> str:
        first, last = self.weeks[0], self.weeks[-1]
        promoted = next((w.week for w in self.weeks if w.promoted), None)
        alerted = next((w.week for w in self.weeks if w.max_psi > DRIFT_ALERT_PSI), None)
        gain = last.expected_rate["learning"] / last.expected_rate["fixed"]
        cc = "champion_challenger"
        lines = [
            f"{len(self.weeks)} weeks, audience {self.audience}, {self.budget} contacts a week per strategy. "
            f"fixed/learning rank by {self.learning_objective} on the real model; cc = the default policy "
            f"(expected_value) with the weak champion v1 and the planted challenger v2 on "
            f"{self.challenger_share:.0%} of customers until promoted. *_conv = expected acceptance rate of the "
            "contacts (hidden truth); learning_drawn = acceptances drawn; *_rev = expected revenue (BRL)",
            self.table().to_string(float_format=lambda v: f"{v:.3f}"),
            f"learning conversion {first.expected_rate['learning']:.3f} (week 1) → "
            f"{last.expected_rate['learning']:.3f} (week {last.week}); fixed factors {last.expected_rate['fixed']:.3f}"
            f" ({gain:.3f}×); revenue {last.revenue_brl['learning']:.0f} vs {last.revenue_brl['fixed']:.0f}",
            f"default policy (cc track, week {last.week}): conversion "
            f"{last.expected_rate[cc] / last.expected_rate['random']:.2f}× random, "
            f"{last.expected_rate[cc] / last.expected_rate['most_popular']:.2f}× most popular; revenue "
            f"{last.revenue_brl[cc] / last.revenue_brl['random']:.2f}× random; top product {last.top_share[cc]:.0%}",
            f"challenger v2 promoted in week {promoted}" if promoted else "challenger never promoted",
            f"drift planted on {DRIFTED_FEATURE} from week {self.drift_week}: PSI crossed the alert threshold "
            f"({DRIFT_ALERT_PSI}) in week {alerted}"
            if alerted
            else "drift alert never fired",
            f"weeks simulated in {self.seconds:.1f} s",
        ]
        return "\n".join(lines)


def _learning(policy: Policy, enabled: bool) -> Policy:
    return policy.model_copy(update={"learning": policy.learning.model_copy(update={"enabled": enabled})})


def simulate_weeks(
    bank: SyntheticBank,
    frame: pd.DataFrame | None = None,
    *,
    weeks: int = 8,
    budget_share: float = 0.3,
    challenger_share: float = 0.3,
    drift_week: int = 6,
    drift_factor: float = 2.5,
    promotion_margin: float = 0.02,
    promotion_min_outcomes: int = 150,
    policy: Policy | None = None,
    learning_objective: Objective = "conversion",
    champion_rows: float = 0.1,
) -> WeeksResult:
    """The learning track ranks by `learning_objective` (conversion: learned response factors act on
    acceptances directly); the champion/challenger track runs `policy` as it is (the default policy)."""
    started = time.perf_counter()
    policy = policy or load_policy(DEFAULT_POLICY)
    ranked = policy.model_copy(update={"objective": learning_objective})
    policies = {"fixed": _learning(ranked, False), "learning": _learning(ranked, True)}
    frame = frame if frame is not None else build_training_frame(bank)
    rng = np.random.default_rng([bank.seed, 18])
    audience_mask = audience_of(bank)
    train = ~audience_mask
    # The planted challenger is the real model; the champion saw only a small share of the rows.
    weak_rows = np.random.default_rng([bank.seed, 5]).random(bank.n_customers) < champion_rows
    models = {
        CHAMPION: train_propensities(frame, train & weak_rows, bank.seed),
        CHALLENGER: train_propensities(frame, train, bank.seed),
    }
    columns, products = frame_layout(frame)
    x = frame[columns].to_numpy(dtype=float)
    reference = reference_from(columns, x[train], products, models[CHAMPION][train])
    values = np.array([policy.products[p].value_brl if p in policy.products else 0.0 for p in bank.products])
    index = {p: j for j, p in enumerate(bank.products)}
    audience = np.flatnonzero(audience_mask)
    keys = [f"ck_{bank.seed}_{i}" for i in range(bank.n_customers)]
    archetypes = bank.customers["digital_archetype"].to_numpy()
    permissions = [[Channel(c) for c in r["marketing_channels"]] for r in bank.consent_requests()]
    risk = [limit.feature for limit in policy.credit_risk.limits if limit.feature in frame.columns]
    events = {v: {int(i): scores_event(bank, frame, m, int(i), risk) for i in audience} for v, m in models.items()}
    budget = round(budget_share * len(audience))
    table: dict[str, dict[tuple[ProductCode, Channel], ResponseStats]] = {}
    outcomes: dict[str, list[tuple[float, int]]] = {CHAMPION: [], CHALLENGER: []}
    champion = CHAMPION
    result = WeeksResult(
        budget=budget,
        audience=len(audience),
        challenger_share=challenger_share,
        learning_objective=learning_objective,
        drift_week=drift_week,
    )
    drift_col = columns.index(DRIFTED_FEATURE)

    for week in range(1, weeks + 1):
        at = DECIDED_AT + timedelta(weeks=week - 1)
        # The champion/challenger track: the fixed policy on whichever model serves each customer.
        served = {
            int(i): CHALLENGER if champion == CHALLENGER or serves_challenger(keys[i], challenger_share) else CHAMPION
            for i in audience
        }
        tracks: dict[str, list[Candidate]] = {name: [] for name in (*POLICIES, "champion_challenger")}
        eligible: dict[int, list[int]] = {}
        for i in audience.tolist():
            segment = str(archetypes[i])
            # Learning vs fixed: both on the real model, so the only difference is what was learned.
            scores: ScoresComputedV1 = events[CHALLENGER][i]
            for name, p in policies.items():
                response = learned_or_fixed(
                    table.get(segment, {}), (s.product for s in scores.scores), p, decision_id=f"w{week}_{i}"
                )
                decision = decide(
                    scores, permissions[i], ContactHistory(), at, p, decision_id=f"w{week}_{i}", response=response
                )
                tracks[name] += [Candidate(i, o.product, o.channel, o.priority) for o in decision.candidates]
                if name == "fixed":
                    eligible[i] = _eligible(decision, index)
            decision = decide(
                events[served[i]][i], permissions[i], ContactHistory(), at, policy, decision_id=f"w{week}_{i}"
            )
            tracks["champion_challenger"] += [
                Candidate(i, o.product, o.channel, o.priority) for o in decision.candidates
            ]

        rates, drawn, revenue, top = {}, {}, {}, {}
        picks: dict[str, list[Candidate]] = {
            name: select_contacts(chosen, budget, max_product_share=policy.max_product_share)
            for name, chosen in tracks.items()
        }
        default_channel = {c.customer: c.channel for c in tracks["fixed"]}
        pool = [i for i in eligible if eligible[i]]
        picks["random"] = [
            Candidate(i, bank.products[int(rng.choice(eligible[i]))], default_channel[i], 0.0)
            for i in rng.choice(pool, size=min(budget, len(pool)), replace=False).tolist()
        ]
        popular = int(np.nanargmax(np.nanmean(np.where(audience_mask[:, None], np.nan, bank.labels), axis=0)))
        popular_pool = [i for i in pool if popular in eligible[i]]
        picks["most_popular"] = [
            Candidate(i, bank.products[popular], default_channel[i], 0.0)
            for i in rng.choice(popular_pool, size=min(budget, len(popular_pool)), replace=False).tolist()
        ]
        for name, chosen in picks.items():
            rows = np.array([int(c.customer) for c in chosen], dtype=int)
            cols = np.array([index[c.product] for c in chosen], dtype=int)
            chance = bank.acceptance_chance(rows, cols, [c.channel for c in chosen])
            hits = rng.random(len(chosen)) < chance
            rates[name] = float(chance.mean())
            drawn[name] = float(hits.mean())
            revenue[name] = float((chance * values[cols]).sum())
            top[name] = pd.Series([c.product for c in chosen]).value_counts().iloc[0] / len(chosen)
            for c, hit in zip(chosen, hits.tolist(), strict=True):
                if name == "learning":
                    cells = table.setdefault(str(archetypes[int(c.customer)]) or UNKNOWN_SEGMENT, {})
                    p_offer = propensity(events[CHALLENGER][int(c.customer)], c.product)
                    cells[(c.product, c.channel)] = cells.get((c.product, c.channel), ResponseStats()).add(
                        ResponseStats(p_offer, float(hit))
                    )
                elif name == "champion_challenger":
                    version = served[int(c.customer)]
                    outcomes[version].append((propensity(events[version][int(c.customer)], c.product), int(hit)))

        qualities = {v: quality(v, bins_from(rows)) for v, rows in outcomes.items() if rows}
        promoted = False
        if champion == CHAMPION and CHAMPION in qualities and CHALLENGER in qualities:
            verdict = challenger_verdict(
                qualities[CHAMPION],
                qualities[CHALLENGER],
                margin=promotion_margin,
                min_outcomes=promotion_min_outcomes,
            )
            if verdict.promote:
                champion, promoted = CHALLENGER, True

        monitor = monitor_from(reference)
        assert monitor is not None
        served_x = x[audience].copy()
        if week >= drift_week:
            served_x[:, drift_col] *= drift_factor
        features = [dict(zip(columns, row, strict=True)) for row in served_x.tolist()]
        monitor.observe(features, {p: models[CHAMPION][audience, j].tolist() for j, p in enumerate(products)})
        psi = {f: v for f, v in monitor.feature_psi().items() if not math.isnan(v)}
        worst = max(psi, key=lambda f: psi[f])
        result.weeks.append(
            Week(
                week=week,
                contacted=budget,
                expected_rate=rates,
                drawn_rate=drawn,
                revenue_brl=revenue,
                top_share=top,
                champion=champion,
                qualities=qualities,
                promoted=promoted,
                max_psi=psi[worst],
                max_psi_feature=worst,
            )
        )
    result.seconds = time.perf_counter() - started
    return result


def propensity(scores: ScoresComputedV1, product: ProductCode) -> float:
    return next(s.propensity for s in scores.scores if s.product is product)


def _eligible(decision: Decision, index: dict[ProductCode, int]) -> list[int]:
    offered = {o.product for o in decision.candidates}
    ranked_out = {
        ProductCode(p)
        for p, rules in decision.blocked.items()
        if set(rules) <= _RANKING_RULES and ProductCode(p) in index
    }
    return sorted(index[p] for p in offered | ranked_out)


def run(bank: SyntheticBank, weeks: int) -> str:
    with threadpool_limits(1):
        return simulate_weeks(bank, weeks=weeks).report()
