"""Campaign definitions as data: who (a target filter over features, scores and segments), what
(product), how (channels and a multi-step sequence), when (dates) and how many (volume budget).

Pure: validation and matching only. `matches()` reads the same fields a scores.v1 event carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from prometeo.contracts import Channel, ProductCode
from prometeo.contracts.events import OutcomeKind
from prometeo.privacy.sensitive import is_sensitive_name, sensitive_terms_in

STOP = "stop"  # a goto target that ends the sequence


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Op = Literal["gt", "gte", "lt", "lte", "eq", "ne", "in", "not_in"]
Scalar = float | str


class Condition(_Strict):
    """`field` is `features.<name>`, `scores.<product>` (propensity) or `segment.<profile field>`
    (digital_archetype, age_band…). A field the customer lacks never matches."""

    field: str = Field(pattern=r"^(features|scores|segment)\.[A-Za-z0-9_]+$")
    op: Op
    value: Scalar | list[Scalar]

    @model_validator(mode="after")
    def _shape(self) -> Condition:
        # Sensitive categories (health, religion, politics, unions) never make an audience rule.
        values = self.value if isinstance(self.value, list) else [self.value]
        if is_sensitive_name(self.field) or any(isinstance(v, str) and sensitive_terms_in(v) for v in values):
            raise ValueError(f"{self.field}: audience rules may not use a sensitive category")
        if (self.op in ("in", "not_in")) != isinstance(self.value, list):
            raise ValueError(f"op {self.op} needs {'a list' if self.op in ('in', 'not_in') else 'a single value'}")
        return self

    def holds(self, features: dict[str, float], scores: dict[str, float], segments: dict[str, str]) -> bool:
        source, _, name = self.field.partition(".")
        sources: dict[str, Mapping[str, Scalar]] = {"features": features, "scores": scores, "segment": segments}
        values = sources[source]
        if name not in values:
            return False
        actual = values[name]
        if isinstance(self.value, list):  # the validator pairs a list with `in` / `not_in` and only with them
            return (actual in self.value) == (self.op == "in")
        if self.op == "eq":
            return actual == self.value
        if self.op == "ne":
            return actual != self.value
        if isinstance(actual, str) or isinstance(self.value, str):
            return False  # ordering applies to numbers only
        return {
            "gt": actual > self.value,
            "gte": actual >= self.value,
            "lt": actual < self.value,
            "lte": actual <= self.value,
        }[self.op]


class Target(_Strict):
    all: list[Condition] = []  # every condition must hold (an empty target matches everyone)


class Timeout(_Strict):
    after_days: float = Field(gt=0)
    # The wait ends quietly if any of these outcomes was seen in the step ("if not opened in 3 days").
    unless: list[OutcomeKind] = []
    goto: str


class Step(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]{1,32}$")
    action: Literal["send", "crm_task"] = "send"
    channel: Channel | None = None  # send: the channel; crm_task: ignored (the CRM webhook)
    task: str = "advisor_follow_up"  # crm_task: what the advisor is asked to do
    on: dict[OutcomeKind, str] = {}  # outcome seen during the step → next step id (or "stop")
    timeout: Timeout | None = None


class Sequence(_Strict):
    steps: list[Step] = Field(min_length=1, max_length=20)
    stop_on: list[OutcomeKind] = [OutcomeKind.ACCEPTED, OutcomeKind.DECLINED]

    @model_validator(mode="after")
    def _coherent(self) -> Sequence:
        ids = [s.id for s in self.steps]
        if len(set(ids)) != len(ids):
            raise ValueError("step ids must be unique")
        for step in self.steps:
            if step.action == "send" and step.channel is None:
                raise ValueError(f"step {step.id}: a send step needs a channel")
            targets = [*step.on.values(), *([step.timeout.goto] if step.timeout else [])]
            unknown = [t for t in targets if t != STOP and t not in ids]
            if unknown:
                raise ValueError(f"step {step.id}: unknown goto target(s) {unknown}")
        return self

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)


def default_sequence() -> Sequence:
    """E-mail; not opened in 3 days → SMS; clicked (either) → advisor task in the CRM; accepted/declined stop."""
    return Sequence(
        steps=[
            Step(
                id="email",
                channel=Channel.EMAIL,
                on={OutcomeKind.CLICKED: "advisor"},
                timeout=Timeout(after_days=3, unless=[OutcomeKind.OPENED, OutcomeKind.CLICKED], goto="sms"),
            ),
            Step(id="sms", channel=Channel.SMS, on={OutcomeKind.CLICKED: "advisor"}),
            Step(id="advisor", action="crm_task"),
        ]
    )


class CampaignDefinition(_Strict):
    campaign_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{2,63}$")
    name: str = Field(min_length=1, max_length=200)
    product: ProductCode
    target: Target = Target()
    channels: list[Channel] = [Channel.EMAIL, Channel.SMS]
    starts_at: datetime
    ends_at: datetime
    budget: int = Field(ge=1, description="At most this many customers enter the campaign (control included)")
    # A/B holdout: this share of the entering customers (hashed with the campaign id) is sent nothing.
    control_share: float = Field(default=0.0, ge=0, lt=1)
    sequence: Sequence = Field(default_factory=default_sequence)

    @model_validator(mode="after")
    def _coherent(self) -> CampaignDefinition:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("starts_at and ends_at need a time zone")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        outside = [s.id for s in self.sequence.steps if s.action == "send" and s.channel not in self.channels]
        if outside:
            raise ValueError(f"step(s) {outside} send on a channel not in the campaign's channels")
        return self

    def is_active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


def matches(
    campaign: CampaignDefinition,
    features: dict[str, float],
    scores: dict[str, float],
    segments: dict[str, str],
    held: set[str],
) -> bool:
    """The customer is in the target and does not already hold the product (here or elsewhere)."""
    if campaign.product.value in held:
        return False
    return all(c.holds(features, scores, segments) for c in campaign.target.all)
