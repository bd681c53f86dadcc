"""OAuth2 client credentials, the JWKS, key rotation, OIDC people and every token fault (in process)."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from gateway.domain import tokens
from gateway.domain.oidc import OidcIssuer, TokenRejected
from gateway.domain.roles import Role
from gateway.identity import Authenticator
from gateway.main import app
from prometeo import clock
from prometeo_dev.demo import DEMO_USERS
from tests.unit.gateway.conftest import Gateway, InMemoryClients

ADMIN = {"X-API-Key": "dev-admin-key"}
CK = "ck_identity-test-customer"
DECISION = {
    "customer_key": CK,
    "decision_id": "d",
    "model_version": "1",
    "decided_at": "2025-01-02T03:04:05Z",
    "offers": [],
    "blocked": {},
}


def _register(gateway: Gateway, client_id: str = "crm-alpha", scopes: list[str] | None = None) -> str:
    body = {"client_id": client_id, "name": "CRM Alpha", "scopes": scopes or ["crm"]}
    response = gateway.client.post("/v1/admin/clients", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    assert "secret_hash" not in response.text
    return str(response.json()["client_secret"])


def _token(gateway: Gateway, client_id: str, secret: str, **extra: str) -> httpx.Response:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, **extra}
    return gateway.client.post("/oauth/token", data=form)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _sign_in(gateway: Gateway, username: str) -> str:
    form = {"grant_type": "password", "username": username, "password": DEMO_USERS[username][0]}
    response = gateway.client.post("/oidc/token", data=form)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return dict(response.json())


# ---- client credentials --------------------------------------------------------------------------


def test_a_registered_client_gets_a_short_lived_token_and_reads_recommendations(gateway: Gateway) -> None:
    secret = _register(gateway)
    response = _token(gateway, "crm-alpha", secret)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    issued = response.json()
    assert issued["token_type"] == "Bearer" and issued["scope"] == "crm" and 30 <= issued["expires_in"] <= 3600

    header = jwt.get_unverified_header(issued["access_token"])
    published = gateway.client.get("/.well-known/jwks.json").json()["keys"]
    assert header["alg"] == "ES256" and header["kid"] in {k["kid"] for k in published}
    assert all("d" not in k for k in published)  # public halves only

    gateway.upstream.handler = lambda r: httpx.Response(200, json=DECISION)
    read = gateway.client.get(f"/v1/customers/{CK}/recommendations", headers=_bearer(issued["access_token"]))
    assert read.status_code == 200, read.text
    principal = gateway.audit.records[0][0]
    assert (principal.actor, principal.client_id, principal.role) == ("crm-alpha", "crm-alpha", Role.CRM)


def test_client_authentication_faults(gateway: Gateway) -> None:
    secret = _register(gateway, scopes=["crm", "ingest"])
    assert _problem(_token(gateway, "crm-alpha", "wrong", scope="crm"), 401)["error"] == "invalid_client"
    assert _problem(_token(gateway, "nobody", secret, scope="crm"), 401)["error"] == "invalid_client"
    # Two scopes held: the client must name the one it acts as; one it does not hold is refused.
    assert _problem(_token(gateway, "crm-alpha", secret), 400)["error"] == "invalid_scope"
    assert _problem(_token(gateway, "crm-alpha", secret, scope="admin"), 400)["error"] == "invalid_scope"
    refused = gateway.client.post("/oauth/token", data={"grant_type": "password", "client_id": "crm-alpha"})
    assert _problem(refused, 400)["error"] == "unsupported_grant_type"
    basic = base64.b64encode(f"crm-alpha:{secret}".encode()).decode()
    ok = gateway.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "ingest"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert ok.status_code == 200 and ok.json()["scope"] == "ingest"


def test_a_disabled_client_is_refused_at_once_and_listed_as_disabled(gateway: Gateway) -> None:
    secret = _register(gateway)
    token = _token(gateway, "crm-alpha", secret).json()["access_token"]
    gateway.upstream.handler = lambda r: httpx.Response(200, json=DECISION)
    assert gateway.client.get(f"/v1/customers/{CK}/recommendations", headers=_bearer(token)).status_code == 200
    assert gateway.client.post("/v1/admin/clients/crm-alpha/disable", headers=ADMIN).json()["disabled"] is True
    refused = gateway.client.get(f"/v1/customers/{CK}/recommendations", headers=_bearer(token))
    assert "disabled" in _problem(refused, 401)["detail"]
    assert _problem(_token(gateway, "crm-alpha", secret), 401)["error"] == "invalid_client"
    [listed] = gateway.client.get("/v1/admin/clients", headers=ADMIN).json()
    assert listed["client_id"] == "crm-alpha" and listed["disabled"] is True and "secret_hash" not in listed
    assert (
        gateway.client.post(
            "/v1/admin/clients", json={"client_id": "crm-alpha", "name": "x", "scopes": ["crm"]}, headers=ADMIN
        ).status_code
        == 409
    )
    assert gateway.client.get("/v1/admin/clients", headers={"X-API-Key": "dev-crm-key"}).status_code == 403


def test_secrets_are_stored_only_as_salted_hashes(gateway: Gateway) -> None:
    secret = _register(gateway, "crm-one")
    secret_two = _register(gateway, "crm-two")
    clients: InMemoryClients = app.state.clients
    stored = [r.secret_hash for r in clients.records.values()]
    assert all(h.startswith("scrypt$") for h in stored) and stored[0] != stored[1]
    assert secret not in "".join(stored) and secret_two not in "".join(stored)


def test_rotation_old_tokens_verify_until_their_key_is_dropped() -> None:
    asyncio.run(_rotation())


async def _rotation() -> None:
    old, new = tokens.SigningKey.generate("k-old"), tokens.SigningKey.generate("k-new")
    clients = InMemoryClients()

    from gateway.domain.clients import ClientRecord

    await clients.save(
        ClientRecord(client_id="crm-r", name="r", scopes=[Role.CRM], secret_hash="x", created_at=clock.now())
    )

    def authenticator(*keys: tokens.SigningKey) -> Authenticator:
        return Authenticator(
            api_keys=None,
            signing=tokens.SigningKeys(keys),
            token_issuer="https://gw",
            token_audience="api",
            issuers=[],
            clients=clients,
        )

    def issue(ring: tokens.SigningKeys) -> str:
        extra = {"client_id": "crm-r", "scope": "crm", "token_use": "client_credentials"}
        from datetime import timedelta

        return tokens.issue(
            ring,
            issuer="https://gw",
            audience="api",
            subject="crm-r",
            lifetime=timedelta(minutes=5),
            now=clock.now(),
            extra=extra,
        ).access_token

    before = issue(tokens.SigningKeys([old]))
    rotated = authenticator(new, old)  # new key signs, old still verifies
    assert (await rotated.authenticate(before)).actor == "crm-r"
    after = issue(rotated.signing)
    assert jwt.get_unverified_header(after)["kid"] == "k-new"
    assert {k["kid"] for k in rotated.signing.jwks()["keys"]} == {"k-new", "k-old"}
    with pytest.raises(TokenRejected, match="unknown key"):
        await authenticator(new).authenticate(before)  # old key dropped after its tokens expired
    assert (await authenticator(new).authenticate(after)).actor == "crm-r"


# ---- people (OIDC) -------------------------------------------------------------------------------


def test_built_in_issuer_signs_people_in_through_the_oidc_path(gateway: Gateway) -> None:
    token = _sign_in(gateway, "ana.advisor")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"].endswith("/oidc") and claims["roles"] == ["advisor"] and claims["portfolio"] == "adv-sp-01"
    discovery = gateway.client.get("/oidc/.well-known/openid-configuration").json()
    assert discovery["issuer"] == claims["iss"] and discovery["jwks_uri"].endswith("/.well-known/jwks.json")
    bad = {"grant_type": "password", "username": "ana.advisor", "password": "guess"}
    assert _problem(gateway.client.post("/oidc/token", data=bad), 400)["error"] == "invalid_grant"
    ghost = {"grant_type": "password", "username": "ghost", "password": "guess"}
    assert _problem(gateway.client.post("/oidc/token", data=ghost), 400)["error"] == "invalid_grant"


def _claims(gateway: Gateway, **changes: Any) -> dict[str, Any]:
    token = _sign_in(gateway, "ana.advisor")
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    claims.update(changes)
    return claims


def _signed(claims: dict[str, Any]) -> str:
    key = app.state.authenticator.signing.active
    return jwt.encode(claims, key.private_key, algorithm="ES256", headers={"kid": key.kid})


def test_token_times_are_judged_on_the_platform_clock(gateway: Gateway) -> None:
    """The gateway issues on the clock seam and must judge age on it too, not on PyJWT's wall-clock read:
    a fresh token is expired two hours later on the platform's clock, and one issued ahead of it is not valid yet."""
    gateway.upstream.handler = lambda r: httpx.Response(200, json={"offers_made": 1})
    now = int(clock.timestamp())
    fresh = _signed(_claims(gateway, iat=now, exp=now + 300))
    headers = {"Authorization": f"Bearer {fresh}"}
    assert gateway.client.get("/v1/kpis", headers=headers).status_code == 403  # authenticated: an advisor reads no KPIs
    with clock.pinned(clock.now() + timedelta(hours=2)):
        assert "expired" in _problem(gateway.client.get("/v1/kpis", headers=headers), 401)["detail"]
    ahead = _signed(_claims(gateway, iat=now + 3600, exp=now + 3900))
    late = _problem(gateway.client.get("/v1/kpis", headers={"Authorization": f"Bearer {ahead}"}), 401)
    assert "not valid yet" in late["detail"]


