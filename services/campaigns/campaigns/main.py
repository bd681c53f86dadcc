"""Assembles the campaigns app: lifespan (Redis, channel adapter, producer, consumers), routers, telemetry."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis
from fastapi import FastAPI
from kafka.errors import KafkaError

from prometeo.bus import ConsumerLoop, EventProducer, RetryableError
from prometeo.contracts import topics
from prometeo.runtime import Runtime, broker_check, consumers_check, redis_check
from prometeo.telemetry.tracing import configure_tracing
from prometeo.web import build_app

from campaigns.adapters import build_adapter
from campaigns.api import experiments, kpis, offers, outcomes
from campaigns.consumers.customer_erasure import CustomerErasureHandler
from campaigns.consumers.offers import OffersHandler
from campaigns.consumers.outcomes import OutcomesHandler
from campaigns.kpi_gauges import GaugeRefresher
from campaigns.settings import get_settings
from campaigns.store import CampaignStore

SERVICE = "campaigns"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    configure_tracing(SERVICE)
    client = redis.Redis.from_url(settings.redis_url)
    store = CampaignStore(client, processed_ttl_s=settings.processed_ttl_s, offers_ttl_s=settings.offers_ttl_s)
    adapter = build_adapter(settings, client)
    producer = EventProducer(settings.kafka_bootstrap_servers, SERVICE)
    loop = ConsumerLoop(
        settings,
        settings.group_id,
        {
            topics.OFFERS: OffersHandler(store, adapter, producer, settings.publish_timeout_s,
                                         settings.campaign_id, settings.control_share),
            topics.OUTCOMES: OutcomesHandler(store),
            topics.CUSTOMER_ERASURE: CustomerErasureHandler(store),
        },
        producer,
        retryable=(RetryableError, redis.ConnectionError, redis.TimeoutError, KafkaError,
                   ConnectionError, TimeoutError),
        on_batch_end=GaugeRefresher(store),
    )
    app.state.redis, app.state.store, app.state.adapter = client, store, adapter
    app.state.runtime = Runtime(producer, [loop])
    app.state.runtime.start()
    yield
    app.state.runtime.stop()
    client.close()


def adapter_check(app: FastAPI) -> tuple[bool, str]:
    return app.state.adapter.health()


app = build_app(
    service=SERVICE,
    title="Prometeo campaigns",
    lifespan=lifespan,
    routers=[outcomes.router, kpis.router, offers.router, experiments.router],
    checks={"redis": redis_check, "broker": broker_check, "consumers": consumers_check, "channel": adapter_check},
)
