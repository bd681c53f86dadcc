"""Who may do what. The one table every route consults; admin may do everything."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Role(StrEnum):
    ADMIN = "admin"
    ADVISOR = "advisor"
    CRM = "crm"
    MARKETING = "marketing"
    # Bank cores and Open Finance aggregators pushing consents and account events.
    INGEST = "ingest"
    # People of the bank with narrower duties (named users signed in through OIDC).
    BRANCH_MANAGER = "branch_manager"
    ANALYST = "analyst"
    # Data-protection officer: data-subject requests and the audit trail, every field, every read audited.
    DPO = "dpo"


class Permission(StrEnum):
    READ_RECOMMENDATIONS = "recommendations:read"
    WRITE_OUTCOMES = "outcomes:write"
    READ_FEATURES = "features:read"
    READ_KPIS = "kpis:read"
    WRITE_INGEST = "ingest:write"
    MANAGE_CAMPAIGNS = "campaigns:manage"
    # Data-subject requests (LGPD art. 18): export or erase everything held about one person.
    DATA_SUBJECT_REQUESTS = "data-subject:requests"
    READ_AUDIT = "audit:read"
    # Register and disable OAuth2 clients; lift insider-threat blocks.
    MANAGE_ACCESS = "access:manage"


ROLE_PERMISSIONS: Final[dict[Role, frozenset[Permission]]] = {
    Role.ADMIN: frozenset(Permission),
    Role.ADVISOR: frozenset({Permission.READ_RECOMMENDATIONS, Permission.WRITE_OUTCOMES, Permission.READ_FEATURES}),
    # CRM systems act on recommendations but never see the raw feature vector.
    Role.CRM: frozenset({Permission.READ_RECOMMENDATIONS, Permission.WRITE_OUTCOMES}),
    # Marketing sees aggregates only, never one customer's data.
    Role.MARKETING: frozenset({Permission.READ_KPIS, Permission.MANAGE_CAMPAIGNS}),
    Role.INGEST: frozenset({Permission.WRITE_INGEST}),
    # An advisor's reads over the whole branch, plus the branch's KPIs.
    Role.BRANCH_MANAGER: frozenset(
        {Permission.READ_RECOMMENDATIONS, Permission.WRITE_OUTCOMES, Permission.READ_FEATURES, Permission.READ_KPIS}
    ),
    Role.ANALYST: frozenset({Permission.READ_KPIS}),
    Role.DPO: frozenset(
        {
            Permission.READ_RECOMMENDATIONS,
            Permission.READ_FEATURES,
            Permission.DATA_SUBJECT_REQUESTS,
            Permission.READ_AUDIT,
        }
    ),
}


def is_allowed(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(role, frozenset())


def roles_with(permission: Permission) -> list[Role]:
    """For documentation and 403 details: which roles hold a permission."""
    return [role for role in Role if is_allowed(role, permission)]
