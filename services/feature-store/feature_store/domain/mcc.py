"""Merchant category code → spend category (ISO 18245 ranges, grouped for cross-sell signals)."""

from typing import Final

CATEGORIES: Final = (
    "groceries",
    "restaurants",
    "travel",
    "fuel",
    "health",
    "education",
    "sports",
    "home",
    "children",
    "entertainment",
    "utilities",
)

_EXACT: Final[dict[str, str]] = {
    "5411": "groceries",
    "5422": "groceries",
    "5441": "groceries",
    "5451": "groceries",
    "5499": "groceries",
    "5812": "restaurants",
    "5813": "restaurants",
    "5814": "restaurants",
    "4511": "travel",
    "4722": "travel",
    "7011": "travel",
    "4411": "travel",
    "4112": "travel",
    "7512": "travel",
    "5541": "fuel",
    "5542": "fuel",
    "5983": "fuel",
    "5912": "health",
    "8011": "health",
    "8021": "health",
    "8062": "health",
    "8099": "health",
    "8043": "health",
    "8211": "education",
    "8220": "education",
    "8241": "education",
    "8244": "education",
    "8299": "education",
    "5941": "sports",
    "7997": "sports",
    "7941": "sports",
    "5200": "home",
    "5211": "home",
    "5712": "home",
    "5722": "home",
    "6513": "home",
    "5641": "children",
    "5945": "children",
    "8351": "children",
    "7832": "entertainment",
    "7841": "entertainment",
    "7922": "entertainment",
    "7996": "entertainment",
    "5815": "entertainment",
    "5816": "entertainment",
    "4900": "utilities",
    "4814": "utilities",
    "4899": "utilities",
}
_RANGES: Final = ((3000, 3350, "travel"), (3351, 3500, "travel"), (3501, 3999, "travel"))


def category_for(mcc: str | None) -> str | None:
    if mcc is None:
        return None
    if hit := _EXACT.get(mcc):
        return hit
    code = int(mcc)
    for low, high, category in _RANGES:
        if low <= code <= high:
            return category
    return None


# Rent and property-management payments: with no payee text in the events, the MCC is the signal
# that housing payments (rent, or a mortgage paid by card/boleto to an administrator) began.
HOUSING_MCCS: Final = frozenset({"6513"})
