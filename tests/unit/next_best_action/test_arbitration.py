from __future__ import annotations

from collections import Counter

from next_best_action.domain.arbitration import Candidate, select_contacts, share_limit
from next_best_action.domain.decision import ContactHistory, decide, with_reservation
from next_best_action.domain.learning import ResponseStats, explores, posterior, response_factors
from next_best_action.domain.policy import Policy
from next_best_action.domain.rules import Rule
from prometeo.contracts import Channel, ProductCode
from tests.unit.next_best_action.factories import NOW, default_policy, scores

CC, SAV, MORT = ProductCode.CREDIT_CARD, ProductCode.SAVINGS, ProductCode.MORTGAGE


def test_a_business_lever_multiplies_the_priority_and_can_reorder_offers() -> None:
    policy = default_policy()
    plain = decide(scores({CC: 0.3, SAV: 0.9}), {Channel.IN_APP}, ContactHistory(), NOW, policy, decision_id="d")
    assert plain.offers[0].product is CC  # 0.3 × 420 beats 0.9 × 60
    pushed = decide(
        scores({CC: 0.3, SAV: 0.9}), {Channel.IN_APP}, ContactHistory(), NOW, policy, decision_id="d", levers={SAV: 3.0}
    )
    assert pushed.offers[0].product is SAV
    assert pushed.offers[0].priority == round(0.9 * 60 * 1.0 * 3.0, 6)
    assert [o.product for o in pushed.candidates] == [SAV, CC]


def test_reservation_verdicts_offer_the_next_candidate_and_name_the_refusing_rule() -> None:
    decision = decide(
        scores({CC: 0.6, SAV: 0.5}), {Channel.IN_APP}, ContactHistory(), NOW, default_policy(), decision_id="d"
    )
    reserved = with_reservation(decision, {CC: Rule.PRODUCT_SHARE_CAP, SAV: None})
    assert [o.product for o in reserved.offers] == [SAV]
    assert reserved.blocked[CC.value] == [Rule.PRODUCT_SHARE_CAP.value]


def test_campaign_selection_caps_each_products_share_and_falls_back_per_customer() -> None:
    candidates = [Candidate(i, MORT, Channel.ADVISOR, 100 - i) for i in range(10)]
    candidates += [Candidate(i, CC, Channel.ADVISOR, 10 - i / 10) for i in range(10)]
    chosen = select_contacts(candidates, 10, max_product_share=0.6)
    assert Counter(c.product for c in chosen) == {MORT: 6, CC: 4}
    assert len({c.customer for c in chosen}) == 10  # one offer per customer
    assert share_limit(150, 0.35) == 52


def test_campaign_selection_respects_volume_limits_by_channel() -> None:
    candidates = [Candidate(i, CC, Channel.ADVISOR if i % 2 else Channel.SMS, 10 - i) for i in range(10)]
    chosen = select_contacts(candidates, 10, volume_limits={(None, Channel.ADVISOR): 2})
    assert Counter(c.channel for c in chosen) == {Channel.ADVISOR: 2, Channel.SMS: 5}


def test_posterior_starts_at_the_channel_factor_and_moves_with_outcomes() -> None:
    policy = default_policy()
    alpha, beta = posterior(ResponseStats(), 1.0, policy)
    assert abs(alpha / (alpha + beta) - 0.6) < 1e-9
    alpha, beta = posterior(ResponseStats(trials=1000, successes=900), 1.0, policy)
    assert alpha / (alpha + beta) > 0.85


def test_exploration_is_bounded_and_deterministic_per_decision() -> None:
    ids = [f"dc_{i}" for i in range(10_000)]
    share = sum(explores(i, 0.2) for i in ids) / len(ids)
    assert 0.18 < share < 0.22
    policy = default_policy().model_copy(
        update={"learning": default_policy().learning.model_copy(update={"exploration_share": 1.0})}
    )
    table = {(CC, Channel.SMS): ResponseStats(10, 3)}
    first = response_factors(table, [CC], [Channel.SMS], policy, decision_id="dc_x")
    assert first == response_factors(table, [CC], [Channel.SMS], policy, decision_id="dc_x")
    assert first != response_factors(table, [CC], [Channel.SMS], policy, decision_id="dc_y")


def _factors_cell_by_cell(
    table: dict[tuple[ProductCode, Channel], ResponseStats],
    products: list[ProductCode],
    channels: list[Channel],
    policy: Policy,
    decision_id: str,
) -> dict[tuple[ProductCode, Channel], float]:
    """The two-level posterior as the module doc states it, worked out afresh for every cell."""
    import random

    from next_best_action.domain.learning import _unit

    rng = random.Random(int(_unit(decision_id, "draw") * 2**53))
    draw = explores(decision_id, policy.learning.exploration_share)
    out = {}
    for product in sorted(products):
        for channel in sorted(channels):
            prior = policy.channels.response_factors.get(channel)
            if prior is None:
                continue
            pooled = ResponseStats()
            for (_, ch), stats in table.items():
                if ch == channel:
                    pooled = pooled.add(stats)
            a0, b0 = posterior(pooled, prior, policy)
            alpha, beta = posterior(
                table.get((product, channel), ResponseStats()), prior, policy, prior_rate=a0 / (a0 + b0)
            )
            rate = rng.betavariate(alpha, beta) if draw else alpha / (alpha + beta)
            out[(product, channel)] = round(rate / policy.learning.prior_scale, 6)
    return out


def test_response_factors_with_the_pooled_prior_once_per_channel_are_the_cell_by_cell_ones() -> None:
    table = {
        (CC, Channel.SMS): ResponseStats(10, 3),
        (SAV, Channel.SMS): ResponseStats(4, 0),
        (SAV, Channel.EMAIL): ResponseStats(7.5, 2),
        (MORT, Channel.IN_APP): ResponseStats(1, 1),
    }
    products, channels = [SAV, CC, MORT], list(Channel)
    for share in (0.0, 1.0):  # posterior means, then every decision drawing (the draws' order matters)
        base = default_policy()
        policy = base.model_copy(update={"learning": base.learning.model_copy(update={"exploration_share": share})})
        for decision_id in ("dc_a", "dc_b"):
            assert response_factors(table, products, channels, policy, decision_id=decision_id) == (
                _factors_cell_by_cell(table, products, channels, policy, decision_id)
            )
