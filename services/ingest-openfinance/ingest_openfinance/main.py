"""Assembles the ingest app: lifespan (Redis, producer, consent-view consumer, expiry sweep), routers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis
from fastapi import FastAPI

from ingest_openfinance.api import belvo, brasil, consents, customers, events, marketing, uk
from ingest_openfinance.consumers.consent_events import ConsentEventsHandler
from ingest_openfinance.expiry import ExpirySweeper
from ingest_openfinance.rebuild import rebuild_consents
from ingest_openfinance.settings import get_settings
from ingest_openfinance.store import ConsentStore, DedupeWindow
from ingest_openfinance.usecases.consents import ConsentRegistration
from ingest_openfinance.usecases.data_subject import DataSubjectRequests
from ingest_openfinance.usecases.events import EventIngestion
from ingest_openfinance.usecases.marketing import MarketingRegistry
from prometeo.bus import ConsumerLoop, EventProducer
from prometeo.contracts import topics
from prometeo.keys import INGEST
from prometeo.privacy.export import export_router
from prometeo.runtime import Runtime, broker_check, consumers_check, redis_check, settle_heap
from prometeo.telemetry.tracing import configure_tracing
from prometeo.views import ViewGuard, install_views_gate, views_check
from prometeo.web import build_app

SERVICE = "ingest-openfinance"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    configure_tracing(SERVICE)
    client = redis.Redis.from_url(settings.redis_url)
    consent_store = ConsentStore(client)
    producer = EventProducer.for_service(settings, SERVICE)
    secret = settings.pseudonym_key.get_secret_value()
    data_subject = DataSubjectRequests(producer, consent_store, secret)
    consents = ConsentRegistration(producer, consent_store, secret, data_subject)
    guard = ViewGuard(
        client,
        INGEST,
        lambda: rebuild_consents(consent_store, settings.kafka_bootstrap_servers),
        interval_s=settings.views_check_interval_s,
    )
    handler = ConsentEventsHandler(consent_store)
    loop = ConsumerLoop(
        settings,
        settings.group_id,
        {topics.CONSENT_EVENTS: guard.gate(handler) if settings.views_rebuild else handler},
        producer,
    )
    sweeper = ExpirySweeper(consents, settings.expiry_sweep_interval_s)
    app.state.redis, app.state.consents, app.state.data_subject = client, consents, data_subject
    app.state.events = EventIngestion(producer, consent_store, DedupeWindow(client, settings.dedupe_window_s), secret)
    app.state.marketing = MarketingRegistry(producer, consent_store, secret)
    app.state.views = guard if settings.views_rebuild else None
    app.state.runtime = Runtime(producer, [loop])
    if settings.views_rebuild:
        guard.start()
    app.state.runtime.start()
    sweeper.start()
    settle_heap()
    yield
    sweeper.stop()
    app.state.runtime.stop()
    guard.stop()
    client.close()


app = build_app(
    service=SERVICE,
    title="Prometeo Open Finance ingestion",
    lifespan=lifespan,
    routers=[
        consents.router,
        customers.router,
        marketing.router,
        events.router,
        brasil.router,
        uk.router,
        belvo.router,
        export_router(SERVICE, INGEST),
    ],
    checks={"redis": redis_check, "broker": broker_check, "consumers": consumers_check, "views": views_check},
)
install_views_gate(app)
