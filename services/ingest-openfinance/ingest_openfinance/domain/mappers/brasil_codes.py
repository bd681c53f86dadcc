"""Every enum value the Open Finance Brasil response schemas allow, with what it means to Prometeo.

Each table answers a value with a canonical meaning or with `Unsupported(reason)`: a well-formed record
that Prometeo deliberately does not turn into an event, answered per item with that reason. A value
missing from a table is an error in the source (or a new spec version): the spec-enum test reads the
regulator's OpenAPI files and fails on any value these tables do not name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from prometeo.contracts import ProductCode
from prometeo.contracts.events import ConsentStatus, Direction, TransactionKind


@dataclass(frozen=True)
class Unsupported:
    """Known and well-formed, but not something Prometeo records; `reason` is answered to the caller."""

    reason: str


CREDIT_DEBIT: Final[dict[str, Direction]] = {"CREDITO": Direction.CREDIT, "DEBITO": Direction.DEBIT}

# accounts 2.x `data[].type`. Savings held elsewhere is a product, the others are accounts.
ACCOUNT_TYPES: Final[dict[str, str | ProductCode]] = {
    "CONTA_DEPOSITO_A_VISTA": "checking",
    "CONTA_PAGAMENTO_PRE_PAGA": "prepaid",
    "CONTA_POUPANCA": ProductCode.SAVINGS,
}

# accounts 2.x transactions `type`. Payroll is a credit of either payroll type.
ACCOUNT_TRANSACTION_TYPES: Final[dict[str, TransactionKind]] = {
    "TED": TransactionKind.TED,
    "DOC": TransactionKind.DOC,
    "PIX": TransactionKind.PIX,
    "TRANSFERENCIA_MESMA_INSTITUICAO": TransactionKind.TRANSFER,
    "BOLETO": TransactionKind.BOLETO,
    "CONVENIO_ARRECADACAO": TransactionKind.UTILITY_COLLECTION,
    "PACOTE_TARIFA_SERVICOS": TransactionKind.FEE,
    "TARIFA_SERVICOS_AVULSOS": TransactionKind.FEE,
    "FOLHA_PAGAMENTO": TransactionKind.PAYROLL,
    "PORTABILIDADE_SALARIO": TransactionKind.PAYROLL,
    "DEPOSITO": TransactionKind.DEPOSIT,
    "SAQUE": TransactionKind.WITHDRAWAL,
    # A debit card purchase or a card bill paid from the account: without an MCC it is no spend category,
    # and counting it as spend would count card purchases twice when the bill is paid.
    "CARTAO": TransactionKind.CARD,
    "ENCARGOS_JUROS_CHEQUE_ESPECIAL": TransactionKind.INTEREST,
    "RENDIMENTO_APLIC_FINANCEIRA": TransactionKind.INVESTMENT_INCOME,
    "RESGATE_APLIC_FINANCEIRA": TransactionKind.INVESTMENT_REDEMPTION,
    "OPERACAO_CREDITO": TransactionKind.CREDIT_OPERATION,
    "OUTROS": TransactionKind.OTHER,
}

# accounts 2.x `completedAuthorisedPaymentType`: only a completed entry is a booking. Future and
# processing entries may still change id (spec), so they travel as `transaction.pending`.
SETTLEMENT: Final[dict[str, str | None]] = {
    "TRANSACAO_EFETIVADA": None,
    "LANCAMENTO_FUTURO": "future",
    "TRANSACAO_PROCESSANDO": "processing",
}


@dataclass(frozen=True)
class CardMeaning:
    kind: TransactionKind
    # The card's side of the movement, fixed by the type. None: read `creditDebitType` (OUTROS).
    direction: Direction | None


# credit-cards 2.x `transactionType`. PAGAMENTO is a payment made *with* the card (a purchase; its
# `paymentType` says cash or instalments). The public test payloads mark every card entry CREDITO, so
# the indicator cannot tell a purchase from a reversal there: the type decides.
CARD_TRANSACTION_TYPES: Final[dict[str, CardMeaning]] = {
    "PAGAMENTO": CardMeaning(TransactionKind.PURCHASE, Direction.DEBIT),
    "TARIFA": CardMeaning(TransactionKind.FEE, Direction.DEBIT),
    # Revolving credit, bill instalments, loans on the card: a debt drawn, not a purchase.
    "OPERACOES_CREDITO_CONTRATADAS_CARTAO": CardMeaning(TransactionKind.CREDIT_OPERATION, Direction.DEBIT),
    "ESTORNO": CardMeaning(TransactionKind.REVERSAL, Direction.CREDIT),
    "CASHBACK": CardMeaning(TransactionKind.CASHBACK, Direction.CREDIT),
    "OUTROS": CardMeaning(TransactionKind.OTHER, None),
}

# Contracts (loans, financings, invoice financings, unarranged overdraft): by sub-type, which is what
# tells a home loan from working capital. Business credit gets its own codes (never a retail offer).
_OVERDRAFT = Unsupported("an overdraft line is not a product Prometeo records as held")
CONTRACT_SUBTYPES: Final[dict[str, ProductCode | Unsupported]] = {
    # loans 2.x
    "HOME_EQUITY": ProductCode.MORTGAGE,
    "CHEQUE_ESPECIAL": _OVERDRAFT,
    "CONTA_GARANTIDA": ProductCode.BUSINESS_OVERDRAFT,
    "CAPITAL_GIRO_TETO_ROTATIVO": ProductCode.BUSINESS_WORKING_CAPITAL,
    "CAPITAL_GIRO_PRAZO_VENCIMENTO_ATE_365_DIAS": ProductCode.BUSINESS_WORKING_CAPITAL,
    "CAPITAL_GIRO_PRAZO_VENCIMENTO_SUPERIOR_365_DIAS": ProductCode.BUSINESS_WORKING_CAPITAL,
    "CREDITO_PESSOAL_SEM_CONSIGNACAO": ProductCode.PERSONAL_LOAN,
    "CREDITO_PESSOAL_COM_CONSIGNACAO": ProductCode.PERSONAL_LOAN,
    "MICROCREDITO_PRODUTIVO_ORIENTADO": ProductCode.MICROCREDIT,
    # financings 2.x
    "AQUISICAO_BENS_VEICULOS_AUTOMOTORES": ProductCode.AUTO_LOAN,
    # Consumer goods financing (CDC): a retail instalment loan.
    "AQUISICAO_BENS_OUTROS_BENS": ProductCode.PERSONAL_LOAN,
    "MICROCREDITO": ProductCode.MICROCREDIT,
    # The rural credit purposes of the BCB's Manual de Crédito Rural.
    "CUSTEIO": ProductCode.RURAL_CREDIT,
    "INVESTIMENTO": ProductCode.RURAL_CREDIT,
    "INDUSTRIALIZACAO": ProductCode.RURAL_CREDIT,
    "COMERCIALIZACAO": ProductCode.RURAL_CREDIT,
    "FINANCIAMENTO_HABITACIONAL_SFH": ProductCode.MORTGAGE,
    "FINANCIAMENTO_HABITACIONAL_EXCETO_SFH": ProductCode.MORTGAGE,
    # invoice financings 2.x: receivables discounting is business credit
    "DESCONTO_DUPLICATAS": ProductCode.BUSINESS_RECEIVABLES_DISCOUNT,
    "DESCONTO_CHEQUES": ProductCode.BUSINESS_RECEIVABLES_DISCOUNT,
    "ANTECIPACAO_FATURA_CARTAO_CREDITO": ProductCode.BUSINESS_RECEIVABLES_DISCOUNT,
    "OUTROS_DIREITOS_CREDITORIOS_DESCONTADOS": ProductCode.BUSINESS_RECEIVABLES_DISCOUNT,
    "OUTROS_TITULOS_DESCONTADOS": ProductCode.BUSINESS_RECEIVABLES_DISCOUNT,
    # unarranged overdraft 2.x
    "ADIANTAMENTO_A_DEPOSITANTES": Unsupported("an unarranged overdraft is not a product Prometeo records as held"),
}

# `productType` alone, for records without a sub-type; EMPRESTIMOS and FINANCIAMENTOS say too little.
CONTRACT_TYPES: Final[dict[str, ProductCode | Unsupported]] = {
    "EMPRESTIMOS": Unsupported("a loan without productSubType cannot be told from business credit"),
    "FINANCIAMENTOS": Unsupported("a financing without productSubType cannot be told from business credit"),
    "FINANCIAMENTOS_RURAIS": ProductCode.RURAL_CREDIT,
    "FINANCIAMENTOS_IMOBILIARIOS": ProductCode.MORTGAGE,
    "DIREITOS_CREDITORIOS_DESCONTADOS": ProductCode.BUSINESS_RECEIVABLES_DISCOUNT,
    "ADIANTAMENTO_A_DEPOSITANTES": CONTRACT_SUBTYPES["ADIANTAMENTO_A_DEPOSITANTES"],
}

# consents 3.x `status`; REJECTED is refined by the rejection reason (there is no REVOKED/EXPIRED status).
CONSENT_STATUS: Final[dict[str, ConsentStatus]] = {
    "AWAITING_AUTHORISATION": ConsentStatus.AWAITING_AUTHORISATION,
    "AUTHORISED": ConsentStatus.AUTHORISED,
    "REJECTED": ConsentStatus.REJECTED,
}
CONSENT_REJECTION: Final[dict[str, ConsentStatus]] = {
    "CUSTOMER_MANUALLY_REVOKED": ConsentStatus.REVOKED,
    "CONSENT_EXPIRED": ConsentStatus.EXPIRED,
    "CONSENT_MAX_DATE_REACHED": ConsentStatus.EXPIRED,
    "CUSTOMER_MANUALLY_REJECTED": ConsentStatus.REJECTED,
    "CONSENT_TECHNICAL_ISSUE": ConsentStatus.REJECTED,
    "INTERNAL_SECURITY_REASON": ConsentStatus.REJECTED,
}


def known(table: Mapping[str, object], value: str, field: str) -> None:
    """Raise the per-item error for a value the table (hence the spec) does not name."""
    if value not in table:
        raise ValueError(f"{field}: not a value of the Open Finance Brasil enum (expected one of {', '.join(table)})")
