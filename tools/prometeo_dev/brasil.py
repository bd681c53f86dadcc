"""The synthetic bank as an Open Finance Brasil transmitter: one customer's canonical event items
(`SyntheticBank.customer_events(i)`) → the GET-response documents ingest accepts at
`POST /v1/openfinance/brasil/{resource}`, each with the headers that endpoint reads.

    for resource, headers, document in customer_requests(bank, i):
        client.post(f"/v1/openfinance/brasil/{resource}", headers=headers, json=document)

What maps to what (field names as the standard has them, accounts / credit-cards-accounts 2.x):

- `account.opened` checking (prepaid) → `accounts`, type CONTA_DEPOSITO_A_VISTA (CONTA_PAGAMENTO_PRE_PAGA).
- savings (`account.opened` savings + `product.held` savings) → `accounts`, type CONTA_POUPANCA.
- `balance.snapshot` → `balances`, one document per snapshot (the resource is the balance *now*, so each
  snapshot is the GET made at its time: `updateDateTime` and `meta.requestDateTime`), X-Account-Id.
- `transaction.booked` without an MCC → `account-transactions` of its account (X-Account-Id); payroll
  credits have type FOLHA_PAGAMENTO, other credits PIX, debits BOLETO.
- `transaction.booked` with an MCC (card spend) → `credit-card-transactions` with `payeeMCC`. A customer
  holding a credit card here gets it listed in `credit-card-accounts` and the spend is booked on it. A
  customer without one paid by debit card: the standard has no debit-card resource and account statements
  carry no MCC (type CARTAO), so the spend goes through the card resource under the checking account's id
  (X-Account-Id) and no card account is listed: listing one would invent a credit-card holding.
- `product.held` credit card → `credit-card-accounts`; personal loan → `loans` (EMPRESTIMOS); auto loan and
  mortgage → `financings` (FINANCIAMENTOS / FINANCIAMENTOS_IMOBILIARIOS); investment fund → `investments`
  (funds); savings → `accounts` (CONTA_POUPANCA). Holdings elsewhere are posted with X-Institution = that
  institution, holdings here with the bank's own.

What shifts on the way: ingest reads every Open Finance record as data shared by a transmitting institution,
so a product held here comes back `at_other_institution: true` with `institution` = this bank; an
`account.opened` of a savings, card, loan or investment account comes back only as the `product.held` of
its record (the standard lists products, not account openings); opening dates (`opened_on`, `since`) are
not in the list resources, so those records are dated `meta.requestDateTime`; card spend of card holders
moves from the checking account to the card. Amounts, directions, booking times, MCCs, payroll flags,
transaction ids, balances and account ids (with `_` read as `-`, the standard's id alphabet) are kept.

What stays canonical (`canonical_remainder`), with no Brazilian home ingest reads:
- `customer.profiled`: `personal-identifications` yields only an age band (from a birth date the bank
  does not have); region, income band, digital archetype and tenure have no field there, and a
  profile with only an age band would supersede the full one (the feature store keeps the last).
- `product.held` payroll account: a conta-salário is outside Open Finance Brasil's scope.
- `product.held` auto / life / home insurance: insurance is Open Insurance Brasil, not Open Finance.

No document carries the customer's CPF (it travels only in X-Customer-Id); counterparty documents
(`partieCnpjCpf`) and `ipocCode` (which embeds the borrower's document) are left out. Deterministic: the
same items give the same requests, byte for byte.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from ingest_openfinance.domain.mappers.brasil import Resource
from prometeo_dev.synthbank import INSTITUTION, SyntheticBank

PAGE_SIZE = 25
_Q = Decimal("0.0001")
_ID_NAMESPACE = uuid.UUID("6f1d2c3e-8b7a-5e4f-9a0b-1c2d3e4f5a6b")

# Products with no Open Finance Brasil resource ingest maps: they stay canonical.
STAYS_CANONICAL = frozenset({"payroll_account", "auto_insurance", "life_insurance", "home_insurance"})

# product → (resource, productType, productSubType) for credit contracts.
_CONTRACTS: dict[str, tuple[Resource, str, str]] = {
    "personal_loan": (Resource.LOANS, "EMPRESTIMOS", "CREDITO_PESSOAL_SEM_CONSIGNACAO"),
    "auto_loan": (Resource.FINANCINGS, "FINANCIAMENTOS", "AQUISICAO_BENS_VEICULOS_AUTOMOTORES"),
    "mortgage": (Resource.FINANCINGS, "FINANCIAMENTOS_IMOBILIARIOS", "FINANCIAMENTO_HABITACIONAL_SFH"),
}
# The account type of the canonical account.opened a held product comes with.
_ACCOUNT_OF_PRODUCT = {
    "savings": "savings",
    "credit_card": "credit_card",
    "personal_loan": "loan",
    "auto_loan": "loan",
    "mortgage": "loan",
    "investment_fund": "investment",
}
_DEPOSIT_TYPES = {"checking": "CONTA_DEPOSITO_A_VISTA", "prepaid": "CONTA_PAGAMENTO_PRE_PAGA"}
_PATHS = {
    Resource.ACCOUNTS: "accounts/v2/accounts",
    Resource.CREDIT_CARD_ACCOUNTS: "credit-cards-accounts/v2/accounts",
    Resource.LOANS: "loans/v2/contracts",
    Resource.FINANCINGS: "financings/v2/contracts",
    Resource.INVESTMENTS: "funds/v1/investments",
}


class BrasilRequest(NamedTuple):
    """One POST to /v1/openfinance/brasil/{resource}: the headers ingest reads and the GET-response body."""

    resource: str
    headers: dict[str, str]
    document: dict[str, Any]


# ---- formats ---------------------------------------------------------------------------------------


def _parse(ts: str) -> datetime:
    value = datetime.fromisoformat(ts)
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def _datetime(ts: str) -> str:
    """'2026-01-31T09:15:00+00:00' → '2026-01-31T09:15:00.000Z' (the standard's transactionDateTime)."""
    value = _parse(ts)
    if value.microsecond % 1000:
        raise ValueError(f"{ts}: sub-millisecond precision has no place in the standard's date-times")
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _request_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _amount(value: str | Decimal) -> str:
    """A decimal string with four places ('1428.7500'); refuses what four places would round."""
    d = Decimal(str(value))
    q = d.quantize(_Q)
    if q != d:
        raise ValueError(f"amount {value} has more than four decimal places")
    return f"{q:f}"


def _money(value: str | Decimal, currency: str) -> dict[str, str]:
    return {"amount": _amount(value), "currency": currency}


def _brazilian_id(value: str) -> str:
    """The standard's ids are [a-zA-Z0-9][a-zA-Z0-9-]{0,99}: '_' and the like become '-'."""
    out = "".join(c if c.isascii() and (c.isalnum() or c == "-") else "-" for c in value)[:100]
    if not out or not out[0].isalnum():
        out = "x" + out[:99]
    return out


def _derived_id(*parts: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, "|".join(parts)))


