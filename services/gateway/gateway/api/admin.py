"""Access administration: OAuth2 clients (register, list, disable, enable). Admin only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from gateway.audit import entry_for
from gateway.clients import ClientRegistry
from gateway.deps import AccessAdmin, AuditDep
from gateway.domain.audit import AuditAction
from gateway.domain.clients import (
    ClientCreate,
    ClientCreated,
    ClientPublic,
    ClientRecord,
    hash_secret,
    new_secret,
    public,
)
from gateway.domain.credentials import Principal
from gateway.guard import InsiderGuard
from prometeo import clock
from prometeo.web import Problem

router = APIRouter(prefix="/v1/admin", tags=["admin"])


def _clients(request: Request) -> ClientRegistry:
    return request.app.state.clients


def _guard(request: Request) -> InsiderGuard:
    guard: InsiderGuard | None = getattr(request.app.state, "guard", None)
    if guard is None:
        raise Problem(404, "Guard disabled", "the insider-threat guard is not enabled")
    return guard


GuardDep = Annotated[InsiderGuard, Depends(_guard)]


ClientsDep = Annotated[ClientRegistry, Depends(_clients)]


@router.post("/clients", status_code=status.HTTP_201_CREATED)
async def register_client(
    body: ClientCreate, principal: AccessAdmin, clients: ClientsDep, audit: AuditDep
) -> ClientCreated:
    secret = new_secret()
    record = ClientRecord(
        client_id=body.client_id,
        name=body.name,
        scopes=body.scopes,
        secret_hash=hash_secret(secret),
        created_at=clock.now(),
        rate_limit_per_minute=body.rate_limit_per_minute,
    )
    if not await clients.save(record, create=True):
        raise Problem(409, "Client exists", f"client {body.client_id!r} is already registered")
    scopes = " ".join(r.value for r in body.scopes)
    await audit.record(
        entry_for(principal, AuditAction.CHANGE, "client", detail=f"registered {body.client_id} ({scopes})")
    )
    return ClientCreated(**public(record).model_dump(), client_secret=secret)


@router.get("/clients")
async def list_clients(_: AccessAdmin, clients: ClientsDep) -> list[ClientPublic]:
    return [public(r) for r in await clients.all()]


async def _set_disabled(
    clients: ClientRegistry, audit: AuditDep, principal: Principal, client_id: str, disabled: bool
) -> ClientPublic:
    record = await clients.get(client_id)
    if record is None:
        raise Problem(404, "Client not found", f"no client {client_id!r}")
    updated = record.model_copy(update={"disabled": disabled})
    await clients.save(updated)
    change = "disabled" if disabled else "enabled"
    await audit.record(entry_for(principal, AuditAction.CHANGE, "client", detail=f"{change} {client_id}"))
    return public(updated)


@router.post("/clients/{client_id}/disable", summary="Refuse the client's tokens within a second")
async def disable_client(client_id: str, principal: AccessAdmin, clients: ClientsDep, audit: AuditDep) -> ClientPublic:
    return await _set_disabled(clients, audit, principal, client_id, True)


@router.post("/clients/{client_id}/enable")
async def enable_client(client_id: str, principal: AccessAdmin, clients: ClientsDep, audit: AuditDep) -> ClientPublic:
    return await _set_disabled(clients, audit, principal, client_id, False)


@router.get("/guard/blocks", summary="People blocked by the insider-threat guard")
async def list_blocks(_: AccessAdmin, guard: GuardDep) -> dict[str, str]:
    return await guard.blocked()


@router.delete("/guard/blocks/{user_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Lift a block")
async def lift_block(user_id: str, principal: AccessAdmin, guard: GuardDep, audit: AuditDep) -> None:
    if not await guard.lift(user_id):
        raise Problem(404, "Not blocked", f"{user_id!r} is not blocked")
    await audit.record(entry_for(principal, AuditAction.CHANGE, "guard_block", detail=f"lifted the block of {user_id}"))
