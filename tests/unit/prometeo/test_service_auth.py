"""Internal routes require a service token for this service; probes and the scrape stay open."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient

from prometeo import clock
from prometeo.service_tokens import ALGORITHM, LEEWAY_S, ServiceKeys, ServiceTokenAuth, issue, verify
from prometeo.settings import DEV_SERVICE_TOKEN_KEY, SharedSettings
from prometeo.web import build_app

AT = datetime(2026, 3, 3, 13, 0, tzinfo=UTC)
KEY = "k" * 40
OLD_KEY = "o" * 40
KEYS = ServiceKeys(KEY)


@asynccontextmanager
async def _nothing(_: FastAPI) -> AsyncIterator[None]:
    yield


def _app() -> FastAPI:
    router = APIRouter()

    @router.get("/v1/things")
    def things(request: Request) -> dict[str, str]:
        return {"caller": request.state.caller}

    return build_app(service="things", title="things", lifespan=_nothing, routers=[router], checks={})


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("PROMETEO_SERVICE_TOKEN_KEY", KEY)
    monkeypatch.setenv("PROMETEO_SERVICE_TOKEN_PREVIOUS_KEY", OLD_KEY)
    with clock.pinned(AT), TestClient(_app()) as c:
        yield c


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401 and response.json()["title"] == "Service token required"


def test_a_valid_token_for_this_service_is_let_through(client: TestClient) -> None:
    response = client.get("/v1/things", headers=_bearer(issue(KEYS, issuer="gateway", audience="things")))
    assert response.status_code == 200 and response.json() == {"caller": "gateway"}


def test_the_previous_key_still_verifies_during_a_rotation(client: TestClient) -> None:
    token = issue(ServiceKeys(OLD_KEY), issuer="gateway", audience="things")
    assert client.get("/v1/things", headers=_bearer(token)).status_code == 200


def test_no_token_is_refused(client: TestClient) -> None:
    _refused(client.get("/v1/things"))
    _refused(client.get("/v1/things", headers={"Authorization": "Basic Zm9vOmJhcg=="}))
    _refused(client.get("/v1/things", headers={"Authorization": "Bearer not-a-jwt"}))
    # Unknown paths too: nothing about the service's routes is learnt without a token.
    _refused(client.get("/v1/unknown"))
    _refused(client.get("/openapi.json"))


def test_an_expired_token_is_refused_on_the_clock_seam(client: TestClient) -> None:
    token = issue(KEYS, issuer="gateway", audience="things", ttl_s=60)
    clock.advance(timedelta(seconds=30))
    assert client.get("/v1/things", headers=_bearer(token)).status_code == 200
    clock.advance(timedelta(seconds=30 + LEEWAY_S + 1))  # past exp and the allowed skew
    _refused(client.get("/v1/things", headers=_bearer(token)))
    assert "expired" in client.get("/v1/things", headers=_bearer(token)).json()["detail"]


def test_a_token_for_another_service_or_key_is_refused(client: TestClient) -> None:
    _refused(client.get("/v1/things", headers=_bearer(issue(KEYS, issuer="gateway", audience="campaigns"))))
    stranger = ServiceKeys("s" * 40)
    _refused(client.get("/v1/things", headers=_bearer(issue(stranger, issuer="gateway", audience="things"))))


def test_a_long_lived_or_claimless_token_is_refused(client: TestClient) -> None:
    now = int(clock.timestamp())
    long_lived = {"iss": "gateway", "aud": "things", "iat": now, "exp": now + 3600}
    _refused(client.get("/v1/things", headers=_bearer(jwt.encode(long_lived, KEY, algorithm=ALGORITHM))))
    no_issuer = {"aud": "things", "iat": now, "exp": now + 60}
    _refused(client.get("/v1/things", headers=_bearer(jwt.encode(no_issuer, KEY, algorithm=ALGORITHM))))
    unsigned = jwt.encode({**long_lived, "exp": now + 60}, "", algorithm="none")
    _refused(client.get("/v1/things", headers=_bearer(unsigned)))


def test_probes_and_the_scrape_need_no_token(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/metrics").status_code == 200


def test_the_openapi_documents_the_service_token(client: TestClient) -> None:
    schema = client.get("/openapi.json", headers=_bearer(issue(KEYS, issuer="tests", audience="things"))).json()
    assert schema["components"]["securitySchemes"]["serviceToken"]["scheme"] == "bearer"
    assert schema["paths"]["/v1/things"]["get"]["security"] == [{"serviceToken": []}]
    assert "401" in schema["paths"]["/v1/things"]["get"]["responses"]
    assert schema["paths"]["/healthz"]["get"]["security"] == []


def test_the_auth_hook_picks_the_audience_by_base_url_and_reuses_fresh_tokens() -> None:
    auth = ServiceTokenAuth(
        KEYS, "gateway", {"http://ingest:8001": "ingest-openfinance", "http://edge/campaigns/": "campaigns"}
    )
    seen: list[dict[str, object]] = []

    def record(request: httpx.Request) -> httpx.Response:
        header = request.headers.get("authorization")
        if header is None:
            seen.append({})
        else:
            token = header.split()[1]
            audience = jwt.decode(token, options={"verify_signature": False})["aud"]
            seen.append(verify(KEYS, token, audience=audience))
        return httpx.Response(200)

    with clock.pinned(AT), httpx.Client(auth=auth, transport=httpx.MockTransport(record)) as client:
        client.get("http://ingest:8001/v1/consents")
        client.get("http://INGEST:8001/v1/events:batch")
        client.get("http://edge/campaigns/v1/kpis")
        client.get("http://elsewhere/v1/kpis")
    assert [s.get("aud") for s in seen] == ["ingest-openfinance", "ingest-openfinance", "campaigns", None]
    assert seen[0]["jti"] == seen[1]["jti"], "a fresh token is reused, not minted per request"
    assert {s.get("iss") for s in seen[:3]} == {"gateway"}


def test_the_auth_hook_mints_anew_when_the_clock_seam_moves_back() -> None:
    """A test pinning an earlier hour must not be sent a token 'issued in the future'."""
    auth = ServiceTokenAuth(KEYS, "gateway", audience="things")
    late = auth.token_for("things")
    with clock.pinned(AT):
        early = auth.token_for("things")
        assert early != late
        verify(KEYS, early, audience="things")


def test_the_development_key_is_refused_outside_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETEO_PSEUDONYM_KEY", "p" * 40)
    monkeypatch.setenv("PROMETEO_ENV", "prod")
    with pytest.raises(ValueError, match="PROMETEO_SERVICE_TOKEN_KEY"):
        SharedSettings()
    monkeypatch.setenv("PROMETEO_SERVICE_TOKEN_KEY", "short")
    with pytest.raises(ValueError, match="at least 32 bytes"):
        SharedSettings()
    monkeypatch.setenv("PROMETEO_SERVICE_TOKEN_KEY", KEY)
    assert SharedSettings().service_token_key.get_secret_value() != DEV_SERVICE_TOKEN_KEY
