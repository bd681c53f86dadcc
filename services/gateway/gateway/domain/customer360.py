"""The customer 360 assembled from the feature vector, the offers and the contact history: pure shaping.

Ratios, not amounts, describe the trend and the spend mix (what an advisor may see, domain/visibility.py);
the amounts behind them sit under `amounts`, which only bank-wide roles see.
"""

from __future__ import annotations

from typing import Any

SPEND_PREFIX = "spend_"


def _categories(features: dict[str, float]) -> list[str]:
    monthly = (n for n in features if n.startswith(SPEND_PREFIX) and n.endswith("_30d"))
    return sorted({n[len(SPEND_PREFIX) : -len("_30d")] for n in monthly})


def spend_by_category(features: dict[str, float]) -> dict[str, dict[str, float]]:
    """Category → {last_30d, prior_monthly}: the last 30 days and the mean month of the 60 days before."""
    out: dict[str, dict[str, float]] = {}
    for cat in _categories(features):
        last = features.get(f"{SPEND_PREFIX}{cat}_30d", 0.0)
        quarter = features.get(f"{SPEND_PREFIX}{cat}_90d", last)
        out[cat] = {"last_30d": round(last, 2), "prior_monthly": round(max(quarter - last, 0.0) / 2, 2)}
    return out


def spend_mix(spend: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Each category's share of the period's spend (0..1), for the last 30 days and the months before."""
    totals = {period: sum(v[period] for v in spend.values()) for period in ("last_30d", "prior_monthly")}
    return {
        cat: {period: round(v[period] / totals[period], 4) if totals[period] else 0.0 for period in totals}
        for cat, v in spend.items()
    }


def trend(features: dict[str, float], spend: dict[str, dict[str, float]]) -> dict[str, float | None]:
    last = sum(v["last_30d"] for v in spend.values())
    prior = sum(v["prior_monthly"] for v in spend.values())
    return {
        "balance_growth_pct_90d": features.get("balance_growth_pct_90d"),
        "salary_raise_pct": features.get("salary_raise_pct"),
        "salary_detected": features.get("salary_detected"),
        "spend_change_pct": round((last / prior - 1) * 100, 1) if prior else None,
    }


def amounts(features: dict[str, float], spend: dict[str, dict[str, float]]) -> dict[str, Any]:
    names = ("balance_current", "balance_avg_30d", "balance_min_30d", "salary_monthly_avg_90d")
    return {**{n: features[n] for n in names if n in features}, "spend_by_category": spend}


def contacts(offers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Contact history, newest first: what was offered, how, when, what happened."""
    keep = ("offer_id", "product", "channel", "decided_at", "delivered_at", "status", "outcomes", "campaign_id")
    return [{k: o.get(k) for k in keep} for o in offers]
