"""Field-level visibility, declared once: for every customer-facing response, which fields each role
sees. Responses are filtered through this table and a test walks every route × role against it.

A path names a field and everything under it (`recommendations.reasons` = each offer's reasons); list
items share their list's path. A role missing from a resource's entry sees nothing of it, and a field
not listed is hidden: new upstream fields stay invisible until someone decides who may see them.

- advisor, branch manager: offers and their reasons, holdings, banded balances; not the raw feature
  vector (transactions' aggregates, exact balances) and never documents.
- crm: the offers to act on, without the model's internals (propensity, expected value, rules).
- marketing, analyst: aggregates only (KPIs, campaigns, experiments); the one customer-level read is the list
  behind a dashboard bar, pseudonymous (customer keys and counts, nothing else), audited per page.
- admin, DPO: everything (and every read is audited).
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from typing import Any, Final

from gateway.domain.roles import Role

EVERYTHING: Final = frozenset({"*"})


class Resource(StrEnum):
    RECOMMENDATIONS = "recommendations"
    FEATURES = "features"
    DATA_EXPORT = "data_export"
    KPIS = "kpis"
    AUDIT = "audit"
    # The console's screens (api/portfolio.py, api/customer360.py).
    PORTFOLIO = "portfolio"
    CUSTOMER_360 = "customer_360"
    KPI_DRILL = "kpi_drill"  # the customers behind a dashboard bar (api/kpis.py)


_OFFERS_AND_REASONS = frozenset(
    {
        "customer_key",
        "decision_id",
        "generated_at",
        "recommendations.rank",
        "recommendations.offer_id",
        "recommendations.product",
        "recommendations.channel",
        "recommendations.reasons",
    }
)
_ADVISOR_RECOMMENDATIONS = _OFFERS_AND_REASONS | {
    "model_version",
    "objective",
    "recommendations.propensity",
    "recommendations.expected_value",
    "recommendations.rules_passed",
    "blocked",
}
_ADVISOR_FEATURES = frozenset({"customer_key", "as_of", "held_products", "held_elsewhere", "balance_band"})

# An advisor's ranked list: whom to call, the best offer and its first reason; no model internals beyond the value.
_PORTFOLIO_LIST = frozenset(
    {
        "total",
        "page",
        "size",
        "generated_at",
        "items.customer_key",
        "items.segment",
        "items.product",
        "items.channel",
        "items.expected_value",
        "items.propensity",
        "items.reason",
        "items.offers",
    }
)
# The 360 for an advisor: holdings, a banded balance, ratios (never amounts) for trend and spend mix, the offers
# with their reasons and the rules that blocked others, channel permissions and contact history.
_ADVISOR_360 = frozenset(
    {
        "customer_key",
        "segment",
        "as_of",
        "held_products",
        "held_elsewhere",
        "balance_band",
        "trend",
        "spend_mix",
        "permissions",
        "contacts",
        "recommendations",
    }
)

# Behind a dashboard bar, for marketing: pseudonymous keys and their counts in the bar.
_KPI_DRILL = frozenset(
    {
        "dimension",
        "key",
        "total",
        "page",
        "size",
        "items.customer_key",
        "items.offers",
        "items.accepted",
        "items.last_offer_at",
    }
)

VISIBLE_FIELDS: Final[dict[Resource, dict[Role, frozenset[str]]]] = {
    Resource.RECOMMENDATIONS: {
        Role.ADVISOR: _ADVISOR_RECOMMENDATIONS,
        Role.BRANCH_MANAGER: _ADVISOR_RECOMMENDATIONS,
        Role.CRM: _OFFERS_AND_REASONS,
        Role.DPO: EVERYTHING,
        Role.ADMIN: EVERYTHING,
    },
    Resource.FEATURES: {
        Role.ADVISOR: _ADVISOR_FEATURES,
        Role.BRANCH_MANAGER: _ADVISOR_FEATURES,
        Role.DPO: EVERYTHING,
        Role.ADMIN: EVERYTHING,
    },
    Resource.DATA_EXPORT: {Role.DPO: EVERYTHING, Role.ADMIN: EVERYTHING},
    # Aggregates: no customer-level field exists in them.
    Resource.KPIS: {
        Role.MARKETING: EVERYTHING,
        Role.ANALYST: EVERYTHING,
        Role.BRANCH_MANAGER: EVERYTHING,
        Role.ADMIN: EVERYTHING,
    },
    Resource.AUDIT: {Role.DPO: EVERYTHING, Role.ADMIN: EVERYTHING},
    Resource.PORTFOLIO: {
        Role.ADVISOR: _PORTFOLIO_LIST,
        Role.BRANCH_MANAGER: _PORTFOLIO_LIST,
        Role.DPO: EVERYTHING,
        Role.ADMIN: EVERYTHING,
    },
    Resource.KPI_DRILL: {
        Role.MARKETING: _KPI_DRILL,
        Role.ANALYST: _KPI_DRILL,
        Role.DPO: EVERYTHING,
        Role.ADMIN: EVERYTHING,
    },
    Resource.CUSTOMER_360: {
        Role.ADVISOR: _ADVISOR_360,
        Role.BRANCH_MANAGER: _ADVISOR_360,
        Role.DPO: EVERYTHING,
        Role.ADMIN: EVERYTHING,
    },
}


def allowed_fields(resource: Resource, role: Role) -> frozenset[str]:
    return VISIBLE_FIELDS[resource].get(role, frozenset())


def is_visible(path: str, allowed: frozenset[str]) -> bool:
    """A field is visible when it, or a field above it, is listed."""
    if "*" in allowed:
        return True
    parts = path.split(".")
    return any(".".join(parts[:n]) in allowed for n in range(1, len(parts) + 1))


def visible(resource: Resource, role: Role, body: Any) -> Any:
    return _filter(body, allowed_fields(resource, role), "")


_HIDDEN, _VISIBLE, _DESCEND = 0, 1, 2


@lru_cache(maxsize=4096)
def _verdict(path: str, allowed: frozenset[str]) -> int:
    """What `_filter` does with the field at `path`. Cached: every answer of a route walks the same few paths,
    and the walk was an eighth of the gateway's own CPU on a recommendation read (bounded: upstream keys vary)."""
    if is_visible(path, allowed):
        return _VISIBLE
    return _DESCEND if any(a.startswith(path + ".") for a in allowed) else _HIDDEN


