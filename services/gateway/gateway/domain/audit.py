"""What an audited read records: which resource and for what declared purpose."""

from __future__ import annotations

from enum import StrEnum


class AuditedResource(StrEnum):
    RECOMMENDATIONS = "recommendations"
    FEATURES = "features"
    DATA_EXPORT = "data_export"


class ReadPurpose(StrEnum):
    """Declared by the caller in `X-Purpose`; defaults to cross-sell analytics, the consented purpose."""

    CROSS_SELL_ANALYTICS = "cross_sell_analytics"
    CUSTOMER_SERVICE = "customer_service"
    COMPLIANCE_REVIEW = "compliance_review"


DEFAULT_PURPOSE = ReadPurpose.CROSS_SELL_ANALYTICS
