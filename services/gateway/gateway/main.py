"""Assembles the gateway: lifespan (Redis, producer, upstream client), middleware, routers, telemetry."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import redis
import redis.asyncio as aioredis
from fastapi import FastAPI
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

from gateway.api import data_subject, features, ingest, kpis, levers, outcomes, recommendations
from gateway.api.health import upstreams_check
from gateway.audit import KafkaAuditTrail
from gateway.domain.credentials import KeyRing
from gateway.limiter import RedisRateLimiter
from gateway.middleware import quota_headers, scrub_customer_ids
from gateway.settings import Settings, get_settings
from gateway.upstream import Upstream, UpstreamHealth, Upstreams, install_upstream_handlers
from prometeo.bus import EventProducer
from prometeo.runtime import Runtime, broker_check, redis_check
from prometeo.telemetry.tracing import configure_tracing
from prometeo.web import build_app

SERVICE = "gateway"


def _upstream_client(settings: Settings) -> httpx.AsyncClient:
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.upstream_timeout_s, connect=settings.upstream_connect_timeout_s),
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        follow_redirects=False,
    )
    # Client spans carry traceparent to the services behind the gateway.
    HTTPXClientInstrumentor().instrument_client(client)
    return client


def _base_urls(settings: Settings) -> dict[Upstream, str]:
    return {
        Upstream.INGEST: settings.ingest_url,
        Upstream.FEATURE_STORE: settings.feature_store_url,
        Upstream.NEXT_BEST_ACTION: settings.next_best_action_url,
        Upstream.CAMPAIGNS: settings.campaigns_url,
    }


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    configure_tracing(SERVICE)
    sync_redis = redis.Redis.from_url(settings.redis_url, socket_timeout=2)
    async_redis = aioredis.Redis.from_url(settings.redis_url, socket_timeout=2)
    producer = EventProducer(settings.kafka_bootstrap_servers, SERVICE)
    client = _upstream_client(settings)
    upstreams = Upstreams(client, _base_urls(settings))
    app.state.redis = sync_redis  # readiness ping
    app.state.runtime = Runtime(producer)
    app.state.keyring = KeyRing(settings.api_keys)
    app.state.limiter = RedisRateLimiter(async_redis)
    app.state.audit = KafkaAuditTrail(producer)
    app.state.upstreams = upstreams
    app.state.upstream_health = UpstreamHealth(upstreams, settings.upstream_health_interval_s)
    async with app.state.upstream_health.running():
        yield
    await client.aclose()
    app.state.runtime.stop()
    await async_redis.aclose()
    sync_redis.close()


app = build_app(
    service=SERVICE,
    title="Prometeo gateway",
    lifespan=lifespan,
    routers=[
        recommendations.router,
        outcomes.router,
        features.router,
        kpis.router,
        levers.router,
        ingest.router,
        data_subject.router,
    ],
    checks={"redis": redis_check, "broker": broker_check, "upstreams": upstreams_check},
)
install_upstream_handlers(app)
app.middleware("http")(quota_headers)
app.middleware("http")(scrub_customer_ids)
