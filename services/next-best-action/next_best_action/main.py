"""Assembles the next-best-action app: lifespan (Redis, policy, producer, consumers), routers, telemetry."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import redis
import redis.asyncio as aioredis
from fastapi import FastAPI
from kafka.errors import KafkaError

from next_best_action.api import levers, nba, permissions, policy
from next_best_action.consumers.account_events import AccountEventsHandler
from next_best_action.consumers.consent_events import ConsentEventsHandler
from next_best_action.consumers.customer_erasure import CustomerErasureHandler
from next_best_action.consumers.outcomes import OutcomesHandler
from next_best_action.consumers.scores import ScoresHandler
from next_best_action.moments import MomentRunner
from next_best_action.policy_source import PolicySource
from next_best_action.presented import AckedPresentations
from next_best_action.rebuild import rebuild_nba
from next_best_action.response_store import LeverStore, ResponseStore
from next_best_action.settings import get_settings
from next_best_action.store import NbaStore
from next_best_action.trigger_store import TriggerStore
from prometeo import keys
from prometeo.bus import TRANSIENT_ERRORS, ConsumerLoop, EventProducer
from prometeo.bus.consumer import Handler
from prometeo.contracts import topics
from prometeo.keys import NBA
from prometeo.privacy.export import export_router
from prometeo.runtime import Runtime, broker_check, consumers_check, redis_check, settle_heap
from prometeo.telemetry.tracing import configure_tracing
from prometeo.views import ViewGuard, install_views_gate, views_check
from prometeo.web import build_app

SERVICE = "next-best-action"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    configure_tracing(SERVICE)
    policies = PolicySource(settings.policy_path, settings.policy_check_interval_s)
    client = redis.Redis.from_url(settings.redis_url)
    aio_client = aioredis.Redis.from_url(settings.redis_url)
    store = NbaStore(
        client,
        processed_ttl_s=settings.processed_ttl_s,
        scores_ttl_s=settings.scores_ttl_s,
        contact_retention_days=settings.contact_retention_days,
        erased_ttl_s=settings.erased_ttl_s,
    )
    responses = ResponseStore(client, retention_s=settings.contact_retention_days * 24 * 3600)
    lever_store = LeverStore(client)
    # No linger: a presentation's request waits for its record's ack, and a 5 ms linger was most of that wait.
    # Stream-path records still batch while a request to the broker is in flight.
    producer = EventProducer.for_service(settings, SERVICE, linger_ms=0)
    triggers = TriggerStore(client)
    moments = MomentRunner(store, triggers, policies, producer)
    guard = ViewGuard(
        client,
        NBA,
        lambda: rebuild_nba(
            store,
            settings.kafka_bootstrap_servers,
            erased_ttl_s=settings.erased_ttl_s,
            contact_retention_s=settings.contact_retention_days * 24 * 3600,
        ),
        interval_s=settings.views_check_interval_s,
    )
    # Scores are decided a poll at a time: the handler buffers, the batch-end hook decides (before the commit).
    scores = ScoresHandler(store, policies, producer, lever_store, responses, moments)
    handlers: dict[str, Handler] = {
        topics.SCORES: scores,
        topics.CONSENT_EVENTS: ConsentEventsHandler(store),
        topics.ACCOUNT_EVENTS: AccountEventsHandler(store, triggers, policies, moments),
        topics.OUTCOMES: OutcomesHandler(store, responses, triggers),
        topics.CUSTOMER_ERASURE: CustomerErasureHandler(store),
    }
    if settings.views_rebuild:
        handlers = {topic: guard.gate(handler) for topic, handler in handlers.items()}
    loop = ConsumerLoop(
        settings,
        settings.group_id,
        handlers,
        producer,
        # A publish the broker did not acknowledge is retried, never dead-lettered.
        retryable=(*TRANSIENT_ERRORS, KafkaError),
        on_batch_end=_scores_end(scores, guard if settings.views_rebuild else None),
        # Most of account-events.v1 (bookings, balances) is nothing to this service: not decoded.
        acts_on={topics.ACCOUNT_EVENTS: AccountEventsHandler.EVENT_TYPES},
    )
    app.state.redis, app.state.store, app.state.policies = client, store, policies
    app.state.aio_redis = aio_client
    app.state.acked_presentations = AckedPresentations(ttl_s=settings.presentation_repeat_ttl_s)
    app.state.levers, app.state.responses = lever_store, responses
    app.state.views = guard if settings.views_rebuild else None
    app.state.runtime = Runtime(producer, [loop])
    if settings.views_rebuild:
        guard.start()
    app.state.runtime.start()
    settle_heap()  # a poll's decoded events are thousands of young containers: fewer collections
    yield
    app.state.runtime.stop()
    guard.stop()
    await aio_client.aclose()
    client.close()


def _scores_end(scores: ScoresHandler, guard: ViewGuard | None) -> Callable[[], None]:
    """The consumer loop's batch-end hook: decide the poll's scores (held back while the views are
    rebuilt); whatever stops it, nothing stays buffered, since the loop replays the poll."""
    end = guard.hook(scores.end) if guard is not None else scores.end

    def hook() -> None:
        try:
            end()
        except BaseException:
            scores.discard()
            raise

    return hook


app = build_app(
    service=SERVICE,
    title="Prometeo next best action",
    lifespan=lifespan,
    routers=[nba.router, permissions.router, policy.router, levers.router, export_router(SERVICE, keys.NBA)],
    checks={"redis": redis_check, "broker": broker_check, "consumers": consumers_check, "views": views_check},
)
install_views_gate(app)