def _b64(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("fault", ["expired", "wrong_audience", "wrong_issuer", "unsigned", "tampered", "unknown_kid"])
def test_every_token_fault_is_401_problem_json(gateway: Gateway, fault: str) -> None:
    now = int(clock.timestamp())  # the test's world runs on the platform's clock
    if fault == "expired":
        token = _signed(_claims(gateway, iat=now - 3600, nbf=now - 3600, exp=now - 600))
    elif fault == "wrong_audience":
        token = _signed(_claims(gateway, aud="another-api"))
    elif fault == "wrong_issuer":
        token = _signed(_claims(gateway, iss="https://evil.example/oidc"))
    elif fault == "unsigned":
        token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(gateway))}."
        token = token if tokens.looks_like_jwt(token) else "eyJ" + token
    elif fault == "tampered":
        header, _, signature = _sign_in(gateway, "ana.advisor").split(".")
        token = f"{header}.{_b64(_claims(gateway, roles=['admin']))}.{signature}"
    else:
        token = jwt.encode(
            _claims(gateway),
            tokens.SigningKey.generate("k-rogue").private_key,
            algorithm="ES256",
            headers={"kid": "k-rogue"},
        )
    response = gateway.client.get("/v1/kpis", headers=_bearer(token))
    body = _problem(response, 401)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert token not in response.text and body["detail"]
    assert gateway.upstream.seen == []


