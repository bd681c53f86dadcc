"""Assembles the scoring app: lifespan (model watcher, producer, consumer), routers, telemetry."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from threadpoolctl import threadpool_limits

from prometeo.bus import ConsumerLoop, EventProducer
from prometeo.contracts import topics
from prometeo.privacy.export import export_router
from prometeo.runtime import Runtime, broker_check, consumers_check, settle_heap
from prometeo.telemetry.tracing import configure_tracing
from prometeo.web import build_app
from scoring.api import model, score
from scoring.consumers.features_updated import FeaturesUpdatedHandler
from scoring.models import ModelHolder, ModelWatcher, RegistryLoader
from scoring.settings import get_settings

SERVICE = "scoring"
# Scoring keeps nothing per customer: each score goes out on scores.v1 and next-best-action keeps the latest.
_EXPORT_NOTE = (
    "scoring keeps no per-customer state; the latest scores, with model versions, are in next-best-action's part"
)


def model_check(app: FastAPI) -> tuple[bool, str]:
    settings = get_settings()
    loaded = app.state.models.get(settings.model_alias)
    if loaded is None:
        error = app.state.watcher.last_error
        return False, f"waiting for {settings.model_name}@{settings.model_alias}" + (f" ({error})" if error else "")
    return True, f"{loaded.name} v{loaded.version}"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    configure_tracing(SERVICE)
    # One OpenMP thread per predict: a scikit-learn predict parallelised over the cores spin-waits at its
    # barriers when other processes hold them (always, beside the other services): 46 ms per tree call
    # and 100 ms per scored event on two busy cores, against 3-7 ms single-threaded.
    threadpool_limits(1)
    models = ModelHolder()
    watcher = ModelWatcher(
        RegistryLoader(settings.mlflow_tracking_uri, settings.model_name),
        models,
        [settings.model_alias, settings.challenger_alias],
        settings.reload_interval_s,
        settings.load_retry_s,
    )
    producer = EventProducer.for_service(settings, SERVICE)
    features_updated = FeaturesUpdatedHandler(
        models,
        producer,
        settings.model_alias,
        settings.reasons_per_product,
        challenger_alias=settings.challenger_alias,
        challenger_share=settings.challenger_share,
    )
    loop = ConsumerLoop(
        settings,
        settings.group_id,
        {topics.FEATURES_UPDATED: features_updated},
        producer,
        on_batch_end=features_updated.flush,
    )
    app.state.models, app.state.watcher = models, watcher
    app.state.runtime = Runtime(producer, [loop])
    watcher.start()
    app.state.runtime.start()
    settle_heap()  # a poll's decoded events are thousands of young containers: fewer collections
    yield
    app.state.runtime.stop()
    watcher.stop()


app = build_app(
    service=SERVICE,
    title="Prometeo scoring",
    lifespan=lifespan,
    routers=[score.router, model.router, export_router(SERVICE, None, note=_EXPORT_NOTE)],
    checks={"model": model_check, "broker": broker_check, "consumers": consumers_check},
)
