"""Moments that matter: events that make now the right time to act, and the action each produces.

A trigger is detected from an event (a contract nearing maturity or renewal, a returned payment), from
the customer's features against their own baseline (activity falling), or from time since a purchase
(N days after an acquisition). Each moment has a key naming it once (`payment_returned:<txn>`): the
service claims the key in Redis before acting, so a redelivered event never produces a second action.

Pure: callers pass `at`, the policy and what is known about the customer.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from next_best_action.domain.policy import (
    ActivityDropTrigger,
    MaturityTrigger,
    Policy,
    PostAcquisitionTrigger,
    TriggerRule,
)
from prometeo.contracts import Channel, ProductCode
from prometeo.contracts.events import ActionKind, ContractMaturingV1, PaymentReturnedV1


class TriggerName(StrEnum):
    CONTRACT_MATURING = "contract_maturing"
    PAYMENT_RETURNED = "payment_returned"
    ACTIVITY_DROP = "activity_drop"
    POST_ACQUISITION = "post_acquisition"


@dataclass(frozen=True)
class Moment:
    trigger: TriggerName
    key: str  # names this moment once: the idempotency key
    at: datetime
    product: ProductCode | None = None  # the product the moment is about (maturing, acquired)
    detail: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Action:
    action_id: str
    moment: Moment
    kind: ActionKind
    action: str
    product: ProductCode | None
    channel: Channel


@dataclass(frozen=True)
class CustomerView:
    """What the service knows about the customer when a moment arrives."""

    customer_key: str
    permissions: frozenset[Channel] = frozenset()
    held: frozenset[ProductCode] = frozenset()
    quiet: frozenset[Channel] = frozenset()  # channels silenced at the customer's local time now
    last_fired: Mapping[TriggerName, datetime] = field(default_factory=dict)


def rule_for(policy: Policy, trigger: TriggerName) -> TriggerRule | None:
    rule: TriggerRule | None = getattr(policy.triggers, trigger.value)
    return rule if rule is not None and rule.enabled else None


def from_account_event(payload: object, at: datetime, policy: Policy) -> list[Moment]:
    if isinstance(payload, ContractMaturingV1):
        rule = rule_for(policy, TriggerName.CONTRACT_MATURING)
        days = (payload.matures_on - at.date()).days
        if isinstance(rule, MaturityTrigger) and 0 <= days <= rule.days_before:
            return [
                Moment(
                    TriggerName.CONTRACT_MATURING,
                    f"contract_maturing:{payload.account_id}:{payload.matures_on.isoformat()}",
                    at,
                    payload.product,
                    {"kind": payload.kind, "matures_on": payload.matures_on.isoformat(), "days_left": str(days)},
                )
            ]
    if isinstance(payload, PaymentReturnedV1) and rule_for(policy, TriggerName.PAYMENT_RETURNED):
        detail = {"amount": str(payload.amount), **({"reason": payload.reason} if payload.reason else {})}
        return [Moment(TriggerName.PAYMENT_RETURNED, f"payment_returned:{payload.transaction_id}", at, None, detail)]
    return []


def activity_drop(features: Mapping[str, float], at: datetime, policy: Policy) -> list[Moment]:
    """Fewer transactions in the last 30 days than `ratio` × the customer's monthly average of the 60
    days before. Keyed by month: one retention action per episode, not one per features update."""
    rule = rule_for(policy, TriggerName.ACTIVITY_DROP)
    recent, quarter = features.get("txn_count_30d"), features.get("txn_count_90d")
    if not isinstance(rule, ActivityDropTrigger) or recent is None or quarter is None:
        return []
    baseline = max(0.0, quarter - recent) / 2
    if baseline < rule.min_baseline or recent >= rule.ratio * baseline:
        return []
    detail = {"recent_30d": f"{recent:g}", "baseline_30d": f"{baseline:g}"}
    return [Moment(TriggerName.ACTIVITY_DROP, f"activity_drop:{at:%Y%m}", at, None, detail)]


def post_acquisition(acquired: Mapping[ProductCode, date], at: datetime, policy: Policy) -> list[Moment]:
    """`days_after` an acquisition (within `window_days`, since moments are checked when events arrive)."""
    rule = rule_for(policy, TriggerName.POST_ACQUISITION)
    if not isinstance(rule, PostAcquisitionTrigger):
        return []
    moments = []
    for product, since in sorted(acquired.items()):
        elapsed = (at.date() - since).days
        if rule.days_after <= elapsed < rule.days_after + rule.window_days:
            key = f"post_acquisition:{product.value}:{since.isoformat()}"
            detail = {"acquired": product.value, "since": since.isoformat()}
            moments.append(Moment(TriggerName.POST_ACQUISITION, key, at, product, detail))
    return moments


def action_for(moment: Moment, policy: Policy, customer: CustomerView) -> Action | str:
    """The action the moment produces, or why it produces none (a rule name)."""
    rule = rule_for(policy, moment.trigger)
    if rule is None:
        return "trigger_disabled"
    last = customer.last_fired.get(moment.trigger)
    if last is not None and last > moment.at - timedelta(days=rule.cooldown_days):
        return "trigger_cooldown"
    product: ProductCode | None = None
    if rule.kind is ActionKind.OFFER:
        product = ProductCode(rule.action)
        if isinstance(rule, PostAcquisitionTrigger) and moment.product in rule.follow_ups:
            product = rule.follow_ups[moment.product]
        if product in customer.held:
            return "held_here"
    usable = [c for c in rule.channels if not (rule.respect_quiet_hours and c in customer.quiet)]
    if rule.needs_marketing_permission:
        usable = [c for c in usable if c in customer.permissions]
    if not usable:
        return "marketing_permission" if rule.needs_marketing_permission else "quiet_hours"
    return Action(
        action_id=action_id_for(moment.key, customer.customer_key),
        moment=moment,
        kind=rule.kind,
        action=product.value if product else rule.action,
        product=product,
        channel=usable[0],
    )


def action_id_for(trigger_key: str, customer_key: str) -> str:
    return "ac_" + uuid.uuid5(uuid.NAMESPACE_URL, f"prometeo:trigger:{customer_key}:{trigger_key}").hex


def moments_from_scores(
    features: Mapping[str, float], acquired: Mapping[ProductCode, date], at: datetime, policy: Policy
) -> list[Moment]:
    return activity_drop(features, at, policy) + post_acquisition(acquired, at, policy)
