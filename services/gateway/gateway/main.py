"""Assembles the gateway: lifespan (Redis, producer, upstream client), middleware, routers, telemetry."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import redis
import redis.asyncio as aioredis
from fastapi import FastAPI

from gateway.api import (
    admin,
    assistant,
    audit,
    customer360,
    data_subject,
    features,
    ingest,
    kpis,
    levers,
    oauth,
    outcomes,
    portfolio,
    recommendations,
)
from gateway.api.health import upstreams_check
from gateway.audit import DurableAuditTrail, KafkaAuditTrail
from gateway.audit.store import open_store
from gateway.clients import ClientRegistry, RedisClientRegistry
from gateway.consumers.account_events import AccountEventsHandler
from gateway.consumers.customer_erasure import CustomerErasureHandler
from gateway.domain.credentials import KeyRing
from gateway.domain.guard import GuardPolicy
from gateway.domain.local_idp import LocalIssuer, load_users
from gateway.domain.oidc import OidcIssuer
from gateway.domain.tokens import ALGORITHM, SigningKey, SigningKeys
from gateway.guard import RedisInsiderGuard
from gateway.identity import Authenticator
from gateway.limiter import RedisRateLimiter
from gateway.middleware import QuotaHeaders, ScrubCustomerIds
from gateway.portfolios import PortfolioReader, PortfolioWriter
from gateway.rebuild import rebuild_scopes
from gateway.requests_log import RedisRequestLog
from gateway.scopes import RedisScopeReader, ScopeWriter
from gateway.settings import Settings, get_settings
from gateway.transport import KeepAliveTransport
from gateway.upstream import Upstream, UpstreamHealth, Upstreams, install_upstream_handlers
from prometeo import clock
from prometeo.bus import EventProducer
from prometeo.bus.consumer import ConsumerLoop, Handler
from prometeo.contracts import topics
from prometeo.keys import GATEWAY
from prometeo.runtime import Runtime, broker_check, consumers_check, redis_check
from prometeo.service_tokens import internal_async_client
from prometeo.telemetry.tracing import configure_tracing
from prometeo.views import ViewGuard, views_check
from prometeo.web import build_app

SERVICE = "gateway"
# The gateway's records on the broker are the audit.v1 copies (best effort once the stored record stands: no
# read waits for their acks) and its consumers' dead letters. A short linger ships the copies of concurrent
# reads in one produce request: kafka-python woke its sender thread (a socket write and a GIL hand-off) and
# the broker answered a request for every read.
PRODUCER_LINGER_MS = 10


def upstreams_for(settings: Settings) -> Upstreams:
    """The services behind the gateway. Every call carries a service token for the service it goes to (aud)
    and the trace context (gateway.hop makes the client span: no httpx instrumentation on this path)."""
    audiences = {url: name.value for name, url in _base_urls(settings).items()}
    # A lean keep-alive transport (gateway/transport.py): httpcore and h11 were a quarter of the gateway's
    # CPU per recommendation. A few dozen connections carry hundreds of calls per second; up to 32 per service
    # are kept idle, since under a burst past 16 every call beyond them opened and closed a connection (a
    # connect here, an accept and a new protocol object in the service: ~4-6 % of either side's samples).
    transport = KeepAliveTransport(max_connections=64, max_idle=32)
    client = internal_async_client(
        settings,
        SERVICE,
        audiences=audiences,
        timeout=httpx.Timeout(settings.upstream_timeout_s, connect=settings.upstream_connect_timeout_s),
        transport=transport,
        follow_redirects=False,
    )
    return Upstreams(client, _base_urls(settings), transport=transport)


def _base_urls(settings: Settings) -> dict[Upstream, str]:
    return {
        Upstream.INGEST: settings.ingest_url,
        Upstream.FEATURE_STORE: settings.feature_store_url,
        Upstream.SCORING: settings.scoring_url,
        Upstream.NEXT_BEST_ACTION: settings.next_best_action_url,
        Upstream.CAMPAIGNS: settings.campaigns_url,
    }


def signing_keys(settings: Settings) -> SigningKeys:
    """Configured keys, or (dev/test) one generated per process: its tokens die with it, which is fine there."""
    if settings.token_signing_keys:
        return SigningKeys(
            [SigningKey.from_pem(k.kid, k.private_key_pem.get_secret_value()) for k in settings.token_signing_keys]
        )
    return SigningKeys([SigningKey.generate()])


def install_identity(app: FastAPI, settings: Settings, clients: ClientRegistry) -> None:
    """Authenticator (API keys in dev/test, client tokens, trusted OIDC issuers) and the built-in issuer."""
    keys = signing_keys(settings)
    issuers = list(settings.oidc_issuers)
    app.state.local_idp = None
    if settings.local_idp_enabled:
        app.state.local_idp = LocalIssuer(
            load_users(settings.local_idp_users_file),
            keys,
            settings.local_idp_issuer,
            settings.token_audience,
            timedelta(seconds=settings.token_lifetime_s),
        )
        # Trusted like any external issuer, with its JWKS inline (no HTTP call to ourselves).
        issuers.append(
            OidcIssuer(
                issuer=settings.local_idp_issuer,
                audience=settings.token_audience,
                jwks=keys.jwks(),
                algorithms=[ALGORITHM],
            )
        )
    app.state.clients = clients
    app.state.authenticator = Authenticator(
        api_keys=KeyRing(settings.api_keys) if settings.api_keys_enabled else None,
        signing=keys,
        token_issuer=settings.token_issuer,
        token_audience=settings.token_audience,
        issuers=issuers,
        clients=clients,
    )


def guard_policy(settings: Settings) -> GuardPolicy:
    opens, closes = settings.guard_working_hours
    return GuardPolicy(
        window_s=settings.guard_window_s,
        max_customers=settings.guard_max_customers,
        opens=opens,
        closes=closes,
        working_days=frozenset(settings.guard_working_days),
    )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    configure_tracing(SERVICE)
    sync_redis = redis.Redis.from_url(settings.redis_url, socket_timeout=2)
    async_redis = aioredis.Redis.from_url(settings.redis_url, socket_timeout=2)
    producer = EventProducer.for_service(settings, SERVICE, linger_ms=PRODUCER_LINGER_MS)
    upstreams = upstreams_for(settings)
    app.state.redis = sync_redis  # readiness ping
    scope_writer = ScopeWriter(sync_redis)
    views = ViewGuard(
        sync_redis,
        GATEWAY,
        lambda: rebuild_scopes(scope_writer, settings.kafka_bootstrap_servers, PortfolioWriter(sync_redis)),
        interval_s=settings.views_check_interval_s,
    )
    handlers: dict[str, Handler] = {
        topics.ACCOUNT_EVENTS: AccountEventsHandler(scope_writer, PortfolioWriter(sync_redis)),
        topics.CUSTOMER_ERASURE: CustomerErasureHandler(scope_writer, PortfolioWriter(sync_redis)),
    }
    if settings.views_rebuild:
        handlers = {topic: views.gate(handler) for topic, handler in handlers.items()}
    # Of account-events.v1 only the profiles and their corrections are ours: the rest is not decoded.
    loop = ConsumerLoop(
        settings,
        settings.group_id,
        handlers,
        producer,
        acts_on={topics.ACCOUNT_EVENTS: AccountEventsHandler.EVENT_TYPES},
    )
    # Without a scope an advisor's read is refused (fail closed): while the view is rebuilt only
    # readiness fails, the edge keeps answering (tokens, health) and discloses nothing.
    app.state.views = views if settings.views_rebuild else None
    app.state.runtime = Runtime(producer, [loop])
    app.state.scopes = RedisScopeReader(async_redis)
    app.state.portfolios = PortfolioReader(async_redis)
    install_identity(app, settings, RedisClientRegistry(async_redis, settings.client_cache_s))
    app.state.limiter = RedisRateLimiter(async_redis)
    app.state.guard = (
        RedisInsiderGuard(async_redis, guard_policy(settings), clock.now) if settings.guard_enabled else None
    )
    database_url = settings.audit_database_url.get_secret_value() if settings.audit_database_url else None
    audit_store = open_store(database_url, settings.data_dir)
    app.state.audit = DurableAuditTrail(audit_store, KafkaAuditTrail(producer))
    app.state.upstreams = upstreams
    app.state.requests = RedisRequestLog(async_redis)
    app.state.upstream_health = UpstreamHealth(upstreams, settings.upstream_health_interval_s)
    if settings.views_rebuild:
        views.start()
    app.state.runtime.start()
    async with app.state.upstream_health.running():
        yield
    await upstreams.client.aclose()
    audit_store.close()
    app.state.runtime.stop()
    views.stop()
    await async_redis.aclose()
    sync_redis.close()


app = build_app(
    service=SERVICE,
    title="Prometeo gateway",
    # The public edge: its callers authenticate with API keys / OAuth2 / OIDC (gateway.identity).
    internal=False,
    lifespan=lifespan,
    routers=[
        oauth.router,
        recommendations.router,
        customer360.router,
        portfolio.router,
        outcomes.router,
        features.router,
        kpis.router,
        levers.router,
        ingest.router,
        data_subject.router,
        admin.router,
        audit.router,
        assistant.router,
    ],
    checks={
        "redis": redis_check,
        "broker": broker_check,
        "consumers": consumers_check,
        "upstreams": upstreams_check,
        "views": views_check,
    },
)
install_upstream_handlers(app)
app.add_middleware(QuotaHeaders)
app.add_middleware(ScrubCustomerIds)
