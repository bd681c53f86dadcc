"""Typed route dependencies: a route's signature says what it uses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import redis
from fastapi import Depends, Header, Request

from gateway.audit import AuditTrail
from gateway.domain.audit import DEFAULT_PURPOSE, ReadPurpose
from gateway.domain.credentials import Principal, PrincipalKind
from gateway.domain.identifiers import InvalidCustomerId, to_customer_key
from gateway.domain.roles import Permission
from gateway.domain.scope import NOT_FOUND, is_scoped, may_read
from gateway.guard import InsiderGuard, enforce
from gateway.scopes import ScopeReader
from gateway.security import authenticate, require
from gateway.settings import Settings, get_settings
from gateway.upstream import Upstreams
from prometeo.web import Problem


async def settings_dep() -> Settings:
    """The settings as a dependency. FastAPI runs a plain `def` dependency in the threadpool, one hop per
    dependency per request (12 % of the gateway's CPU in the request-path profile); these only read memory."""
    return get_settings()


SettingsDep = Annotated[Settings, Depends(settings_dep)]


async def _upstreams(request: Request) -> Upstreams:
    return request.app.state.upstreams


async def _audit(request: Request) -> AuditTrail:
    return request.app.state.audit


def customer_not_found() -> Problem:
    """The one answer for a customer that does not exist and for one outside the caller's scope."""
    return Problem(*NOT_FOUND)


async def _scopes(request: Request) -> ScopeReader:
    return request.app.state.scopes


async def _customer_key(
    customer_id: str,
    request: Request,
    settings: SettingsDep,
    principal: Annotated[Principal, Depends(authenticate)],
    scopes: Annotated[ScopeReader, Depends(_scopes)],
) -> str:
    """Path id → pseudonymous key (the raw id goes no further), then object-level authorisation.

    Routes declare their permission before this, so the order stays 401 → 429 → 403 → 404."""
    try:
        customer_key = to_customer_key(customer_id, settings.pseudonym_key.get_secret_value())
    except InvalidCustomerId as exc:
        raise Problem(422, "Invalid customer identifier", str(exc)) from None
    if is_scoped(principal):
        # Upstream 404s are answered with the same body, so "exists but not yours" reads like "absent".
        request.state.scoped = True
        try:
            scope = await scopes.get(customer_key)
        except (redis.RedisError, OSError) as exc:
            raise Problem(
                503, "Scopes unavailable", "the customer's scope cannot be checked now", headers={"Retry-After": "5"}
            ) from exc
        if not may_read(principal, scope):
            raise customer_not_found()
    return customer_key


async def _purpose(
    x_purpose: Annotated[ReadPurpose | None, Header(alias="X-Purpose", description="Why the data is read")] = None,
) -> ReadPurpose:
    return x_purpose or DEFAULT_PURPOSE


async def _guard(request: Request) -> InsiderGuard | None:
    return getattr(request.app.state, "guard", None)


UpstreamsDep = Annotated[Upstreams, Depends(_upstreams)]
AuditDep = Annotated[AuditTrail, Depends(_audit)]
CustomerKeyDep = Annotated[str, Depends(_customer_key)]


async def _readable_customer_key(
    customer_key: CustomerKeyDep,
    settings: SettingsDep,
    principal: Annotated[Principal, Depends(authenticate)],
    guard: Annotated[InsiderGuard | None, Depends(_guard)],
    audit: AuditDep,
) -> str:
    """A customer a person is about to read: in scope, and cleared by the insider-threat guard."""
    if guard is not None and principal.kind is PrincipalKind.USER:
        await enforce(
            guard, principal, customer_key, audit, principal.timezone or settings.timezone_for(principal.branch_id)
        )
    return customer_key


ReadableCustomerKeyDep = Annotated[str, Depends(_readable_customer_key)]
PurposeDep = Annotated[ReadPurpose, Depends(_purpose)]

read_recommendations = require(Permission.READ_RECOMMENDATIONS)
RecommendationsReader = Annotated[Principal, Depends(read_recommendations)]
OutcomesWriter = Annotated[Principal, Depends(require(Permission.WRITE_OUTCOMES))]
FeaturesReader = Annotated[Principal, Depends(require(Permission.READ_FEATURES))]
KpisReader = Annotated[Principal, Depends(require(Permission.READ_KPIS))]
IngestWriter = Annotated[Principal, Depends(require(Permission.WRITE_INGEST))]
CampaignManager = Annotated[Principal, Depends(require(Permission.MANAGE_CAMPAIGNS))]
DataSubjectOfficer = Annotated[Principal, Depends(require(Permission.DATA_SUBJECT_REQUESTS))]
AuditReader = Annotated[Principal, Depends(require(Permission.READ_AUDIT))]
AccessAdmin = Annotated[Principal, Depends(require(Permission.MANAGE_ACCESS))]


async def solve_customer_read(
    request: Request,
    customer_id: str,
    requirement: Callable[..., Awaitable[Principal]],
    x_purpose: ReadPurpose | None,
) -> tuple[Principal, str, ReadPurpose]:
    """What a route declaring `Depends(requirement)` (a `require(...)`), `ReadableCustomerKeyDep` and
    `PurposeDep`, in that order, receives: the same dependency functions, called in the order FastAPI solves
    them (each once, as its dependency cache would), for a fast handler (prometeo.web.fastpath) that skips
    FastAPI's per-request solving. 401 → 429 → 403 → 404 → the insider guard, unchanged."""
    state = request.app.state
    settings = get_settings()
    principal = await authenticate(request, state.authenticator)
    principal = await requirement(request, principal, state.limiter, settings)
    customer_key = await _customer_key(customer_id, request, settings, principal, state.scopes)
    guard = getattr(state, "guard", None)
    customer_key = await _readable_customer_key(customer_key, settings, principal, guard, state.audit)
    return principal, customer_key, await _purpose(x_purpose)
