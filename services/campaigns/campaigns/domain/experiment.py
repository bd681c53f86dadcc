"""A/B holdout: deterministic assignment and the lift of test over control.

Assignment hashes (campaign_id, customer_key), so a customer stays in the same group for the whole
campaign, on every replica, without storing anything. Lift uses the two-proportion z-test.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

Group = Literal["test", "control"]


def bucket(customer_key: str, campaign_id: str) -> float:
    """A uniform number in [0, 1) fixed for this customer within this campaign."""
    digest = hashlib.sha256(f"{campaign_id}\x1f{customer_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(customer_key: str, campaign_id: str, control_share: float) -> Group:
    if not 0 <= control_share < 1:
        raise ValueError(f"control_share must be in [0, 1), got {control_share}")
    return "control" if bucket(customer_key, campaign_id) < control_share else "test"


@dataclass(frozen=True)
class Lift:
    test_rate: float
    control_rate: float
    absolute: float  # test_rate - control_rate
    relative: float | None  # absolute / control_rate; None when control converts at 0
    ci_low: float  # confidence interval of `absolute`
    ci_high: float
    z: float
    p_value: float  # two-sided
    confidence: float


def two_proportion_ztest(
    conversions_test: int, n_test: int, conversions_control: int, n_control: int, confidence: float = 0.95
) -> Lift:
    """z and p-value use the pooled proportion (the null: equal rates); the interval of the difference
    uses the unpooled standard error (Wald)."""
    if n_test <= 0 or n_control <= 0:
        raise ValueError("both groups need at least one observation")
    if not (0 <= conversions_test <= n_test and 0 <= conversions_control <= n_control):
        raise ValueError("conversions must be between 0 and the group size")
    if not 0 < confidence < 1:
        raise ValueError("confidence must be in (0, 1)")
    p_t, p_c = conversions_test / n_test, conversions_control / n_control
    diff = p_t - p_c
    pooled = (conversions_test + conversions_control) / (n_test + n_control)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n_test + 1 / n_control))
    z = diff / se_pooled if se_pooled > 0 else 0.0
    p_value = math.erfc(abs(z) / math.sqrt(2))
    se = math.sqrt(p_t * (1 - p_t) / n_test + p_c * (1 - p_c) / n_control)
    margin = NormalDist().inv_cdf((1 + confidence) / 2) * se
    return Lift(
        test_rate=p_t,
        control_rate=p_c,
        absolute=diff,
        relative=diff / p_c if p_c > 0 else None,
        ci_low=diff - margin,
        ci_high=diff + margin,
        z=z,
        p_value=p_value,
        confidence=confidence,
    )
