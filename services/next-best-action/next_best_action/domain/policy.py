"""The decision policy as data: pydantic models that validate the YAML at load with readable errors.

Everything a business owner tunes (product margins, channel response, contact limits, credit rules)
lives in the YAML; the decision code only interprets it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from prometeo.contracts import Channel, Objective, ProductCode
from prometeo.contracts.events import ActionKind
from prometeo.quiet_hours import QuietHours, check_timezone

AgeBand = Literal["18-24", "25-34", "35-44", "45-54", "55-64", "65+"]
AGE_BANDS: tuple[AgeBand, ...] = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
Archetype = Literal["nascent", "experimenting", "emerging", "activated"]
ARCHETYPES: tuple[Archetype, ...] = ("nascent", "experimenting", "emerging", "activated")


class PolicyError(ValueError):
    """The policy file cannot be used; the message lists every problem with its location."""


class _Strict(BaseModel):
    # Typos in a policy must fail loudly rather than silently fall back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProductPolicy(_Strict):
    value_brl: float = Field(gt=0, description="Expected margin of one sale, in BRL")
    credit: bool = False
    min_age_band: AgeBand | None = None
    max_age_band: AgeBand | None = None
    # Overrides the policy-wide no-action threshold for this product.
    min_expected_value_brl: float | None = Field(default=None, ge=0)
    # Offers of this product per day across all customers (budget, advisor capacity); none = unlimited.
    daily_cap: int | None = Field(default=None, ge=0)
    # Marketing's business lever: multiplies the product's priority (1 = neutral). The value here is the
    # default; PUT /v1/levers/{product} overrides it at run time (audited on audit.v1).
    lever: float = Field(default=1.0, gt=0, le=10)

    @model_validator(mode="after")
    def _band_order(self) -> ProductPolicy:
        if (
            self.min_age_band
            and self.max_age_band
            and (AGE_BANDS.index(self.min_age_band) > AGE_BANDS.index(self.max_age_band))
        ):
            raise ValueError(f"min_age_band {self.min_age_band} is above max_age_band {self.max_age_band}")
        return self


class ChannelPolicy(_Strict):
    response_factors: dict[Channel, float]
    by_archetype: dict[Archetype, list[Channel]]
    default_archetype: Archetype = "experimenting"
    # With none of the archetype's channels permitted, try any other permitted channel (best factor first).
    fallback_to_permitted: bool = True
    # The channel of a customer-initiated conversation (real-time API) when no outbound channel is permitted.
    inbound_channel: Channel = Channel.ADVISOR

    @model_validator(mode="after")
    def _coherent(self) -> ChannelPolicy:
        for channel, factor in self.response_factors.items():
            if not 0 < factor <= 5:
                raise ValueError(f"response factor of {channel} must be in (0, 5], got {factor}")
        missing_archetypes = [a for a in ARCHETYPES if a not in self.by_archetype]
        if missing_archetypes:
            raise ValueError(f"by_archetype lacks archetype(s): {', '.join(missing_archetypes)}")
        for archetype, channels in self.by_archetype.items():
            if not channels:
                raise ValueError(f"by_archetype.{archetype} names no channel")
            unknown = [c.value for c in channels if c not in self.response_factors]
            if unknown:
                raise ValueError(
                    f"by_archetype.{archetype} uses channel(s) without a response factor: {', '.join(unknown)}"
                )
        if self.inbound_channel not in self.response_factors:
            raise ValueError(f"inbound_channel {self.inbound_channel} has no response factor")
        return self


class ContactPolicy(_Strict):
    max_contacts_per_week: int = Field(ge=0)
    # Per channel, on top of the overall cap (e.g. at most one SMS a week); a channel at its cap is
    # passed over for the customer's next usable channel.
    max_contacts_per_week_by_channel: dict[Channel, int] = {}
    decline_cooldown_days: int = Field(ge=0)
    repeat_offer_days: int = Field(ge=0)
    # `quiet_hours: null`, an empty value or "" turns them off.
    quiet_hours: QuietHours | None = None

    @field_validator("quiet_hours", mode="before")
    @classmethod
    def _empty_is_off(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


Period = Literal["day", "week"]


class VolumeConstraint(_Strict):
    """At most `max` offers per `period`, across all customers, of `product` on `channel` (either may be
    omitted: all products, all channels). Reserved atomically in Redis, so concurrent decisions never
    overshoot."""

    product: ProductCode | None = None
    channel: Channel | None = None
    period: Period
    max: int = Field(ge=0)


class LearningPolicy(_Strict):
    """Response estimates learned from outcomes, per product × channel × segment (Beta posteriors).

    The YAML channel factor is the prior: its mean is `factor × prior_scale` (a response rate in (0, 1))
    held with the weight of `prior_strength` propensity-weighted contacts; the learned rate divided by
    `prior_scale` replaces the factor in the priority, so thresholds keep their meaning. Each product ×
    channel cell's prior is its channel's pooled posterior in the segment (domain/learning.py)."""

    enabled: bool = False
    prior_strength: float = Field(default=10.0, gt=0)
    prior_scale: float = Field(default=0.6, gt=0, le=1)
    # Share of decisions (by decision id hash) ranked on a Thompson draw instead of the posterior mean:
    # the exploration that keeps estimates honest, bounded so most traffic gets the best estimate.
    exploration_share: float = Field(default=0.1, ge=0, le=1)


class TriggerRule(_Strict):
    """What a moment that matters produces, and its own contact policy."""

    enabled: bool = True
    kind: ActionKind
    action: str = Field(min_length=1, description="product code for offers, else the action's name")
    channels: list[Channel] = Field(min_length=1, description="preference order")
    # Offers need marketing permission; a service message about the customer's own contract does not.
    needs_marketing_permission: bool = True
    # At most one action of this trigger per customer in this many days, whatever its key.
    cooldown_days: int = Field(default=30, ge=0)
    respect_quiet_hours: bool = True

    @model_validator(mode="after")
    def _offer_names_a_product(self) -> TriggerRule:
        if self.kind is ActionKind.OFFER and self.action not in {p.value for p in ProductCode}:
            raise ValueError(f"an offer action must name a product, got {self.action!r}")
        return self


class MaturityTrigger(TriggerRule):
    days_before: int = Field(default=30, ge=0)


class ActivityDropTrigger(TriggerRule):
    # Transactions in the last 30 days below `ratio` × the customer's own monthly baseline (the 60
    # days before), once the baseline has at least `min_baseline` transactions a month.
    ratio: float = Field(default=0.5, gt=0, lt=1)
    min_baseline: float = Field(default=10, ge=1)


class PostAcquisitionTrigger(TriggerRule):
    days_after: int = Field(default=7, ge=0)
    window_days: int = Field(default=7, ge=1)
    # The product acquired → the follow-up to offer (an offer action's `action` is the default).
    follow_ups: dict[ProductCode, ProductCode] = {}


class TriggersPolicy(_Strict):
    contract_maturing: MaturityTrigger | None = None
    payment_returned: TriggerRule | None = None
    activity_drop: ActivityDropTrigger | None = None
    post_acquisition: PostAcquisitionTrigger | None = None


class FeatureLimit(_Strict):
    """A credit-risk bound on one feature; applied only when the scores event carries the feature."""

    feature: str = Field(min_length=1)
    max: float | None = None
    min: float | None = None

    @model_validator(mode="after")
    def _has_bound(self) -> FeatureLimit:
        if self.max is None and self.min is None:
            raise ValueError(f"limit on {self.feature!r} needs max or min")
        return self

    def allows(self, value: float) -> bool:
        return (self.max is None or value <= self.max) and (self.min is None or value >= self.min)


class CreditRiskPolicy(_Strict):
    limits: list[FeatureLimit] = []


class Policy(_Strict):
    version: str = Field(min_length=1)
    currency: Literal["BRL"] = "BRL"
    min_expected_value_brl: float = Field(ge=0, description="Below this everywhere: no action")
    max_offers_per_decision: int = Field(default=1, ge=1, le=10)
    max_offers_inbound: int = Field(default=3, ge=1, le=10)
    # The ranking objective (prometeo.contracts.Objective); the no-action threshold is on expected value either way.
    objective: Objective = "expected_value"
    products: dict[ProductCode, ProductPolicy] = Field(min_length=1)
    channels: ChannelPolicy
    contact: ContactPolicy
    credit_risk: CreditRiskPolicy = CreditRiskPolicy()
    # The day over which products' daily caps are counted.
    volume_timezone: str = "America/Sao_Paulo"
    volume_constraints: list[VolumeConstraint] = []
    # No product above this share of a campaign's contacts (the stream: of the week's outbound offers,
    # once `share_floor` of that product have been made, so the first offers of a week are not refused).
    max_product_share: float | None = Field(default=None, gt=0, le=1)
    share_floor: int = Field(default=20, ge=0)
    learning: LearningPolicy = LearningPolicy()
    triggers: TriggersPolicy = TriggersPolicy()

    @field_validator("volume_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_timezone(value)

    def lever(self, product: ProductCode) -> float:
        return self.products[product].lever

    def threshold(self, product: ProductCode) -> float:
        own = self.products[product].min_expected_value_brl
        return self.min_expected_value_brl if own is None else own


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        lines = [f"{source}: policy invalid ({exc.error_count()} error(s)):"]
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "<root>"
            lines.append(f"  - {where}: {err['msg']}")
        raise PolicyError("\n".join(lines)) from None


def load_policy(path: Path) -> Policy:
    """Pure apart from reading the one file it is given."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read policy: {exc.strerror}") from exc
    return parse_policy(text, str(path))
