"""A real HTTP stand-in for the services behind the gateway: uvicorn on a free port, in a thread."""

from __future__ import annotations

import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from jwt.algorithms import RSAAlgorithm

from tests.bus_helpers import scaled, wait_until

# A stand-in for a bank's identity provider: its signing key, published as a JWKS by the stub below.
IDP_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
IDP_KID = "idp-key-1"


@dataclass
class StubUpstream:
    url: str
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)


def _stub_app(stub: StubUpstream) -> FastAPI:
    app = FastAPI()

    @app.middleware("http")
    async def remember(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        stub.seen.append(
            (str(request.url.path) + ("?" + request.url.query if request.url.query else ""), dict(request.headers))
        )
        return await call_next(request)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/idp/jwks")
    def jwks() -> dict[str, object]:
        return {"keys": [{**RSAAlgorithm.to_jwk(IDP_KEY.public_key(), as_dict=True), "kid": IDP_KID, "use": "sig"}]}

    @app.post("/v1/nba/{customer_key}/presentations")
    def nba(customer_key: str, lang: str = "es") -> JSONResponse:
        if customer_key.startswith("ck_unknown"):
            return JSONResponse(
                {"type": "about:blank", "title": "Customer not found", "status": 404},
                status_code=404,
                media_type="application/problem+json",
            )
        text = "Recibe nómina" if lang == "es" else "Receives payroll"
        return JSONResponse(
            {
                "customer_key": customer_key,
                "decision_id": "dec-int",
                "model_version": "3",
                "decided_at": "2025-03-01T10:00:00Z",
                "offers": [
                    {
                        "offer_id": "o-int",
                        "product": "credit_card",
                        "channel": "app_push",
                        "propensity": 0.7,
                        "expected_value": 90.0,
                        "reasons": [{"code": "payroll", "text": text, "weight": 0.5}],
                        "rules_passed": ["consent"],
                    }
                ],
                "blocked": {},
            }
        )

    @app.get("/v1/kpis")
    def kpis() -> dict[str, float]:
        return {"offers_made": 1, "acceptance_rate": 0.0}

    @app.post("/v1/campaigns/{campaign_id}/{action}")
    def change_campaign(campaign_id: str, action: str) -> dict[str, object]:
        return {"campaign_id": campaign_id, "paused": action == "pause"}

    @app.get("/v1/experiments/{campaign_id}")
    def experiment(campaign_id: str) -> dict[str, object]:
        return {"campaign_id": campaign_id, "lift": {"absolute": 0.02, "p_value": 0.01}}

    return app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def stub_upstream() -> Iterator[StubUpstream]:
    port = _free_port()
    stub = StubUpstream(url=f"http://127.0.0.1:{port}")
    server = uvicorn.Server(uvicorn.Config(_stub_app(stub), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="stub-upstream", daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=10, interval=0.02)
    yield stub
    server.should_exit = True
    thread.join(scaled(5))


@pytest.fixture
def closed_port_url() -> str:
    """A URL nobody listens on: connection refused, right away."""
    return f"http://127.0.0.1:{_free_port()}"
