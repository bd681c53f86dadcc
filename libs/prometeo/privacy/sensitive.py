"""Sensitive merchant categories (LGPD art. 11, Ley 1581 art. 5, LFPDPPP art. 3 VI, Ley 25.326 art. 2):
spending at these merchants reveals health, religious belief, political opinion or trade-union
membership. They never become features, reason texts, generated messages or audience rules unless a
jurisdiction's policy and an explicit consent for the `sensitive_data` purpose allow it
(`prometeo.privacy.jurisdictions.sensitive_allowed`); no policy allows it today.

`SENSITIVE_TERMS` are the words (es, pt, en) that would reveal such a category in text: the
privacy tests scan feature definitions, reason texts and every generated message for them.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final


class SensitiveCategory(StrEnum):
    HEALTH = "health"
    RELIGIOUS = "religious"
    POLITICAL = "political"
    TRADE_UNION = "trade_union"


SENSITIVE_MCCS: Final[dict[str, SensitiveCategory]] = {
    # Health: doctors, dentists, osteopaths, chiropractors, optometrists, opticians, podiatrists,
    # other practitioners, hospitals, labs, medical services, drug stores, drugs wholesale.
    **dict.fromkeys(
        (
            "8011",
            "8021",
            "8031",
            "8041",
            "8042",
            "8043",
            "8049",
            "8050",
            "8062",
            "8071",
            "8099",
            "5912",
            "5122",
            "5975",
            "5976",
        ),
        SensitiveCategory.HEALTH,
    ),
    "8661": SensitiveCategory.RELIGIOUS,  # religious organisations
    "8651": SensitiveCategory.POLITICAL,  # political organisations
    "8641": SensitiveCategory.TRADE_UNION,  # civic, social and fraternal associations (incl. unions)
    "8699": SensitiveCategory.TRADE_UNION,  # membership organisations not elsewhere classified
}

# Words that name a sensitive category (lower case, matched as whole-word prefixes).
SENSITIVE_TERMS: Final[tuple[str, ...]] = (
    "health",
    "salud",
    "saúde",
    "saude",
    "pharmac",
    "farmac",
    "farmác",
    "drogar",
    "hospital",
    "clínic",
    "clinic",
    "médic",
    "medic",
    "doctor",
    "dentist",
    "religi",
    "iglesia",
    "igreja",
    "church",
    "polític",
    "politic",
    "partido",
    "sindica",
    "union",
)
_TERMS = re.compile(r"\b(" + "|".join(re.escape(t) for t in SENSITIVE_TERMS) + r")", re.IGNORECASE)


def sensitive_category(mcc: str | None) -> SensitiveCategory | None:
    return SENSITIVE_MCCS.get(mcc) if mcc else None


def is_sensitive_name(name: str) -> bool:
    """A feature or rule name built on a sensitive category (`spend_health_30d`, `religious_…`)."""
    lowered = name.lower()
    return any(c.value in lowered for c in SensitiveCategory) or bool(_TERMS.search(lowered.replace("_", " ")))


def sensitive_terms_in(text: str) -> list[str]:
    """The sensitive words a text contains (empty when it reveals none)."""
    return sorted({m.group(0).lower() for m in _TERMS.finditer(text)})
