"""Metric names, declared once. Each service process exports them on /metrics."""

from functools import lru_cache
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

CONSUMER_MESSAGES = Counter(
    "prometeo_consumer_messages_total",
    "Messages seen by a consumer, by outcome (consumed, processed, duplicate, failed, dead_lettered).",
    ["group", "topic", "outcome"],
)
CONSUMER_LAG = Gauge(
    "prometeo_consumer_lag", "Messages behind the partition's high-water mark.", ["group", "topic", "partition"]
)
CONSUMER_PROCESSING_SECONDS = Histogram(
    "prometeo_consumer_processing_seconds",
    "Time to handle one message.",
    ["group", "topic"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0),
)
EVENTS_PUBLISHED = Counter("prometeo_events_published_total", "Events published to Kafka.", ["topic", "type"])
HTTP_REQUESTS = Counter(
    "prometeo_http_requests_total", "HTTP requests served.", ["service", "route", "method", "status"]
)
HTTP_SECONDS = Histogram(
    "prometeo_http_request_seconds",
    "HTTP request latency.",
    ["service", "route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
# Business and domain metrics, declared here so dashboards name only what exists.
INGEST_ITEMS = Counter(
    "prometeo_ingest_items_total",
    "Ingested items by result (accepted, duplicate, refused_no_consent, invalid).",
    ["result"],
)
FEATURE_UPDATES = Counter("prometeo_feature_updates_total", "Feature aggregates applied.", ["event_type"])
MODEL_SCORE_SECONDS = Histogram(
    "prometeo_model_score_seconds",
    "Time to score one customer across all products, with reasons.",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1),
)
MODEL_INFO = Gauge("prometeo_model_info", "Loaded model version (value 1).", ["model", "alias", "version"])
OFFERS_DECIDED = Counter(
    "prometeo_offers_decided_total", "Next-best-action decisions by result.", ["result", "product", "channel"]
)
OUTCOMES_RECORDED = Counter("prometeo_outcomes_total", "Offer outcomes recorded.", ["outcome", "product", "channel"])
ERASURES = Counter("prometeo_erasures_total", "Customer erasures applied.", ["service"])
AUDIT_READS = Counter("prometeo_audit_reads_total", "Audited reads of customer data.", ["resource"])
GATEWAY_REJECTIONS = Counter(
    "prometeo_gateway_rejections_total",
    "Requests the gateway refused before any upstream call (unauthenticated, forbidden, rate_limited).",
    ["reason"],
)
GATEWAY_INSIDER_BLOCKS = Counter(
    "prometeo_gateway_insider_blocks_total",
    "People stopped by the gateway's insider-threat guard, by rule (read_volume, out_of_hours).",
    ["rule"],
)
GATEWAY_UPSTREAM_REQUESTS = Counter(
    "prometeo_gateway_upstream_requests_total",
    "Gateway calls to internal services by outcome (ok, rejected, failed, unreachable, timeout).",
    ["upstream", "outcome"],
)
# campaigns: delivery results and KPI gauges refreshed from the shared (idempotent) Redis counters.
DELIVERIES = Counter(
    "prometeo_deliveries_total", "Offer deliveries by channel adapter and result.", ["adapter", "result"]
)
CAMPAIGN_KPI = Gauge(
    "prometeo_campaign_kpi",
    "Campaign KPIs (offers_made, contacts, acceptance_rate, revenue_accepted_brl, outcomes_<kind>…).",
    ["kpi"],
)
CAMPAIGN_CONVERSION = Gauge(
    "prometeo_campaign_conversion_rate", "Accepted over offers made, by product or channel.", ["dimension", "value"]
)
# campaigns: channel circuit breakers, the durable schedule (parked deliveries, sequence timers).
CHANNEL_BREAKER_OPEN = Gauge(
    "prometeo_channel_breaker_open", "1 while a channel adapter's circuit breaker is open or half-open.", ["adapter"]
)
CAMPAIGN_JOBS = Counter(
    "prometeo_campaign_jobs_total",
    "Scheduled campaign jobs run (delivery retries, sequence steps and timers) by result.",
    ["kind", "result"],
)
# Models watched in production (issue 18): which version served, how it performed once live, drift.
SCORES_SERVED = Counter(
    "prometeo_scores_served_total", "Customers scored, by the alias and version that served them.", ["alias", "version"]
)
MODEL_REALISED_AUC = Gauge(
    "prometeo_model_realised_auc", "AUC of the version's propensities against offer acceptances.", ["model_version"]
)
MODEL_REALISED_ECE = Gauge(
    "prometeo_model_realised_ece",
    "Expected calibration error of the version's propensities against offer acceptances.",
    ["model_version"],
)
MODEL_REALISED_ACCEPTANCE = Gauge(
    "prometeo_model_realised_acceptance_rate", "Accepted over sent offers decided on the version.", ["model_version"]
)
MODEL_OUTCOMES = Gauge(
    "prometeo_model_outcomes", "Offers sent that were decided on the version (the measures' sample).", ["model_version"]
)
FEATURE_PSI = Gauge(
    "prometeo_feature_psi",
    "Population stability index of a served feature against the model's training snapshot.",
    ["model_version", "feature"],
)
SCORE_PSI = Gauge(
    "prometeo_score_psi",
    "Population stability index of served propensities against the training snapshot's, per product.",
    ["model_version", "product"],
)
DRIFT_SAMPLE = Gauge(
    "prometeo_drift_sample_size", "Customers scored since the version loaded (the PSI's sample).", ["model_version"]
)
TRIGGERS = Counter(
    "prometeo_triggers_total",
    "Moments that matter by trigger and result (acted, duplicate, or the rule that blocked the action).",
    ["trigger", "result"],
)


@lru_cache(maxsize=4096)
def child(metric: Any, *labels: str) -> Any:
    """`metric.labels(*labels)`, looked up once: `labels()` validates, converts and takes a lock on every
    call, several times per request on the hot routes. Bounded (label values are route templates, statuses,
    upstream names and outcomes); no metric here is ever cleared, so a child stays the metric's."""
    return metric.labels(*labels)