def _digits(seed: str, n: int) -> str:
    return f"{zlib.crc32(seed.encode()) % 10**n:0{n}d}"


def _cnpj(institution: str) -> str:
    """A check-digit-valid CNPJ (head office, 0001) for a synthetic institution."""
    base = [int(c) for c in _digits("cnpj|" + institution, 8) + "0001"]
    for weights in ((5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2), (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)):
        rest = sum(d * w for d, w in zip(base, weights, strict=True)) % 11
        base.append(0 if rest < 2 else 11 - rest)
    return "".join(map(str, base))


def _brand(institution: str) -> str:
    return institution.replace("-", " ").title() + " S.A."


def _url(institution: str, path: str) -> str:
    return f"https://api.{institution}.example.com.br/open-banking/{path}"


# ---- documents -------------------------------------------------------------------------------------


def _pages(records: list[dict[str, Any]], url: str, requested_at: str, page_size: int) -> list[dict[str, Any]]:
    """`records` as the pages a client walks: ≤ page_size each, with `links` and `meta` as the standard has them."""
    total = len(records)
    pages = max(1, -(-total // page_size))

    def link(page: int) -> str:
        return f"{url}?page={page}&page-size={page_size}"

    out = []
    for page in range(1, pages + 1):
        links = {"self": link(page)}
        if pages > 1:
            links["first"] = link(1)
            if page > 1:
                links["prev"] = link(page - 1)
            if page < pages:
                links["next"] = link(page + 1)
            links["last"] = link(pages)
        out.append(
            {
                "data": records[(page - 1) * page_size : page * page_size],
                "links": links,
                "meta": {"totalRecords": total, "totalPages": pages, "requestDateTime": requested_at},
            }
        )
    return out


def _deposit_account(institution: str, account_id: str, kind: str) -> dict[str, Any]:
    return {
        "brandName": _brand(institution),
        "companyCnpj": _cnpj(institution),
        "type": kind,
        "subtype": "INDIVIDUAL",
        "compeCode": _digits("compe|" + institution, 3),
        "branchCode": _digits("branch|" + account_id, 4),
        "number": _digits("number|" + account_id, 8),
        "checkDigit": _digits("check|" + account_id, 1),
        "accountId": account_id,
    }


def _card_account(institution: str, card_id: str) -> dict[str, Any]:
    return {
        "creditCardAccountId": card_id,
        "brandName": _brand(institution),
        "companyCnpj": _cnpj(institution),
        "name": f"Cartão {_brand(institution)}",
        "productType": "CLASSIC_NACIONAL",
        "creditCardNetwork": "MASTERCARD",
    }


def _contract(institution: str, contract_id: str, product: str) -> dict[str, Any]:
    _, kind, sub = _CONTRACTS[product]
    # ipocCode is left out: the standardised operation id embeds the borrower's CPF.
    return {
        "contractId": contract_id,
        "brandName": _brand(institution),
        "companyCnpj": _cnpj(institution),
        "productType": kind,
        "productSubType": sub,
    }


def _fund(institution: str, investment_id: str) -> dict[str, Any]:
    return {
        "brandName": _brand(institution),
        "companyCnpj": _cnpj(institution),
        "anbimaCategory": "RENDA_FIXA",
        "anbimaClass": "Renda Fixa",
        "anbimaSubclass": "Duração Livre Grau de Investimento",
        "investmentId": investment_id,
    }


def _account_transaction(p: dict[str, Any]) -> dict[str, Any]:
    credit = p["direction"] == "credit"
    if p.get("is_payroll"):
        kind, name = "FOLHA_PAGAMENTO", "FOLHA PAGAMENTO"
    elif credit:
        kind, name = "PIX", "PIX RECEBIDO"
    else:
        kind, name = "BOLETO", "PAGAMENTO BOLETO"
    return {
        "transactionId": _brazilian_id(p["transaction_id"]),
        "completedAuthorisedPaymentType": "TRANSACAO_EFETIVADA",
        "creditDebitType": "CREDITO" if credit else "DEBITO",
        "transactionName": name,
        "type": kind,
        "transactionAmount": _money(p["amount"], p.get("currency", "BRL")),
        "transactionDateTime": _datetime(p["booked_at"]),
    }


def _card_transaction(p: dict[str, Any], card_id: str) -> dict[str, Any]:
    credit = p["direction"] == "credit"
    currency = p.get("currency", "BRL")
    booked = _datetime(p["booked_at"])
    record: dict[str, Any] = {
        "transactionId": _brazilian_id(p["transaction_id"]),
        "identificationNumber": _digits("card|" + card_id, 4),
        "transactionName": f"COMPRA MCC {p['mcc']}" if not credit else f"ESTORNO MCC {p['mcc']}",
        "creditDebitType": "CREDITO" if credit else "DEBITO",
        "transactionType": "ESTORNO" if credit else "OUTROS",
        "paymentType": "A_VISTA",
        "amount": _money(p["amount"], currency),
        "transactionDateTime": booked,
        "billPostDate": booked[:10],
        "payeeMCC": int(p["mcc"]),
    }
    if currency == "BRL":
        record["brazilianAmount"] = _money(p["amount"], currency)
    return record


# ---- the customer ----------------------------------------------------------------------------------


def canonical_remainder(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items with no Open Finance Brasil home: post them to /v1/events:batch as they are."""
    out = []
    for item in items:
        if item["type"] == "customer.profiled" or (
            item["type"] == "product.held" and item["payload"]["product"] in STAYS_CANONICAL
        ):
            out.append(item)
    return out


def brasil_requests(
    items: Sequence[dict[str, Any]],
    *,
    page_size: int = PAGE_SIZE,
    requested_at: datetime | None = None,
    institution: str = INSTITUTION,
) -> list[BrasilRequest]:
    """One customer's canonical items → Open Finance Brasil GET responses, paged by ≤ page_size records.

    `institution` is the bank the items come from (holdings elsewhere name their own); list resources
    are dated `requested_at`, by default the latest time in the items."""
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    if not items:
        return []
    customers = {item["customer_id"] for item in items}
    if len(customers) != 1:
        raise ValueError("brasil_requests takes one customer's items")
    customer_id = customers.pop()
    asked = _request_time(requested_at or max(_parse(item["occurred_at"]) for item in items))
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        by_type[item["type"]].append(item)

    # Accounts opened here, by type, in order; product records claim the one of their product.
    opened: dict[str, list[str]] = defaultdict(list)
    for item in by_type["account.opened"]:
        opened[item["payload"]["account_type"]].append(item["payload"]["account_id"])
    claimed: set[str] = set()

    def account_for(product: str) -> str | None:
        candidates = [a for a in opened.get(_ACCOUNT_OF_PRODUCT.get(product, ""), []) if a not in claimed]
        # The bank names a product's account after it (acc-{i}-{product}); otherwise the first unclaimed one.
        chosen = next((a for a in candidates if a.endswith(product)), next(iter(candidates), None))
        if chosen is not None:
            claimed.add(chosen)
        return chosen

    # (resource, institution) → records of the list resources.
    listed: dict[tuple[Resource, str], list[dict[str, Any]]] = defaultdict(list)
    for kind, accounts in opened.items():
        for account_id in accounts:
            if kind in _DEPOSIT_TYPES:
                listed[Resource.ACCOUNTS, institution].append(
                    _deposit_account(institution, _brazilian_id(account_id), _DEPOSIT_TYPES[kind])
                )
    home_card: str | None = None
    for item in by_type["product.held"]:
        p = item["payload"]
        product = p["product"]
        if product in STAYS_CANONICAL:
            continue
        here = not p.get("at_other_institution", False)
        where = institution if here else (p.get("institution") or institution)
        account = account_for(product) if here else None
        record_id = _brazilian_id(account) if account else _derived_id(item["source_event_id"], product)
        if product == "savings":
            listed[Resource.ACCOUNTS, where].append(_deposit_account(where, record_id, "CONTA_POUPANCA"))
        elif product == "credit_card":
            listed[Resource.CREDIT_CARD_ACCOUNTS, where].append(_card_account(where, record_id))
            if here and home_card is None:
                home_card = record_id
        elif product in _CONTRACTS:
            listed[_CONTRACTS[product][0], where].append(_contract(where, record_id, product))
        elif product == "investment_fund":
            listed[Resource.INVESTMENTS, where].append(_fund(where, record_id))
        else:
            raise ValueError(f"product.held {product}: no Open Finance Brasil mapping and not kept canonical")
    # Accounts of these types opened without a product.held saying what they are.
    for kind, accounts in opened.items():
        for account_id in accounts:
            if kind in _DEPOSIT_TYPES or account_id in claimed:
                continue
            rid = _brazilian_id(account_id)
            if kind == "savings":
                listed[Resource.ACCOUNTS, institution].append(_deposit_account(institution, rid, "CONTA_POUPANCA"))
            elif kind == "credit_card":
                listed[Resource.CREDIT_CARD_ACCOUNTS, institution].append(_card_account(institution, rid))
                home_card = home_card or rid
            elif kind == "loan":
                listed[Resource.LOANS, institution].append(_contract(institution, rid, "personal_loan"))
            elif kind == "investment":
                listed[Resource.INVESTMENTS, institution].append(_fund(institution, rid))

    # Transactions: per account statement, card spend per card (or per account without a card).
    statements: dict[str, list[dict[str, Any]]] = defaultdict(list)
    card_statements: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in by_type["transaction.booked"]:
        p = item["payload"]
        if p.get("mcc"):
            parent = home_card or _brazilian_id(p["account_id"])
            card_statements[parent].append(_card_transaction(p, parent))
        else:
            statements[_brazilian_id(p["account_id"])].append(_account_transaction(p))

    base = {"X-Customer-Id": customer_id}
    out: list[BrasilRequest] = []
    for (resource, where), records in listed.items():
        headers = {**base, "X-Institution": where}
        for doc in _pages(records, _url(where, _PATHS[resource]), asked, page_size):
            out.append(BrasilRequest(resource, headers, doc))
    for item in by_type["balance.snapshot"]:
        p = item["payload"]
        account_id = _brazilian_id(p["account_id"])
        at = _datetime(p["as_of"])
        doc = {
            "data": {
                "availableAmount": _money(p["available"], p.get("currency", "BRL")),
                "blockedAmount": _money("0", p.get("currency", "BRL")),
                "automaticallyInvestedAmount": _money("0", p.get("currency", "BRL")),
                "updateDateTime": at,
            },
            "links": {"self": _url(institution, f"accounts/v2/accounts/{account_id}/balances")},
            "meta": {"totalRecords": 1, "totalPages": 1, "requestDateTime": _request_time(_parse(p["as_of"]))},
        }
        out.append(
            BrasilRequest(Resource.BALANCES, {**base, "X-Institution": institution, "X-Account-Id": account_id}, doc)
        )
    for resource, path, groups in (
        (Resource.ACCOUNT_TRANSACTIONS, "accounts/v2/accounts/{}/transactions", statements),
        (Resource.CREDIT_CARD_TRANSACTIONS, "credit-cards-accounts/v2/accounts/{}/transactions", card_statements),
    ):
        for parent, records in groups.items():
            headers = {**base, "X-Institution": institution, "X-Account-Id": parent}
            for doc in _pages(records, _url(institution, path.format(parent)), asked, page_size):
                out.append(BrasilRequest(resource, headers, doc))
    return out


def customer_requests(bank: SyntheticBank, i: int, *, page_size: int = PAGE_SIZE) -> list[BrasilRequest]:
    """Customer i of the bank as Open Finance Brasil requests (its canonical remainder aside)."""
    return brasil_requests(bank.customer_events(i), page_size=page_size)


def main(argv: list[str] | None = None) -> int:
    """python -m prometeo_dev.brasil [--customers N] [--seed S] [--customer I]: one customer's requests as JSON
    lines (resource, headers, document). Headers hold the customer's (synthetic) CPF."""
    from prometeo_dev.synthbank import generate_bank

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--customers", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--customer", type=int, default=0)
    parser.add_argument("--page-size", type=int, default=PAGE_SIZE)
    args = parser.parse_args(argv)
    bank = generate_bank(args.customers, seed=args.seed)
    for request in customer_requests(bank, args.customer, page_size=args.page_size):
        print(json.dumps(request._asdict(), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
