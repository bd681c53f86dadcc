"""Object-level authorisation: advisors see their portfolio, managers their branch, clients the bank;
outside scope the answer is the same 404 as for a customer that does not exist."""

from __future__ import annotations

import json

import httpx
import pytest

from gateway.domain.scope import CustomerScope
from prometeo.identity import customer_key
from prometeo.settings import DEV_PSEUDONYM_KEY
from prometeo_dev.demo import DEMO_USERS
from tests.unit.gateway.conftest import Gateway

MINE = "111.444.777-35"  # ana.advisor's portfolio
BRANCH = "529.982.247-25"  # another advisor, same branch
ELSEWHERE = "390.533.447-05"  # another branch
NOBODY = "987.654.321-00"  # no profile at all


def _ck(cid: str) -> str:
    return customer_key(cid, DEV_PSEUDONYM_KEY)


def _decision(request: httpx.Request) -> httpx.Response:
    ck = request.url.path.split("/")[3]
    body = {
        "customer_key": ck,
        "decision_id": "d",
        "model_version": "1",
        "decided_at": "2025-01-01T00:00:00Z",
        "offers": [],
        "blocked": {},
    }
    return httpx.Response(200, json=body)


@pytest.fixture
def bank(gateway: Gateway) -> Gateway:
    gateway.scopes.scopes = {
        _ck(MINE): CustomerScope("br-sp", "adv-sp-01"),
        _ck(BRANCH): CustomerScope("br-sp", "adv-sp-02"),
        _ck(ELSEWHERE): CustomerScope("br-rj", "adv-rj-01"),
    }
    gateway.upstream.handler = _decision
    return gateway


def _as(gateway: Gateway, username: str) -> dict[str, str]:
    form = {"grant_type": "password", "username": username, "password": DEMO_USERS[username][0]}
    return {"Authorization": "Bearer " + gateway.client.post("/oidc/token", data=form).json()["access_token"]}


def _status(gateway: Gateway, headers: dict[str, str], cid: str, route: str = "recommendations") -> int:
    return gateway.client.get(f"/v1/customers/{cid}/{route}", headers=headers).status_code


def test_an_advisor_reads_only_the_portfolio(bank: Gateway) -> None:
    ana = _as(bank, "ana.advisor")
    assert _status(bank, ana, MINE) == 200
    not_mine = bank.client.get(f"/v1/customers/{BRANCH}/recommendations", headers=ana)
    absent = bank.client.get(f"/v1/customers/{NOBODY}/recommendations", headers=ana)
    assert not_mine.status_code == absent.status_code == 404
    assert not_mine.json() == absent.json() and not_mine.headers["content-type"] == absent.headers["content-type"]
    assert _status(bank, ana, ELSEWHERE, "features") == 404
    outcome = {"offer_id": "o", "product": "credit_card", "outcome": "accepted"}
    assert bank.client.post(f"/v1/customers/{ELSEWHERE}/outcomes", headers=ana, json=outcome).status_code == 404
    # Nothing outside the portfolio reached an upstream or the audit trail.
    assert [r.url.path for r in bank.upstream.seen] == [f"/v1/nba/{_ck(MINE)}/presentations"]
    assert [ck for _, ck, _, _ in bank.audit.records] == [_ck(MINE)]


def test_an_upstream_404_inside_scope_reads_like_an_out_of_scope_customer(bank: Gateway) -> None:
    ana = _as(bank, "ana.advisor")
    out_of_scope = bank.client.get(f"/v1/customers/{BRANCH}/recommendations", headers=ana)
    problem = {"type": "about:blank", "title": "No scores yet", "status": 404, "detail": "scoring has not run"}
    bank.upstream.handler = lambda r: httpx.Response(
        404, content=json.dumps(problem), headers={"content-type": "application/problem+json"}
    )
    in_scope_missing = bank.client.get(f"/v1/customers/{MINE}/recommendations", headers=ana)
    assert in_scope_missing.status_code == 404 and in_scope_missing.json() == out_of_scope.json()


def test_a_branch_manager_reads_the_branch(bank: Gateway) -> None:
    bruno = _as(bank, "bruno.manager")
    assert [_status(bank, bruno, c) for c in (MINE, BRANCH, ELSEWHERE, NOBODY)] == [200, 200, 404, 404]


def test_bank_wide_roles_and_clients_read_every_customer(bank: Gateway) -> None:
    dora = _as(bank, "dora.dpo")
    crm = {"X-API-Key": "dev-crm-key"}
    for headers in (dora, crm):
        assert [_status(bank, headers, c) for c in (MINE, ELSEWHERE, NOBODY)] == [200, 200, 200]


def test_scope_is_checked_after_authorisation(bank: Gateway) -> None:
    """A role that may not read at all gets 403, not a 404 that would hint at existence."""
    carla = _as(bank, "carla.marketing")
    assert _status(bank, carla, ELSEWHERE) == 403
    assert bank.client.get(f"/v1/customers/{ELSEWHERE}/recommendations").status_code == 401


def test_outcomes_carry_the_acting_person(bank: Gateway) -> None:
    bank.upstream.handler = lambda r: httpx.Response(202, json={"event_id": "ev-1"})
    body = {"offer_id": "o-1", "product": "credit_card", "outcome": "accepted"}
    ana = _as(bank, "ana.advisor")
    assert bank.client.post(f"/v1/customers/{MINE}/outcomes", headers=ana, json=body).status_code == 202
    forwarded = json.loads(bank.upstream.seen[-1].content)
    assert (forwarded["actor"], forwarded["advisor_id"]) == ("ana.advisor", "adv-sp-01")
    bruno = _as(bank, "bruno.manager")
    assert bank.client.post(f"/v1/customers/{BRANCH}/outcomes", headers=bruno, json=body).status_code == 202
    forwarded = json.loads(bank.upstream.seen[-1].content)
    assert forwarded["actor"] == "bruno.manager" and "advisor_id" not in forwarded


def test_recommendations_shown_to_an_advisor_name_them_to_next_best_action(bank: Gateway) -> None:
    """The presentation carries the advisor's portfolio id (the id outcomes carry): adherence per advisor."""
    ana, bruno = _as(bank, "ana.advisor"), _as(bank, "bruno.manager")
    for headers in (ana, bruno, {"X-API-Key": "dev-crm-key"}):
        assert _status(bank, headers, MINE) == 200
    presented = [r.url.params.get("presented_to") for r in bank.upstream.seen]
    assert presented == ["adv-sp-01", None, None]
