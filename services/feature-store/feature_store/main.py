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
from feature_store.settings import get_settings
from feature_store.store import FeatureRepository
from prometeo import keys
from prometeo.bus import ConsumerLoop, EventProducer
from prometeo.contracts import topics
from prometeo.privacy.export import export_router
from prometeo.runtime import Runtime, broker_check, consumers_check, redis_check
from prometeo.telemetry.tracing import configure_tracing
from prometeo.web import build_app

SERVICE = "feature-store"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    configure_tracing(SERVICE)
    client = redis.Redis.from_url(settings.redis_url)
    repository = FeatureRepository(client, settings.processed_ttl_s)
    producer = EventProducer.for_service(settings, SERVICE)
    publisher = FeaturesPublisher(repository, producer)
    batch = PendingBatch(repository, publisher)
    loop = ConsumerLoop(
        settings,
        settings.group_id,
        {
            topics.ACCOUNT_EVENTS: AccountEventsHandler(batch),
            topics.CONSENT_EVENTS: ConsentEventsHandler(repository, batch),
            topics.CUSTOMER_ERASURE: CustomerErasureHandler(repository, batch),
        },
        producer,
        on_batch_end=batch.end,
    )
    app.state.redis, app.state.repository = client, repository
    app.state.runtime = Runtime(producer, [loop])
    app.state.runtime.start()
    yield
    app.state.runtime.stop()
    client.close()


app = build_app(
    service=SERVICE,
    title="Prometeo feature store",
    lifespan=lifespan,
    routers=[features.router, export_router(SERVICE, keys.FEATURES)],
    checks={"redis": redis_check, "broker": broker_check, "consumers": consumers_check},
)
