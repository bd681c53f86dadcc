"""The assistant inside the real gateway (real Redis and broker, the HTTP stand-in upstream): its calls go
through the gateway's own API as the asking person, so scope, roles and the audit trail apply to them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
from fastapi.testclient import TestClient

from gateway.main import app
from gateway.scopes import ScopeWriter
from gateway.settings import get_settings
from prometeo_dev.demo import DEMO_USERS
from tests.bus_helpers import wait_until
from tests.fake_chat_completions import chat_completions_server
from tests.integration.gateway.conftest import StubUpstream

pytestmark = pytest.mark.integration

IN_HOURS = datetime(2026, 3, 3, 13, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def llm() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    with chat_completions_server() as server:
        yield server


@pytest.fixture
def gateway(
    service_env: Callable[[dict[str, str]], None],
    stub_upstream: StubUpstream,
    closed_port_url: str,
    tmp_path: Path,
    unique: Callable[[str], str],
    llm: tuple[str, list[dict[str, Any]]],
) -> Iterator[TestClient]:
    service_env(
        {
            "PROMETEO_GATEWAY_ASSISTANT_LLM_BASE_URL": llm[0],
            "PROMETEO_GATEWAY_DATA_DIR": str(tmp_path / "gateway"),
            "PROMETEO_GATEWAY_API_KEYS": json.dumps({unique("mkt"): "marketing", "it-admin-key": "admin"}),
            "PROMETEO_GATEWAY_NEXT_BEST_ACTION_URL": stub_upstream.url,
            "PROMETEO_GATEWAY_CAMPAIGNS_URL": stub_upstream.url,
            "PROMETEO_GATEWAY_FEATURE_STORE_URL": closed_port_url,
            "PROMETEO_PSEUDONYM_KEY": "assistant-it-key",
        }
    )
    get_settings.cache_clear()
    with TestClient(app) as client:
        wait_until(lambda: client.get("/readyz").status_code == 200, timeout=20)
        app.state.guard.now = lambda: IN_HOURS
        yield client
    get_settings.cache_clear()


def _ana(gateway: TestClient) -> dict[str, str]:
    form = {"grant_type": "password", "username": "ana.advisor", "password": DEMO_USERS["ana.advisor"][0]}
    return {"Authorization": "Bearer " + gateway.post("/oidc/token", data=form).json()["access_token"]}


def test_an_advisor_asks_through_the_gateway_as_herself(
    gateway: TestClient, redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    mine, other = f"ck_{unique('mine')}", f"ck_{unique('other')}"
    writer = ScopeWriter(redis)
    writer.save(mine, "br-sp", "adv-sp-01", IN_HOURS)
    writer.save(other, "br-sp", "adv-sp-02", IN_HOURS)
    ana = _ana(gateway)

    answer = gateway.post("/v1/assistant/questions", json={"question": f"¿Qué le ofrezco a {mine}?"}, headers=ana)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "answered" and body["intent"] == "recommend"
    assert "tarjeta de crédito" in body["text"] and "70,0 %" in body["text"] and "R$ 90,00" in body["text"]
    path = f"/v1/customers/{mine}/recommendations?lang=es"
    assert body["calls"] == [{"tool": "recommendations", "method": "GET", "path": path, "status": 200}]
    # The call was hers: the audit trail names ana for the read the assistant made.
    trail = gateway.get("/v1/audit", params={"customer": mine}, headers={"X-API-Key": "it-admin-key"}).json()
    records = trail["records"] if isinstance(trail, dict) else trail
    assert any(r["user_id"] == "ana.advisor" and r["resource"] == "recommendations" for r in records)

    refused = gateway.post(
        "/v1/assistant/questions", json={"question": f"What should I offer {other}?"}, headers=ana
    ).json()
    assert (refused["status"], refused["reason"]) == ("refused", "scope")
    assert refused["calls"][0]["status"] == 404 and not refused["figures"] and not refused["sources"]
    assert "credit card" not in refused["text"]

    kpis = gateway.post("/v1/assistant/questions", json={"question": "¿Cuál es la tasa de aceptación?"}, headers=ana)
    assert (kpis.json()["status"], kpis.json()["reason"]) == ("refused", "role")


def test_marketing_reads_kpis_and_is_refused_customers(gateway: TestClient) -> None:
    key = next(k for k, r in get_settings().api_keys.items() if r == "marketing")
    headers = {"X-API-Key": key}
    body = gateway.post("/v1/assistant/questions", json={"question": "What is the acceptance rate?"}, headers=headers)
    assert body.json()["status"] == "answered" and "0.0%" in body.json()["text"]
    assert body.json()["sources"] == [{"api_path": "/v1/kpis", "console_path": "/dashboard"}]
    customer = gateway.post(
        "/v1/assistant/questions", json={"question": "O que ofereço para 123.456.789-09?"}, headers=headers
    ).json()
    assert (customer["status"], customer["reason"], customer["calls"]) == ("refused", "role", [])


def test_the_llm_planner_calls_as_the_asker_and_its_invented_number_is_refused(
    gateway: TestClient, llm: tuple[str, list[dict[str, Any]]]
) -> None:
    headers = {"X-API-Key": next(k for k, r in get_settings().api_keys.items() if r == "marketing")}
    ask = {"question": "grounded: how are acceptances going?", "engine": "llm"}
    good = gateway.post("/v1/assistant/questions", json=ask, headers=headers).json()
    assert (good["status"], good["engine"], good["calls"][0]["path"]) == ("answered", "llm", "/v1/kpis")
    # Only the tools marketing may call were offered to the model.
    assert {t["function"]["name"] for t in llm[1][-2]["tools"]} == {"kpis", "experiment"}
    bad = gateway.post(
        "/v1/assistant/questions", json={**ask, "question": "how are acceptances going?"}, headers=headers
    )
    assert (bad.json()["status"], bad.json()["reason"]) == ("refused", "ungrounded")
