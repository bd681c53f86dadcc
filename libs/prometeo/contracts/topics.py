"""Topic names: the one place they are spelled. Dead letters live at `<topic>.dlq`."""

from typing import Final

ACCOUNT_EVENTS: Final = "account-events.v1"
CONSENT_EVENTS: Final = "consent-events.v1"  # compacted, keyed by customer_key
CUSTOMER_ERASURE: Final = "customer-erasure.v1"  # compacted, keyed by customer_key: kept for every rebuild
FEATURES_UPDATED: Final = "features-updated.v1"
SCORES: Final = "scores.v1"
OFFERS: Final = "offers.v1"
OUTCOMES: Final = "outcomes.v1"
AUDIT: Final = "audit.v1"

ALL_TOPICS: Final = (
    ACCOUNT_EVENTS,
    CONSENT_EVENTS,
    CUSTOMER_ERASURE,
    FEATURES_UPDATED,
    SCORES,
    OFFERS,
    OUTCOMES,
    AUDIT,
)

# Compaction keeps the latest record per key for ever: the consent views and every customer's latest
# erasure can always be rebuilt from them (prometeo.views), whatever Redis lost.
COMPACTED_TOPICS: Final = frozenset({CONSENT_EVENTS, CUSTOMER_ERASURE})


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


PARTITIONS: Final = 3
_DAY_MS: Final = 24 * 3600 * 1000
# Retention of each topic (docs/topics.md gives the reasons); dead letters keep 30 days.
RETENTION_MS: Final = {
    ACCOUNT_EVENTS: 130 * _DAY_MS,
    CONSENT_EVENTS: -1,  # compacted: the latest state of every consent is kept forever
    CUSTOMER_ERASURE: 30 * _DAY_MS,
    FEATURES_UPDATED: 7 * _DAY_MS,
    SCORES: 7 * _DAY_MS,
    OFFERS: 30 * _DAY_MS,
    OUTCOMES: 90 * _DAY_MS,
    AUDIT: 365 * _DAY_MS,
}
DEAD_LETTER_RETENTION_MS: Final = 30 * _DAY_MS


def topic_config(topic: str) -> dict[str, str]:
    """The broker configuration a topic (or its `.dlq`) is created with and checked against at start."""
    origin = topic.removesuffix(".dlq")
    if topic != origin:
        return {"cleanup.policy": "delete", "retention.ms": str(DEAD_LETTER_RETENTION_MS)}
    policy = "compact" if topic in COMPACTED_TOPICS else "delete"
    return {"cleanup.policy": policy, "retention.ms": str(RETENTION_MS.get(topic, 7 * _DAY_MS))}
