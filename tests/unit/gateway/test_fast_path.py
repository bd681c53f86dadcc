"""The recommendations route's fast handler (prometeo.web.fastpath) answers exactly as FastAPI's own handler:
same status, body, headers, audit records, upstream calls and rate-limit counts, for every outcome of the
401 → 429 → 403 → 404 → guard chain and of validation, and FastAPI's dependency solving is skipped only
when the inputs are ones it would accept."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import fastapi.routing
import httpx
import pytest

from gateway.domain.scope import CustomerScope
from prometeo.web import fastpath
from prometeo_dev.demo import DEMO_USERS
from tests.unit.gateway.conftest import Gateway
from tests.unit.gateway.test_routes import ADVISOR, CK, CPF, CRM, DECISION, MARKETING
from tests.unit.gateway.test_scope import BRANCH, MINE, _ck

NOT_FOUND = {"type": "about:blank", "title": "Customer not found", "status": 404, "detail": "no scores"}
_HEADERS = ("content-type", "www-authenticate", "retry-after", "ratelimit-limit", "ratelimit-remaining")


def _decision(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={**DECISION, "customer_key": request.url.path.split("/")[3]})


def _not_found(_: httpx.Request) -> httpx.Response:
    return httpx.Response(404, content=json.dumps(NOT_FOUND), headers={"content-type": "application/problem+json"})


def _ana(gateway: Gateway) -> dict[str, str]:
    form = {"grant_type": "password", "username": "ana.advisor", "password": DEMO_USERS["ana.advisor"][0]}
    return {"Authorization": "Bearer " + gateway.client.post("/oidc/token", data=form).json()["access_token"]}


# (case, customer id, query, headers or a sign-in, upstream handler, limiter limit)
Headers = dict[str, str] | Callable[[Gateway], dict[str, str]]
CASES: list[tuple[str, str, str, Headers, Callable[[httpx.Request], httpx.Response], int]] = [
    ("ok, crm", CPF, "?lang=en", CRM, _decision, 100),
    (
        "ok, objective and purpose",
        CK,
        "?objective=conversion",
        {**ADVISOR, "X-Purpose": "customer_service"},
        _decision,
        100,
    ),
    ("ok, advisor in portfolio", MINE, "", _ana, _decision, 100),
    ("advisor outside portfolio", BRANCH, "", _ana, _decision, 100),
    ("upstream 404, scoped", MINE, "", _ana, _not_found, 100),
    ("upstream 404, unscoped", CK, "", CRM, _not_found, 100),
    ("upstream 500", CK, "", CRM, lambda r: httpx.Response(500, text="internals"), 100),
    ("unreadable decision", CK, "", CRM, lambda r: httpx.Response(200, json={"x": 1}), 100),
    ("unauthenticated", CK, "", {}, _decision, 100),
    ("unauthenticated, invalid lang", "ck_x", "?lang=fr", {}, _decision, 100),
    ("bad key", CK, "", {"X-API-Key": "nope"}, _decision, 100),
    ("rate limited", CK, "", CRM, _decision, 0),
    ("forbidden", CK, "", MARKETING, _decision, 100),
    ("forbidden, invalid lang", CK, "?lang=fr", MARKETING, _decision, 100),
    ("invalid lang", CK, "?lang=fr", CRM, _decision, 100),
    ("empty lang", CK, "?lang=", CRM, _decision, 100),
    ("invalid objective", CK, "?objective=profit", CRM, _decision, 100),
    ("invalid purpose", CK, "", {**CRM, "X-Purpose": "curiosity"}, _decision, 100),
    ("malformed customer key", "ck_x", "", CRM, _decision, 100),
    ("repeated lang, last wins", CK, "?lang=fr&lang=en", CRM, _decision, 100),
]


def _answer(gateway: Gateway, case: tuple[Any, ...]) -> dict[str, Any]:
    _, cid, query, headers, handler, limit = case
    gateway.scopes.scopes = {_ck(MINE): CustomerScope("br-sp", "adv-sp-01")}
    gateway.upstream.handler = handler
    sent = headers(gateway) if callable(headers) else headers
    gateway.limiter.limit = limit
    response = gateway.client.get(f"/v1/customers/{cid}/recommendations{query}", headers=sent)
    return {
        "status": response.status_code,
        "body": response.content,
        "headers": {h: response.headers.get(h) for h in _HEADERS},
        "audit": [(p.actor, ck, r, purpose) for p, ck, r, purpose in gateway.audit.records],
        "upstream": [str(r.url) for r in gateway.upstream.seen],
        "counts": dict(gateway.limiter.counts),
    }


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_the_fast_handler_answers_as_fastapis_own(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, case: tuple[Any, ...]
) -> None:
    fast = _answer(gateway, case)
    gateway.audit.records.clear()
    gateway.upstream.seen.clear()
    gateway.limiter.counts.clear()
    monkeypatch.setattr(fastpath, "ENABLED", False)
    assert _answer(gateway, case) == fast


def test_dependency_solving_is_skipped_only_for_inputs_fastapi_accepts(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    solved: list[object] = []
    solve = fastapi.routing.solve_dependencies

    async def counting(*args: Any, **kwargs: Any) -> Any:
        solved.append(kwargs.get("dependant"))
        return await solve(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counting)
    gateway.upstream.handler = _decision
    assert gateway.client.get(f"/v1/customers/{CK}/recommendations?lang=en", headers=CRM).status_code == 200
    assert solved == []
    assert gateway.client.get(f"/v1/customers/{CK}/recommendations?lang=fr", headers=CRM).status_code == 422
    assert len(solved) == 1
