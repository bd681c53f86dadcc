"""Prometheus view of the KPIs. Gauges mirror the Redis counters, which are idempotent and shared by
every replica, so a restart or a second pod never skews what dashboards show."""

from __future__ import annotations

from campaigns.domain.kpis import KpiSummary
from campaigns.store import CampaignStore
from prometeo import clock
from prometeo.model_quality import Quality
from prometeo.telemetry.metrics import (
    CAMPAIGN_CONVERSION,
    CAMPAIGN_KPI,
    MODEL_OUTCOMES,
    MODEL_REALISED_ACCEPTANCE,
    MODEL_REALISED_AUC,
    MODEL_REALISED_ECE,
)


def export(summary: KpiSummary) -> None:
    for name in (
        "decisions",
        "no_action",
        "offers_made",
        "actions_triggered",
        "contacts",
        "contact_rate",
        "delivery_failures",
        "holdout",
        "acceptance_rate",
        "customers_known",
        "products_per_customer",
        "multi_product_customers",
        "advisor_tasks",
        "advisor_adherence",
    ):
        CAMPAIGN_KPI.labels(name).set(float(getattr(summary, name)))
    CAMPAIGN_KPI.labels("revenue_accepted_brl").set(float(summary.revenue_accepted_brl))
    for kind, count in summary.outcomes.items():
        CAMPAIGN_KPI.labels(f"outcomes_{kind}").set(count)
    for dimension, segments in (
        ("product", summary.by_product),
        ("channel", summary.by_channel),
        ("segment", summary.by_segment),
        ("campaign", summary.by_campaign),
    ):
        for value, segment in segments.items():
            CAMPAIGN_CONVERSION.labels(dimension, value).set(segment.conversion_rate)


def export_quality(qualities: list[Quality]) -> None:
    for q in qualities:
        MODEL_OUTCOMES.labels(q.version).set(q.sent)
        MODEL_REALISED_ACCEPTANCE.labels(q.version).set(q.acceptance_rate)
        MODEL_REALISED_AUC.labels(q.version).set(q.auc)
        MODEL_REALISED_ECE.labels(q.version).set(q.ece)


class GaugeRefresher:
    """Called after each consumer batch; refreshes at most once per interval."""

    def __init__(self, store: CampaignStore, interval_s: float = 2.0) -> None:
        self._store = store
        self._interval_s = interval_s
        self._last = 0.0

    def __call__(self) -> None:
        now = clock.monotonic()
        if now - self._last >= self._interval_s:
            self._last = now
            export(self._store.kpis())
            export_quality(self._store.qualities())