def _filter(value: Any, allowed: frozenset[str], prefix: str) -> Any:
    if "*" in allowed:
        return value
    if isinstance(value, list):
        return [_filter(item, allowed, prefix) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        path = f"{prefix}{key}"
        verdict = _verdict(path, allowed)
        if verdict == _VISIBLE:
            out[key] = item
        elif verdict == _DESCEND:
            out[key] = _filter(item, allowed, path + ".")
    return out


def leaf_paths(value: Any, prefix: str = "") -> set[str]:
    """Every field path in a JSON body (list items share their list's path): what the walk test checks."""
    if isinstance(value, list):
        return set().union(*(leaf_paths(item, prefix) for item in value)) if value else {prefix.rstrip(".")}
    if isinstance(value, dict) and value:
        return set().union(*(leaf_paths(item, f"{prefix}{key}.") for key, item in value.items()))
    return {prefix.rstrip(".")}


# Balances as advisors see them: bands, not amounts (BRL, the 30-day mean end-of-day balance).
_BALANCE_BANDS: Final = ((1_000, "under_1k"), (10_000, "1k_10k"), (50_000, "10k_50k"), (200_000, "50k_200k"))


def balance_band(amount: float | None) -> str | None:
    if amount is None:
        return None
    for upper, band in _BALANCE_BANDS:
        if amount < upper:
            return band
    return "200k_plus"
