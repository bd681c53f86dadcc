"""Merchant category code → spend category (ISO 18245 ranges, grouped for cross-sell signals).

Sensitive merchant categories (health, religious, political, trade-union: prometeo.privacy.sensitive)
map to no category at all: their spend counts in the totals (`spend`, `outflow`) but never becomes a
feature of its own, so no reason, message or audience rule can name it. No jurisdiction's policy allows
them today (`prometeo.privacy.sensitive_allowed`); one that did would need a feature set of its own.
"""

from typing import Final

from prometeo.contracts.events import Direction, TransactionKind
from prometeo.privacy.sensitive import sensitive_category

CATEGORIES: Final = (
    "groceries",
    "restaurants",
    "travel",
    "fuel",
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
    if mcc is None or sensitive_category(mcc) is not None:
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


# ---- what a classified movement adds to the day buckets ------------------------------------------
# Kinds that are not spend even when they carry an MCC (card fees and credit charges arrive with the
# issuer's own MCC, e.g. 4900, and would otherwise count as "utilities").
_UNCATEGORISED: Final = frozenset(
    {TransactionKind.FEE, TransactionKind.INTEREST, TransactionKind.CREDIT_OPERATION, TransactionKind.CARD}
)
# Neither income nor outflow: cashback is a rebate, a bill payment settles card spend already counted.
_NOT_CASH_FLOW: Final = frozenset({TransactionKind.CASHBACK, TransactionKind.BILL_PAYMENT})
# Each of these is a flow of its own (`flow_<kind>`), beside inflow/outflow, for later features.
_FLOWS: Final = frozenset(TransactionKind) - {TransactionKind.PURCHASE, TransactionKind.REVERSAL}


def transaction_metrics(
    direction: Direction, kind: TransactionKind | None, mcc: str | None, is_payroll: bool
) -> list[tuple[str, int]]:
    """(metric, sign) pairs one booking adds its amount to. A reversal subtracts from the spend it
    cancels (same MCC category); unclassified events (`kind` None) keep the direction/MCC rules."""
    if kind is TransactionKind.REVERSAL:
        out = [("outflow", -1), ("spend", -1)]
        if category := category_for(mcc):
            out.append((f"spend_{category}", -1))
        if mcc in HOUSING_MCCS:
            out.append(("housing", -1))
        return out
    if kind in _NOT_CASH_FLOW:
        return [(f"flow_{kind}", 1)]
    out = []
    if kind in _FLOWS:
        out.append((f"flow_{kind}", 1))
    if direction is Direction.CREDIT:
        out.append(("inflow", 1))
        if is_payroll:
            out.append(("salary", 1))
        return out
    out.append(("outflow", 1))
    if kind is TransactionKind.PURCHASE:
        out.append(("spend", 1))
    if kind not in _UNCATEGORISED:
        if category := category_for(mcc):
            out.append((f"spend_{category}", 1))
        if mcc in HOUSING_MCCS:
            out.append(("housing", 1))
    return out
