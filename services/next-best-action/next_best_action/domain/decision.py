"""decide(): scores + permissions + contact history + policy → a ranked, self-explaining decision.

Pure: no clock, no I/O, no randomness; callers pass `now` and the `decision_id`, so a redelivered
scores event yields the same decision and the same offer ids.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from next_best_action.domain.policy import AGE_BANDS, ARCHETYPES, Policy
from next_best_action.domain.rules import Rule
from prometeo.contracts import Channel, Objective, ProductCode
from prometeo.contracts.events import ProductScore, ReasonCode, ScoresComputedV1

# outbound: we start the contact (stream path). inbound: the customer is already talking to us
# (real-time API, e.g. an advisor's screen), so no marketing permission is needed to show an offer.
Mode = Literal["outbound", "inbound"]


@dataclass(frozen=True)
class Contact:
    offer_id: str
    product: ProductCode
    channel: Channel
    at: datetime


@dataclass(frozen=True)
class ContactHistory:
    contacts: tuple[Contact, ...] = ()
    declines: dict[ProductCode, datetime] = field(default_factory=dict)
    # Accepted offers: held now, even before the next features event says so.
    accepted: frozenset[ProductCode] = frozenset()

    def contacts_since(self, since: datetime, channel: Channel | None = None) -> int:
        return sum(1 for c in self.contacts if c.at >= since and (channel is None or c.channel == channel))

    def offered_since(self, product: ProductCode, since: datetime) -> bool:
        return any(c.product == product and c.at >= since for c in self.contacts)


@dataclass(frozen=True)
class Offer:
    offer_id: str
    product: ProductCode
    channel: Channel
    propensity: float
    expected_value: float
    reasons: tuple[ReasonCode, ...]
    rules_passed: tuple[str, ...]
    # What arbitration ranks on: the objective's quantity × the product's business lever.
    priority: float = 0.0
    # The response factor used (the policy's channel factor, or the learned estimate).
    response_factor: float = 1.0


# The response factor for (product, channel) in this customer's segment, learned from outcomes.
ResponseFactors = Mapping[tuple[ProductCode, Channel], float]


@dataclass(frozen=True)
class Decision:
    decision_id: str
    model_version: str
    decided_at: datetime
    mode: Mode
    offers: tuple[Offer, ...]
    blocked: dict[str, list[str]]
    objective: Objective = "expected_value"
    segment: str | None = None  # the customer's digital archetype, for KPIs by segment
    # Every eligible offer in priority order, including those beyond the slots: volume reservation
    # (store.reserve) falls back down this list when a constraint refuses the first choice.
    candidates: tuple[Offer, ...] = ()

    @property
    def no_action(self) -> bool:
        return not self.offers


@lru_cache(maxsize=16384)
def offer_id_for(decision_id: str, product: ProductCode) -> str:
    # Cached: a pure function (SHA-1 of its inputs), and a repeat presentation asks it again for the same offers.
    return "of_" + uuid.uuid5(uuid.NAMESPACE_URL, f"prometeo:{decision_id}:{product.value}").hex


def decide(
    scores: ScoresComputedV1,
    permissions: Iterable[Channel],
    history: ContactHistory,
    now: datetime,
    policy: Policy,
    *,
    decision_id: str,
    mode: Mode = "outbound",
    volume_today: Mapping[ProductCode, int] | None = None,
    objective: Objective | None = None,
    levers: Mapping[ProductCode, float] | None = None,
    response: ResponseFactors | None = None,
) -> Decision:
    """`volume_today`: offers made today per product (for daily caps), counted on `volume_day(now, policy)`.
    `objective` overrides the policy's ranking objective for this decision (e.g. a conversion campaign).
    `levers`: marketing's run-time levers per product (else the policy's). `response`: learned response
    factors for this customer's segment (else the policy's fixed channel factors)."""
    permitted = frozenset(permissions)
    levers = levers or {}
    response = response or {}
    volume_today = volume_today or {}
    held_here = set(scores.held_products) | history.accepted
    held_elsewhere = set(scores.held_elsewhere)
    contacts_this_week = history.contacts_since(now - timedelta(days=7))
    cap = policy.contact.max_contacts_per_week
    quiet = _quiet_channels(scores.profile, now, policy) if mode == "outbound" else frozenset()
    capped = _capped_channels(history, now, policy) if mode == "outbound" else frozenset()
    channel, channel_rules, channel_failure = _choose_channel(scores.profile, permitted, quiet, capped, policy, mode)

    candidates: list[Offer] = []
    blocked: dict[str, list[str]] = {}
    for score in scores.scores:
        passed: list[str] = []
        failed: list[str] = []

        def check(rule: Rule, ok: bool, passed: list[str] = passed, failed: list[str] = failed) -> None:
            (passed if ok else failed).append(rule.value)

        product_policy = policy.products.get(score.product)
        if product_policy is None:
            blocked[score.product.value] = [Rule.IN_POLICY.value]
            continue
        check(Rule.HELD_HERE, score.product not in held_here)
        check(Rule.HELD_ELSEWHERE, score.product not in held_elsewhere)
        if product_policy.min_age_band or product_policy.max_age_band:
            check(
                Rule.AGE_BAND,
                _age_ok(scores.profile.get("age_band"), product_policy.min_age_band, product_policy.max_age_band),
            )
        if product_policy.credit:
            verdict = _credit_ok(scores.features, policy)
            if verdict is not None:  # None: no risk feature known, nothing to judge
                check(Rule.CREDIT_RISK, verdict)
        if channel is None:
            failed.append(channel_failure.value)
        else:
            passed.extend(r.value for r in channel_rules)
        if product_policy.daily_cap is not None:
            check(Rule.DAILY_VOLUME_CAP, volume_today.get(score.product, 0) < product_policy.daily_cap)
        if mode == "outbound":
            # Contact-frequency rules govern unsolicited contact, not a conversation the customer started.
            check(Rule.WEEKLY_CONTACT_CAP, contacts_this_week < cap)
            check(
                Rule.REPEAT_OFFER,
                not history.offered_since(score.product, now - timedelta(days=policy.contact.repeat_offer_days)),
            )
        declined_at = history.declines.get(score.product)
        check(
            Rule.DECLINE_COOLDOWN,
            declined_at is None or declined_at < now - timedelta(days=policy.contact.decline_cooldown_days),
        )
        expected_value, factor = 0.0, 1.0
        if channel is not None:
            factor = response.get((score.product, channel), policy.channels.response_factors[channel])
            expected_value = _expected_value(score, product_policy.value_brl, factor)
            check(Rule.MIN_EXPECTED_VALUE, expected_value >= policy.threshold(score.product))
        if failed:
            blocked[score.product.value] = failed
            continue
        assert channel is not None
        candidates.append(
            Offer(
                offer_id=offer_id_for(decision_id, score.product),
                product=score.product,
                channel=channel,
                propensity=score.propensity,
                expected_value=expected_value,
                reasons=tuple(score.reasons),
                rules_passed=tuple(passed),
                response_factor=factor,
            )
        )

    objective = objective or policy.objective
    rank = ranking_key(objective, policy)
    candidates = [
        replace(o, priority=round(rank(o) * levers.get(o.product, policy.lever(o.product)), 6)) for o in candidates
    ]
    candidates.sort(key=lambda o: (-o.priority, -o.expected_value, o.product.value))
    slots, limit = policy.max_offers_inbound, Rule.MAX_OFFERS
    if mode == "outbound":
        budget = max(0, cap - contacts_this_week)
        slots = min(policy.max_offers_per_decision, budget)
        # Name whichever limit actually cut the list: the weekly budget or the per-decision maximum.
        limit = Rule.WEEKLY_CONTACT_CAP if budget < policy.max_offers_per_decision else Rule.MAX_OFFERS
    for offer in candidates[slots:]:
        blocked[offer.product.value] = [limit.value]
    return Decision(
        decision_id=decision_id,
        model_version=scores.model_version,
        decided_at=now,
        mode=mode,
        offers=tuple(candidates[:slots]),
        blocked=dict(sorted(blocked.items())),
        objective=objective,
        segment=scores.profile.get("digital_archetype"),
        candidates=tuple(candidates),
    )


def ranking_key(objective: Objective, policy: Policy) -> Callable[[Offer], float]:
    """The quantity an objective maximises, per offer, before the business lever (higher ranks first)."""
    if objective == "conversion":
        return lambda o: o.propensity * o.response_factor
    return lambda o: o.expected_value


def with_reservation(decision: Decision, verdicts: Mapping[ProductCode, Rule | None]) -> Decision:
    """The decision once volume has been reserved: `verdicts[product]` is None for an offer that got its
    reservation, else the rule that refused it. Offers follow priority order among the reserved."""
    offers = tuple(o for o in decision.candidates if o.product in verdicts and verdicts[o.product] is None)
    blocked = {k: v for k, v in decision.blocked.items() if k not in {o.product.value for o in decision.candidates}}
    for offer in decision.candidates:
        rule = verdicts.get(offer.product, Rule.MAX_OFFERS)
        if rule is Rule.MAX_OFFERS and offer.product.value in decision.blocked:
            blocked[offer.product.value] = decision.blocked[offer.product.value]  # decide() named the limit
        elif rule is not None:
            blocked[offer.product.value] = [rule.value]
    return replace(decision, offers=offers, blocked=dict(sorted(blocked.items())))


def _expected_value(score: ProductScore, value_brl: float, factor: float) -> float:
    return round(score.propensity * value_brl * factor, 4)


def volume_day(now: datetime, policy: Policy) -> str:
    """The calendar day (YYYYMMDD, in the policy's volume time zone) that daily caps count on."""
    return now.astimezone(ZoneInfo(policy.volume_timezone)).strftime("%Y%m%d")


def volume_week(now: datetime, policy: Policy) -> str:
    """The ISO week (YYYYWww, in the policy's volume time zone) that weekly constraints count on."""
    year, week, _ = now.astimezone(ZoneInfo(policy.volume_timezone)).isocalendar()
    return f"{year}W{week:02d}"


def quiet_channels(profile: dict[str, str], now: datetime, policy: Policy) -> frozenset[Channel]:
    """The channels silenced at the customer's local time `now`."""
    return _quiet_channels(profile, now, policy)


def _quiet_channels(profile: dict[str, str], now: datetime, policy: Policy) -> frozenset[Channel]:
    quiet = policy.contact.quiet_hours
    if quiet is None:
        return frozenset()
    return frozenset(c for c in quiet.channels if quiet.silences(c, now, profile.get("timezone")))


def channel_for(
    profile: dict[str, str],
    permissions: Iterable[Channel],
    now: datetime,
    policy: Policy,
    mode: Mode = "outbound",
    history: ContactHistory | None = None,
) -> Channel | None:
    """The channel decide() contacts this customer on (it does not depend on the product); None: none usable."""
    quiet = _quiet_channels(profile, now, policy) if mode == "outbound" else frozenset()
    capped = _capped_channels(history or ContactHistory(), now, policy) if mode == "outbound" else frozenset()
    return _choose_channel(profile, frozenset(permissions), quiet, capped, policy, mode)[0]


def _capped_channels(history: ContactHistory, now: datetime, policy: Policy) -> frozenset[Channel]:
    week = now - timedelta(days=7)
    return frozenset(
        channel
        for channel, cap in policy.contact.max_contacts_per_week_by_channel.items()
        if history.contacts_since(week, channel) >= cap
    )


def _pick(profile: dict[str, str], usable: frozenset[Channel], policy: Policy) -> Channel | None:
    channels = policy.channels
    # The customer's own stated preference comes first when it is usable.
    preferred = next((c for c in Channel if c.value == profile.get("preferred_channel")), None)
    if preferred is not None and preferred in usable and preferred in channels.response_factors:
        return preferred
    archetype = profile.get("digital_archetype")
    if archetype not in ARCHETYPES:
        archetype = channels.default_archetype
    for channel in channels.by_archetype[archetype]:
        if channel in usable:
            return channel
    if channels.fallback_to_permitted:
        rest = [c for c in usable if c in channels.response_factors]
        if rest:
            return max(rest, key=lambda c: (channels.response_factors[c], c.value))
    return None


def _choose_channel(
    profile: dict[str, str],
    permitted: frozenset[Channel],
    quiet: frozenset[Channel],
    capped: frozenset[Channel],
    policy: Policy,
    mode: Mode,
) -> tuple[Channel | None, tuple[Rule, ...], Rule]:
    """(channel, rules it passed, the rule that failed when there is none)."""
    outbound = mode == "outbound"
    passed = (
        (Rule.MARKETING_PERMISSION,)
        + ((Rule.QUIET_HOURS,) if policy.contact.quiet_hours and outbound else ())
        + ((Rule.CHANNEL_WEEKLY_CAP,) if policy.contact.max_contacts_per_week_by_channel and outbound else ())
    )
    channel = _pick(profile, permitted - quiet - capped, policy)
    if channel is not None:
        return channel, passed, Rule.MARKETING_PERMISSION
    if mode == "inbound":
        return policy.channels.inbound_channel, (Rule.INBOUND_CONVERSATION,), Rule.MARKETING_PERMISSION
    if _pick(profile, permitted, policy) is None:
        return None, (), Rule.MARKETING_PERMISSION
    # A permitted channel exists: name what stands in its way now.
    if _pick(profile, permitted - capped, policy) is None:
        return None, (), Rule.CHANNEL_WEEKLY_CAP
    return None, (), Rule.QUIET_HOURS


def _age_ok(age_band: str | None, low: str | None, high: str | None) -> bool:
    if age_band not in AGE_BANDS:
        return False  # unknown age: never offer an age-restricted product
    index = AGE_BANDS.index(age_band)
    return (low is None or index >= AGE_BANDS.index(low)) and (high is None or index <= AGE_BANDS.index(high))


def _credit_ok(features: dict[str, float], policy: Policy) -> bool | None:
    judged = [limit.allows(features[limit.feature]) for limit in policy.credit_risk.limits if limit.feature in features]
    return all(judged) if judged else None
