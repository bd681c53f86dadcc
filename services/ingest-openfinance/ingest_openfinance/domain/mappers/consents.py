"""A data-sharing consent as the source standards describe it, mapped to Prometeo's scopes and statuses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ingest_openfinance.domain.mappers.brasil_codes import CONSENT_REJECTION, CONSENT_STATUS
from prometeo.contracts.events import ConsentStatus, DataScope


@dataclass(frozen=True)
class ConsentUpsert:
    customer_id: str
    consent_id: str
    institution: str
    scopes: list[DataScope]
    status: ConsentStatus
    reason: str | None
    expires_at: datetime | None


# Open Finance Brasil has no REVOKED/EXPIRED status: both arrive as REJECTED with a reason code.
BRASIL_REJECTION = CONSENT_REJECTION
BRASIL_STATUS = CONSENT_STATUS

# UK v3.1 names and v4 ISO codes.
UK_STATUS: dict[str, ConsentStatus] = {
    "AwaitingAuthorisation": ConsentStatus.AWAITING_AUTHORISATION,
    "Authorised": ConsentStatus.AUTHORISED,
    "Rejected": ConsentStatus.REJECTED,
    "Revoked": ConsentStatus.REVOKED,
    "AWAU": ConsentStatus.AWAITING_AUTHORISATION,
    "AUTH": ConsentStatus.AUTHORISED,
    "RJCT": ConsentStatus.REJECTED,
    "EXPD": ConsentStatus.EXPIRED,
    "CANC": ConsentStatus.REVOKED,
}


# Permissions that grant nothing Prometeo reads: the list of shared resources, FX operations, insurance.
BRASIL_PERMISSIONS_UNUSED = frozenset({"RESOURCES_READ", "EXCHANGES_READ"})


def brasil_scopes(permissions: list[str]) -> list[DataScope]:
    """Permission families → data scopes. RESOURCES_READ and EXCHANGES_READ map to nothing we use."""
    scopes: set[DataScope] = set()
    for p in permissions:
        if p in ("ACCOUNTS_READ", "ACCOUNTS_OVERDRAFT_LIMITS_READ"):
            scopes.add(DataScope.ACCOUNTS)
        elif p == "ACCOUNTS_BALANCES_READ":
            scopes.add(DataScope.BALANCES)
        elif p == "ACCOUNTS_TRANSACTIONS_READ":
            scopes.add(DataScope.TRANSACTIONS)
        elif p.startswith("CREDIT_CARDS_ACCOUNTS"):
            scopes.add(DataScope.CREDIT_CARDS)
            # Card transactions are canonical transaction events, gated by the transactions scope.
            if "TRANSACTIONS" in p:
                scopes.add(DataScope.TRANSACTIONS)
        elif p.startswith(("LOANS_", "FINANCINGS_", "INVOICE_FINANCINGS_", "UNARRANGED_ACCOUNTS_OVERDRAFT_")):
            scopes.add(DataScope.LOANS)
        elif p in (
            "BANK_FIXED_INCOMES_READ",
            "CREDIT_FIXED_INCOMES_READ",
            "FUNDS_READ",
            "VARIABLE_INCOMES_READ",
            "TREASURE_TITLES_READ",
        ):
            scopes.add(DataScope.INVESTMENTS)
        elif p.startswith("CUSTOMERS_"):
            scopes.add(DataScope.CUSTOMERS)
    return sorted(scopes)


def uk_scopes(permissions: list[str]) -> list[DataScope]:
    scopes: set[DataScope] = set()
    for p in permissions:
        if p in ("ReadAccountsBasic", "ReadAccountsDetail"):
            # UK accounts cover every sub-type: cards, loans and mortgages are accounts too.
            scopes.update((DataScope.ACCOUNTS, DataScope.CREDIT_CARDS, DataScope.LOANS))
        elif p == "ReadBalances":
            scopes.add(DataScope.BALANCES)
        elif p.startswith("ReadTransactions"):
            scopes.add(DataScope.TRANSACTIONS)
    return sorted(scopes)
