"""Assembles the feature-store app: lifespan (Redis, producer, consumer), routers, telemetry."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis
from fastapi import FastAPI

from feature_store.api import features
from feature_store.batch import PendingBatch
from feature_store.consumers.account_events import AccountEventsHandler
from feature_store.consumers.consent_events import ConsentEventsHandler
from feature_store.consumers.customer_erasure import CustomerErasureHandler
from feature_store.publisher import FeaturesPublisher
from feature_store.rebuild import rebuild_features
from feature_store.settings import get_settings
from feature_store.store import FeatureRepository
from prometeo import keys
from prometeo.bus import ConsumerLoop, EventProducer
from prometeo.bus.consumer import Handler
from prometeo.contracts import topics
from prometeo.keys import FEATURES
from prometeo.privacy.export import export_router
from prometeo.runtime import Runtime, broker_check, consumers_check, redis_check, settle_heap
from prometeo.telemetry.tracing import configure_tracing
from prometeo.views import ViewGuard, install_views_gate, views_check
from prometeo.web import build_app

SERVICE = "feature-store"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    configure_tracing(SERVICE)
    client = redis.Redis.from_url(settings.redis_url)
    repository = FeatureRepository(client, settings.processed_ttl_s, require_epoch=settings.views_rebuild)
    producer = EventProducer.for_service(settings, SERVICE)
    publisher = FeaturesPublisher(repository, producer)
    batch = PendingBatch(repository, publisher)
    guard = ViewGuard(
        client,
        FEATURES,
        lambda: rebuild_features(client, repository, settings.kafka_bootstrap_servers),
        interval_s=settings.views_check_interval_s,
    )
    handlers: dict[str, Handler] = {
        topics.ACCOUNT_EVENTS: AccountEventsHandler(batch),
        topics.CONSENT_EVENTS: ConsentEventsHandler(repository, batch),
        topics.CUSTOMER_ERASURE: CustomerErasureHandler(repository, batch),
    }
    on_batch_end = batch.end
    if settings.views_rebuild:
        handlers = {topic: guard.gate(handler) for topic, handler in handlers.items()}
        on_batch_end = guard.hook(batch.end)
    loop = ConsumerLoop(
        settings,
        settings.group_id,
        handlers,
        producer,
        on_batch_end=on_batch_end,
        batch_window_s=settings.batch_window_ms / 1000,
        batch_max_records=settings.batch_max_records,
    )
    app.state.redis, app.state.repository = client, repository
    app.state.views = guard if settings.views_rebuild else None
    app.state.runtime = Runtime(producer, [loop])
    if settings.views_rebuild:
        guard.start()
    app.state.runtime.start()
    settle_heap()
    yield
    app.state.runtime.stop()
    guard.stop()
    client.close()


app = build_app(
    service=SERVICE,
    title="Prometeo feature store",
    lifespan=lifespan,
    routers=[features.router, export_router(SERVICE, keys.FEATURES)],
    checks={"redis": redis_check, "broker": broker_check, "consumers": consumers_check, "views": views_check},
)
install_views_gate(app)
