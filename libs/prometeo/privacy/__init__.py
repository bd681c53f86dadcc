"""Privacy by law: sensitive categories, rules per jurisdiction, data-subject request deadlines and
the one factory for the internal HTTP clients that assemble a customer's export."""

from prometeo.privacy.jurisdictions import (
    DEFAULT_JURISDICTION,
    Jurisdiction,
    JurisdictionPolicy,
    policies,
    policy_for,
    sensitive_allowed,
)
from prometeo.privacy.sensitive import (
    SENSITIVE_MCCS,
    SensitiveCategory,
    is_sensitive_name,
    sensitive_category,
    sensitive_terms_in,
)

__all__ = [
    "DEFAULT_JURISDICTION",
    "SENSITIVE_MCCS",
    "Jurisdiction",
    "JurisdictionPolicy",
    "SensitiveCategory",
    "is_sensitive_name",
    "policies",
    "policy_for",
    "sensitive_allowed",
    "sensitive_category",
    "sensitive_terms_in",
]
