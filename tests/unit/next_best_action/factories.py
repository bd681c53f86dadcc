"""Valid inputs for decide(), overridable field by field."""

from __future__ import annotations

from datetime import UTC, datetime

from next_best_action.domain.policy import Policy, load_policy
from next_best_action.settings import DEFAULT_POLICY
from prometeo.contracts import ProductCode
from prometeo.contracts.events import ProductScore, ReasonCode, ScoresComputedV1

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)


def default_policy() -> Policy:
    return load_policy(DEFAULT_POLICY)


def reason(code: str = "salary_inflow") -> ReasonCode:
    return ReasonCode(code=code, text_en="Regular salary credits", text_es="Créditos de salario regulares", weight=0.4)


def scores(
    propensities: dict[ProductCode, float] | None = None,
    *,
    held_products: list[ProductCode] | None = None,
    held_elsewhere: list[ProductCode] | None = None,
    profile: dict[str, str] | None = None,
    features: dict[str, float] | None = None,
) -> ScoresComputedV1:
    propensities = (
        propensities
        if propensities is not None
        else {
            ProductCode.CREDIT_CARD: 0.6,
            ProductCode.SAVINGS: 0.5,
            ProductCode.AUTO_INSURANCE: 0.2,
        }
    )
    return ScoresComputedV1(
        model_name="prometeo-propensity",
        model_version="7",
        feature_set_version="customer-features.v1",
        scores=[ProductScore(product=p, propensity=v, reasons=[reason()]) for p, v in propensities.items()],
        held_products=held_products or [],
        held_elsewhere=held_elsewhere or [],
        profile=profile if profile is not None else {"digital_archetype": "activated", "age_band": "35-44"},
        features=features or {},
    )
