"""Object-level authorisation: whose customers a principal may see (OWASP API1).

An advisor signed in as a person reads the customers of their portfolio, a branch manager those of
their branch; machine clients (CRM, cores) and bank-wide roles (admin, DPO) read the whole bank within
their scopes. A customer outside the principal's reach is answered exactly like one that does not
exist, so scope cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain.credentials import Principal, PrincipalKind
from gateway.domain.roles import Role

# The one answer for a customer that does not exist and for one outside the caller's scope.
NOT_FOUND = (404, "Customer not found", "no customer with this identifier")


@dataclass(frozen=True)
class CustomerScope:
    branch_id: str | None
    advisor_id: str | None


def is_scoped(principal: Principal) -> bool:
    """Whether the principal's reads are bounded by branch or portfolio (then a lookup is needed)."""
    return principal.kind is PrincipalKind.USER and principal.role in (Role.ADVISOR, Role.BRANCH_MANAGER)


def may_read(principal: Principal, scope: CustomerScope | None) -> bool:
    if not is_scoped(principal):
        return True
    if scope is None:
        return False
    if principal.role is Role.ADVISOR:
        return principal.portfolio_id is not None and scope.advisor_id == principal.portfolio_id
    return principal.branch_id is not None and scope.branch_id == principal.branch_id
