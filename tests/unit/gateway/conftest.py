"""The gateway app with its edges replaced: fake limiter and audit trail, MockTransport upstreams."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi.testclient import TestClient

from gateway.audit import AuditTrail
from gateway.domain.audit import AuditedResource, ReadPurpose
from gateway.domain.credentials import KeyRing, Principal
from gateway.domain.quota import Quota
from gateway.limiter import RateLimiter
from gateway.main import _base_urls, app
from gateway.settings import get_settings
from gateway.upstream import UpstreamHealth, Upstreams

UpstreamHandler = Callable[[httpx.Request], httpx.Response]


class FakeLimiter(RateLimiter):
    def __init__(self, limit: int = 100) -> None:
        self.limit = limit
        self.counts: dict[str, int] = {}

    async def hit(self, actor: str, limit: int) -> Quota:
        # The fake's own limit wins, so tests can reach 429 in a few requests.
        self.counts[actor] = self.counts.get(actor, 0) + 1
        return Quota(limit=self.limit, used=self.counts[actor], reset_s=42)


@dataclass
class FakeAudit(AuditTrail):
    records: list[tuple[Principal, str, AuditedResource, ReadPurpose]] = field(default_factory=list)
    fail: Exception | None = None

    async def record_read(
        self, principal: Principal, customer_key: str, resource: AuditedResource, purpose: ReadPurpose
    ) -> None:
        if self.fail is not None:
            raise self.fail
        self.records.append((principal, customer_key, resource, purpose))


@dataclass
class Upstream:
    """Routes requests to a per-test handler and remembers them."""

    handler: UpstreamHandler = lambda request: httpx.Response(404, json={"title": "no handler"})
    seen: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.seen.append(request)
        return self.handler(request)


@dataclass
class Gateway:
    client: TestClient
    upstream: Upstream
    limiter: FakeLimiter
    audit: FakeAudit


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gateway]:
    monkeypatch.setenv("PROMETEO_ENV", "test")
    monkeypatch.delenv("PROMETEO_GATEWAY_API_KEYS", raising=False)
    get_settings.cache_clear()
    settings = get_settings()
    upstream, limiter, audit = Upstream(), FakeLimiter(), FakeAudit()
    upstreams = Upstreams(httpx.AsyncClient(transport=httpx.MockTransport(upstream)), _base_urls(settings))
    app.state.keyring = KeyRing(settings.api_keys)
    app.state.limiter = limiter
    app.state.audit = audit
    app.state.upstreams = upstreams
    app.state.upstream_health = UpstreamHealth(upstreams, 10)
    # No `with`: the lifespan (real Redis, Kafka) is not started; state above stands in for it.
    yield Gateway(TestClient(app, raise_server_exceptions=False), upstream, limiter, audit)
    get_settings.cache_clear()
