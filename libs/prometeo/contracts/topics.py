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