def test_an_external_issuer_plugs_in_by_configuration(gateway: Gateway) -> None:
    """What a bank's Entra ID / Keycloak sends: RS256, its own claim names and role names."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**RSAAlgorithm.to_jwk(private.public_key(), as_dict=True), "kid": "entra-1"}
    issuer = OidcIssuer(
        issuer="https://login.example.com/tenant/v2.0",
        audience="api://prometeo",
        jwks={"keys": [jwk]},
        user_claim="oid",
        branch_claim="extension_branch",
        role_map={"Prometeo.Analyst": Role.ANALYST},
    )
    auth: Authenticator = app.state.authenticator
    app.state.authenticator = Authenticator(
        api_keys=None,
        signing=auth.signing,
        token_issuer=auth.token_issuer,
        token_audience=auth.token_audience,
        issuers=[issuer],
        clients=app.state.clients,
    )
    now = int(clock.timestamp())  # the test's world runs on the platform's clock
    claims = {
        "iss": issuer.issuer,
        "aud": "api://prometeo",
        "sub": "s",
        "oid": "u-42",
        "iat": now,
        "exp": now + 300,
        "roles": ["Everyone", "Prometeo.Analyst"],
        "extension_branch": "br-rj",
    }
    token = jwt.encode(claims, private, algorithm="RS256", headers={"kid": "entra-1"})
    gateway.upstream.handler = lambda r: httpx.Response(200, json={"offers_made": 1})
    assert gateway.client.get("/v1/kpis", headers=_bearer(token)).status_code == 200
    assert gateway.limiter.counts.get("user:u-42") == 1
    # HS256 signed with the public key as a secret (algorithm confusion) is refused.
    confused = jwt.encode(claims, "public-key-as-secret", algorithm="HS256", headers={"kid": "entra-1"})
    _problem(gateway.client.get("/v1/kpis", headers=_bearer(confused)), 401)
    # Dev API keys are off in this authenticator, as outside dev/test.
    _problem(gateway.client.get("/v1/kpis", headers={"X-API-Key": "dev-analyst-key"}), 401)


def test_only_asymmetric_algorithms_can_be_configured() -> None:
    with pytest.raises(ValueError, match="asymmetric"):
        OidcIssuer(issuer="https://x", audience="a", jwks={"keys": []}, algorithms=["HS256"])
    with pytest.raises(ValueError, match="asymmetric"):
        OidcIssuer(issuer="https://x", audience="a", jwks={"keys": []}, algorithms=["none"])


def test_token_requests_are_throttled_per_client_id(gateway: Gateway) -> None:
    secret = _register(gateway)
    gateway.limiter.limit = 2
    assert [_token(gateway, "crm-alpha", "guess").status_code for _ in range(2)] == [401, 401]
    throttled = _token(gateway, "crm-alpha", secret)
    assert _problem(throttled, 429)["error"] == "slow_down" and throttled.headers["retry-after"]
    assert gateway.limiter.counts["token:crm-alpha"] == 3
