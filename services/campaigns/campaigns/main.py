"""Assembles the campaigns app: lifespan (Redis, channel adapter, producer, consumers), routers, telemetry."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import redis
from fastapi import FastAPI
from kafka.errors import KafkaError

from campaigns.adapters import build_adapter
from campaigns.api import campaigns, experiments, kpis, offers, outcomes
from campaigns.consumers.consent_events import ConsentEventsHandler
from campaigns.consumers.customer_erasure import CustomerErasureHandler
from campaigns.consumers.offers import OffersHandler
from campaigns.consumers.outcomes import OutcomesHandler
from campaigns.consumers.scores import ScoresHandler
from campaigns.delivery import Deliverer, acked_publisher
from campaigns.kpi_gauges import GaugeRefresher
from campaigns.rebuild import rebuild_campaigns
from campaigns.schedule import Deferred, Job, JobKind, Schedule
from campaigns.scheduler import Scheduler
from campaigns.sequence_store import SequenceStore
from campaigns.sequences import SequenceRunner
from campaigns.settings import get_settings
from campaigns.store import CampaignStore
from prometeo import clock, keys
from prometeo.bus import TRANSIENT_ERRORS, ConsumerLoop, EventProducer
from prometeo.bus.consumer import Handler
from prometeo.contracts import topics
from prometeo.permissions import MarketingPermissions
from prometeo.privacy.export import export_router
from prometeo.runtime import Runtime, broker_check, consumers_check, redis_check
from prometeo.telemetry.tracing import configure_tracing
from prometeo.views import ViewGuard, install_views_gate, views_check
from prometeo.web import build_app

SERVICE = "campaigns"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    configure_tracing(SERVICE)
    client = redis.Redis.from_url(settings.redis_url)
    store = CampaignStore(client, processed_ttl_s=settings.processed_ttl_s, offers_ttl_s=settings.offers_ttl_s)
    adapter = build_adapter(settings, client)
    schedule = Schedule(client)
    sequences = SequenceStore(client, ttl_s=settings.offers_ttl_s)
    producer = EventProducer.for_service(settings, SERVICE)
    permissions = MarketingPermissions(client, keys.CAMPAIGNS)
    deliverer = Deliverer(
        store,
        adapter,
        publish=acked_publisher(producer, topics.OUTCOMES, settings.publish_timeout_s),
    )
    runner = SequenceRunner(
        store,
        sequences,
        schedule,
        deliverer,
        day_s=settings.sequence_day_s,
        permissions=permissions,
        quiet_hours=settings.quiet_hours,
        definitions_refresh_s=settings.definitions_refresh_s,
        hold_s=settings.paused_recheck_s,
        permission_wait_s=settings.permission_wait_s,
    )
    offers_handler = OffersHandler(
        store,
        deliverer,
        settings.campaign_id,
        settings.control_share,
        schedule=schedule,
        park_s=settings.retry_backoff_s,
        permissions=permissions,
    )
    guard = ViewGuard(
        client,
        keys.CAMPAIGNS,
        lambda: rebuild_campaigns(store, permissions, settings.kafka_bootstrap_servers),
        interval_s=settings.views_check_interval_s,
    )
    handlers: dict[str, Handler] = {
        topics.OFFERS: offers_handler,
        topics.OUTCOMES: OutcomesHandler(store, runner),
        topics.SCORES: ScoresHandler(store, runner),
        topics.CONSENT_EVENTS: ConsentEventsHandler(store, permissions),
        topics.CUSTOMER_ERASURE: CustomerErasureHandler(store),
    }
    on_batch_end: Callable[[], None] = GaugeRefresher(store)
    jobs: dict[JobKind, Callable[[Job], None]] = {
        "deliver": offers_handler.retry_delivery,
        "step": runner.run_step,
        "timer": runner.on_timer,
    }
    if settings.views_rebuild:
        handlers = {topic: guard.gate(handler) for topic, handler in handlers.items()}
        on_batch_end = guard.hook(on_batch_end)
        jobs = {kind: _held(guard, job) for kind, job in jobs.items()}
    loop = ConsumerLoop(
        settings,
        settings.group_id,
        handlers,
        producer,
        # A publish the broker did not acknowledge is retried, never dead-lettered.
        retryable=(*TRANSIENT_ERRORS, KafkaError),
        on_batch_end=on_batch_end,
    )
    scheduler = Scheduler(
        schedule,
        jobs,
        interval_s=settings.scheduler_interval_s,
        lease_s=settings.scheduler_lease_s,
        retry_backoff_s=settings.retry_backoff_s,
        retry_backoff_max_s=settings.retry_backoff_max_s,
    )
    app.state.redis, app.state.store, app.state.adapter = client, store, adapter
    app.state.schedule, app.state.scheduler, app.state.sequences = schedule, scheduler, sequences
    app.state.runner, app.state.permissions = runner, permissions
    app.state.views = guard if settings.views_rebuild else None
    app.state.runtime = Runtime(producer, [loop])
    if settings.views_rebuild:
        guard.start()
    app.state.runtime.start()
    scheduler.start()
    yield
    scheduler.stop()
    app.state.runtime.stop()
    guard.stop()
    client.close()


def _held(guard: ViewGuard, job: Callable[[Job], None]) -> Callable[[Job], None]:
    """A scheduled step waits while the permission view is rebuilt (no attempt counted): an empty
    view would suppress it as "no permission"."""

    def held(item: Job) -> None:
        if not guard.serving:
            raise Deferred(clock.timestamp() + 1.0, "views rebuilding")
        job(item)

    return held


def adapter_check(app: FastAPI) -> tuple[bool, str]:
    # A provider that is down does not make the service unready: its deliveries are parked and
    # retried. The detail still says which provider is failing.
    ok, detail = app.state.adapter.health()
    return True, detail if ok else f"degraded: {detail}"


def scheduler_check(app: FastAPI) -> tuple[bool, str]:
    scheduler: Scheduler = app.state.scheduler
    if not scheduler.alive:
        return False, "scheduler thread stopped"
    return scheduler.last_error is None, scheduler.last_error or "running"


app = build_app(
    service=SERVICE,
    title="Prometeo campaigns",
    lifespan=lifespan,
    routers=[
        campaigns.router,
        outcomes.router,
        kpis.router,
        offers.router,
        experiments.router,
        export_router(SERVICE, keys.CAMPAIGNS),
    ],
    checks={
        "redis": redis_check,
        "broker": broker_check,
        "consumers": consumers_check,
        "channel": adapter_check,
        "scheduler": scheduler_check,
        "views": views_check,
    },
)
install_views_gate(app)
