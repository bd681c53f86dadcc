"""The gateway app with its edges replaced: fake limiter and audit trail, MockTransport upstreams."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi.testclient import TestClient

from gateway.audit import AuditTrail
from gateway.clients import ClientRegistry
from gateway.domain.audit import AuditedResource, AuditEntry, ReadPurpose
from gateway.domain.clients import ClientRecord
from gateway.domain.credentials import Principal
from gateway.domain.quota import Bucket, Quota
from gateway.domain.requests import DataSubjectRequestRecord
from gateway.domain.scope import CustomerScope
from gateway.limiter import RateLimiter
from gateway.main import _base_urls, app, install_identity
from gateway.requests_log import RequestLog
from gateway.scopes import ScopeReader
from gateway.settings import get_settings
from gateway.upstream import UpstreamHealth, Upstreams

UpstreamHandler = Callable[[httpx.Request], httpx.Response]


class FakeLimiter(RateLimiter):
    def __init__(self, limit: int = 100) -> None:
        self.limit = limit
        self.counts: dict[str, int] = {}

    async def hit(self, buckets: Sequence[Bucket]) -> Quota:
        # The fake's own limit wins, so tests can reach 429 in a few requests; the busiest bucket is reported.
        for bucket in buckets:
            self.counts[bucket.subject] = self.counts.get(bucket.subject, 0) + 1
        return Quota(limit=self.limit, used=max(self.counts[b.subject] for b in buckets), reset_s=42)


class InMemoryClients(ClientRegistry):
    def __init__(self) -> None:
        self.records: dict[str, ClientRecord] = {}

    async def get(self, client_id: str) -> ClientRecord | None:
        return self.records.get(client_id)

    async def save(self, record: ClientRecord, *, create: bool = False) -> bool:
        if create and record.client_id in self.records:
            return False
        self.records[record.client_id] = record
        return True

    async def all(self) -> list[ClientRecord]:
        return [self.records[k] for k in sorted(self.records)]


class InMemoryScopes(ScopeReader):
    def __init__(self) -> None:
        self.scopes: dict[str, CustomerScope] = {}

    async def get(self, customer_key: str) -> CustomerScope | None:
        return self.scopes.get(customer_key)


@dataclass
class FakeAudit(AuditTrail):
    """Reads as (principal, customer key, resource, purpose) in `records`; every other entry in `entries`."""

    records: list[tuple[Principal, str, AuditedResource, ReadPurpose]] = field(default_factory=list)
    entries: list[AuditEntry] = field(default_factory=list)
    fail: Exception | None = None

    async def record(self, entry: AuditEntry) -> None:
        if self.fail is not None:
            raise self.fail
        self.entries.append(entry)

    async def record_read(
        self, principal: Principal, customer_key: str, resource: AuditedResource, purpose: ReadPurpose
    ) -> None:
        if self.fail is not None:
            raise self.fail
        self.records.append((principal, customer_key, resource, purpose))


@dataclass
class InMemoryRequestLog(RequestLog):
    records: list[DataSubjectRequestRecord] = field(default_factory=list)

    async def save(self, record: DataSubjectRequestRecord) -> None:
        self.records.append(record)

    async def latest(self, limit: int) -> list[DataSubjectRequestRecord]:
        return sorted(self.records, key=lambda r: r.received_at, reverse=True)[:limit]


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
    scopes: InMemoryScopes
    requests: InMemoryRequestLog = field(default_factory=InMemoryRequestLog)


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gateway]:
    monkeypatch.setenv("PROMETEO_ENV", "test")
    monkeypatch.delenv("PROMETEO_GATEWAY_API_KEYS", raising=False)
    get_settings.cache_clear()
    settings = get_settings()
    upstream, limiter, audit, scopes = Upstream(), FakeLimiter(), FakeAudit(), InMemoryScopes()
    transport = httpx.MockTransport(upstream)
    upstreams = Upstreams(httpx.AsyncClient(transport=transport), _base_urls(settings), transport=transport)
    install_identity(app, settings, InMemoryClients())
    app.state.limiter = limiter
    app.state.audit = audit
    app.state.scopes = scopes
    app.state.upstreams = upstreams
    app.state.upstream_health = UpstreamHealth(upstreams, 10)
    requests = app.state.requests = InMemoryRequestLog()
    # No `with`: the lifespan (real Redis, Kafka) is not started; state above stands in for it.
    yield Gateway(TestClient(app, raise_server_exceptions=False), upstream, limiter, audit, scopes, requests)
    get_settings.cache_clear()
