"""UK Open Banking bank transaction codes and Belvo categories → what a movement is (`TransactionKind`).

UK Read/Write v3.1 `BankTransactionCode` carries the ISO 20022 family (`Code`) and sub-family (`SubCode`);
the sub-family says what happened. Both the ISO four-letter codes and the long names the UK examples use
are named. `ProprietaryBankTransactionCode` is each bank's own vocabulary and is read only for payroll.
A code or category not named here is refused per item with that reason, never guessed at.
"""

from __future__ import annotations

from typing import Final

from prometeo.contracts.events import TransactionKind

K = TransactionKind

UK_SUBFAMILIES: Final[dict[str, TransactionKind]] = {
    # card and cash
    "POSD": K.PURCHASE,  # point-of-sale payment, debit card
    "POSC": K.PURCHASE,  # credit card payment
    "SMRT": K.PURCHASE,  # smart-card payment
    "CWDL": K.WITHDRAWAL,
    "CDPT": K.DEPOSIT,
    # transfers, orders, debits
    "DMCT": K.TRANSFER,
    "ESCT": K.TRANSFER,
    "XBCT": K.TRANSFER,
    "BOOK": K.TRANSFER,  # internal book transfer
    "STDO": K.TRANSFER,
    "PMDD": K.UTILITY_COLLECTION,  # direct debit: bills collected by the payee
    "ESDD": K.UTILITY_COLLECTION,
    "SALA": K.PAYROLL,
    "PRCT": K.TRANSFER,  # priority credit transfer
    # reversals cancel what they reverse
    "RRTN": K.REVERSAL,
    "RPCR": K.REVERSAL,
    "RCDD": K.REVERSAL,  # reversal due to payment cancellation (direct debit)
    # charges and interest
    "CHRG": K.FEE,
    "FEES": K.FEE,
    "COMM": K.FEE,
    "INTR": K.INTEREST,
    "CAJT": K.OTHER,  # credit adjustment
    "DAJT": K.OTHER,  # debit adjustment
    "OTHR": K.OTHER,
    # the long names of the UK examples
    "DomesticCreditTransfer": K.TRANSFER,
    "StandingOrder": K.TRANSFER,
    "DirectDebit": K.UTILITY_COLLECTION,
    "CardPayment": K.PURCHASE,
    "CashWithdrawal": K.WITHDRAWAL,
    "Salary": K.PAYROLL,
    "Reversal": K.REVERSAL,
    "Charges": K.FEE,
    "Interest": K.INTEREST,
}

# Belvo's documented transaction categories (the `category` of a transaction).
BELVO_CATEGORIES: Final[dict[str, TransactionKind]] = {
    "Bills & Utilities": K.UTILITY_COLLECTION,
    "Credits & Loans": K.CREDIT_OPERATION,
    "Food & Groceries": K.PURCHASE,
    "Home & Life": K.PURCHASE,
    "Income & Payments": K.PAYROLL,  # an inflow; an outflow of this category is a payment (transfer)
    "Investments & Savings": K.TRANSFER,
    "Online Platforms & Leisure": K.PURCHASE,
    "Personal Shopping": K.PURCHASE,
    "Taxes": K.UTILITY_COLLECTION,
    "Transfers": K.TRANSFER,
    "Transport & Travel": K.PURCHASE,
    "Withdrawal & ATM": K.WITHDRAWAL,
    "Unknown": K.OTHER,
}
