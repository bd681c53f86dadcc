"""The campaign form (no JSON for the marketer) → the campaigns API's definition, and back for its listing.

Target rules are rows of field / condition / value; the sequence is up to three steps, each a channel and the
days to wait (without a click) before the next one."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from pydantic import BaseModel

MAX_RULES = 3
MAX_STEPS = 3
OPS = ("gte", "lte", "eq", "ne", "gt", "lt")
# What a rule can look at: a segment of the profile, a propensity score, or a feature.
RULE_FIELDS = (
    "segment.digital_archetype",
    "segment.age_band",
    "scores.credit_card",
    "scores.savings",
    "scores.investment_fund",
    "scores.personal_loan",
    "features.products_here",
    "features.balance_avg_30d",
    "features.salary_monthly_avg_90d",
)


class FormError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class CampaignRow(BaseModel):
    campaign_id: str
    name: str
    product: str
    status: str
    paused: bool
    enrolled: int
    budget_left: int
    control_share: str


def _date(value: str, field: str, *, end: bool) -> str:
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise FormError(field, "a date (YYYY-MM-DD)") from None
    return datetime.combine(day, time.max if end else time.min, tzinfo=UTC).isoformat()


def _value(raw: str) -> float | str:
    try:
        return float(raw.replace(",", "."))
    except ValueError:
        return raw.strip()


def definition(form: dict[str, list[str]]) -> dict[str, Any]:
    """A CampaignCreate body from the submitted fields (the campaigns API validates the rest)."""

    def one(name: str, default: str = "") -> str:
        return (form.get(name) or [default])[0].strip()

    channels = [c for c in form.get("channels", []) if c]
    if not channels:
        raise FormError("channels", "choose at least one channel")
    rules = []
    for i in range(1, MAX_RULES + 1):
        field, op, value = one(f"rule{i}_field"), one(f"rule{i}_op"), one(f"rule{i}_value")
        if field and value:
            if field not in RULE_FIELDS or op not in OPS:
                raise FormError(f"rule{i}_field", "unknown field or condition")
            rules.append({"field": field, "op": op, "value": _value(value)})
    picked = [(one(f"step{i}_channel"), one(f"step{i}_wait", "0")) for i in range(1, MAX_STEPS + 1)]
    picked = [(c, w) for c, w in picked if c]
    if not picked:
        raise FormError("step1_channel", "the sequence needs a first step")
    steps: list[dict[str, Any]] = []
    for n, (channel, wait) in enumerate(picked):
        step: dict[str, Any] = {"id": f"s{n + 1}_{channel}", "channel": channel}
        if channel not in channels:
            raise FormError(f"step{n + 1}_channel", "a step's channel must be one of the campaign's channels")
        if n + 1 < len(picked):
            nxt = f"s{n + 2}_{picked[n + 1][0]}"
            try:
                days = float(wait.replace(",", "."))
            except ValueError:
                raise FormError(f"step{n + 1}_wait", "a number of days") from None
            if days <= 0:
                raise FormError(f"step{n + 1}_wait", "more than zero days")
            step["timeout"] = {"after_days": days, "unless": ["clicked"], "goto": nxt}
        steps.append(step)
    try:
        budget = int(one("budget"))
        holdout = float(one("holdout", "0").replace(",", ".")) / 100
    except ValueError:
        raise FormError("budget", "whole numbers for the budget, a percentage for the holdout") from None
    return {
        "campaign_id": one("campaign_id"),
        "name": one("name"),
        "product": one("product"),
        "channels": channels,
        "starts_at": _date(one("starts"), "starts", end=False),
        "ends_at": _date(one("ends"), "ends", end=True),
        "budget": budget,
        "control_share": holdout,
        "target": {"all": rules},
        "sequence": {"steps": steps},
    }


def rows(body: dict[str, Any]) -> list[CampaignRow]:
    return [
        CampaignRow(
            campaign_id=c["campaign_id"],
            name=c["name"],
            product=c["product"],
            status="paused" if c.get("paused") else ("active" if c.get("active") else "scheduled"),
            paused=bool(c.get("paused")),
            enrolled=int(c.get("enrolled", 0)),
            budget_left=int(c.get("budget_left", 0)),
            control_share=f"{float(c.get('control_share', 0)) * 100:.0f} %",
        )
        for c in body.get("campaigns", [])
    ]
