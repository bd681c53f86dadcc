"""Prometheus view of the KPIs. Gauges mirror the Redis counters, which are idempotent and shared by
every replica, so a restart or a second pod never skews what dashboards show."""

from __future__ import annotations

from campaigns.domain.kpis import KpiSummary
from campaigns.store import CampaignStore
from prometeo import clock
from prometeo.telemetry.metrics import CAMPAIGN_CONVERSION, CAMPAIGN_KPI


def export(summary: KpiSummary) -> None:
    for name in (
        "decisions",
        "no_action",
        "offers_made",
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
