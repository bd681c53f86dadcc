"""Money moves as it really moved: reversals cancel, pending entries settle without loss or double count,
conflicting repeats are refused, times never come from the ingestion clock, text is trimmed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from feature_store.domain.aggregation import mutation_for
from ingest_openfinance.domain.mappers import brasil
from ingest_openfinance.domain.mappers.common import ItemError
from ingest_openfinance.domain.results import ItemStatus
from ingest_openfinance.usecases.events import EventIngestion
from prometeo.contracts import payload_model
from prometeo.contracts.events import ConsentStatus
from tests.unit.ingest_openfinance.test_ingest_mapped import (
    FakeDedupe,
    FakeProducer,
    consented_ingestion,
)

NOW = datetime.fromisoformat("2026-11-23T12:00:00+00:00")
CPF = "12345678909"
R = brasil.Resource


def _map(resource: brasil.Resource, records: list[dict[str, Any]], **meta: Any) -> list[dict[str, Any] | ItemError]:
    document: dict[str, Any] = {"data": records, **({"meta": meta} if meta else {})}
    return brasil.map_resource(resource, document, customer_id=CPF, institution="bank", parent_id="a1", now=NOW).items


def _ingestor(dedupe: FakeDedupe | None = None) -> tuple[EventIngestion, FakeProducer]:
    return consented_ingestion(CPF, dedupe)


def _account_txn(settlement: str, amount: str = "100.00", **extra: Any) -> dict[str, Any]:
    return {
        "transactionId": "tx-1",
        "creditDebitType": "CREDITO",
        "type": "TED",
        "completedAuthorisedPaymentType": settlement,
        "transactionAmount": {"amount": amount, "currency": "BRL"},
        "transactionDateTime": "2026-11-20T10:00:00.000Z",
        **extra,
    }


def _card_txn(tid: str, kind: str, amount: str, mcc: int | None = 5411) -> dict[str, Any]:
    record: dict[str, Any] = {
        "transactionId": tid,
        "creditDebitType": "CREDITO",
        "transactionType": kind,
        "amount": {"amount": amount, "currency": "BRL"},
        "transactionDate": "2026-11-20",
    }
    if mcc is not None:
        record["payeeMCC"] = mcc
    return record


def _metrics(items: list[dict[str, Any] | ItemError]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        assert isinstance(item, dict)
        payload = payload_model(item["type"], 1).model_validate(item["payload"])
        for _m, field, delta in mutation_for(payload).increments:
            metric = field.split("|", 1)[1]
            out[metric] = out.get(metric, 0) + delta
    return out


def test_a_reversal_cancels_the_purchase_it_reverses() -> None:
    items = _map(
        R.CREDIT_CARD_TRANSACTIONS, [_card_txn("p1", "PAGAMENTO", "80.00"), _card_txn("r1", "ESTORNO", "80.00")]
    )
    metrics = _metrics(items)
    assert metrics["spend"] == 0 and metrics["spend_groceries"] == 0 and metrics["outflow"] == 0


def test_cashback_bill_payments_fees_and_credit_are_not_spend() -> None:
    items = _map(
        R.CREDIT_CARD_TRANSACTIONS,
        [
            _card_txn("c1", "CASHBACK", "5.00"),
            _card_txn("b1", "PAGAMENTO", "900.00", mcc=None),  # credited, no merchant: the bill being paid
            _card_txn("f1", "TARIFA", "30.00", mcc=4900),  # the issuer's MCC must not make it "utilities"
            _card_txn("o1", "OPERACOES_CREDITO_CONTRATADAS_CARTAO", "12.00"),
        ],
    )
    kinds = [i["payload"]["kind"] for i in items if isinstance(i, dict)]
    assert kinds == ["cashback", "bill_payment", "fee", "credit_operation"]
    metrics = _metrics(items)
    assert "spend" not in metrics and "spend_utilities" not in metrics and "spend_groceries" not in metrics
    assert metrics["flow_fee"] == 3000 and metrics["flow_cashback"] == 500 and metrics["flow_bill_payment"] == 90000
    assert "inflow" not in metrics  # neither cashback nor a bill payment is income


def test_account_types_become_distinct_flows() -> None:
    records = [
        {**_account_txn("TRANSACAO_EFETIVADA"), "transactionId": f"t{i}", "type": t, "creditDebitType": cd}
        for i, (t, cd) in enumerate(
            [
                ("PIX", "DEBITO"),
                ("BOLETO", "DEBITO"),
                ("FOLHA_PAGAMENTO", "CREDITO"),
                ("ENCARGOS_JUROS_CHEQUE_ESPECIAL", "DEBITO"),
            ]
        )
    ]
    items = _map(R.ACCOUNT_TRANSACTIONS, records)
    assert [i["payload"]["kind"] for i in items if isinstance(i, dict)] == ["pix", "boleto", "payroll", "interest"]
    metrics = _metrics(items)
    assert metrics["flow_pix"] == metrics["flow_boleto"] == metrics["salary"] == metrics["flow_interest"] == 10000


def test_a_future_entry_is_held_and_its_settlement_is_booked_once() -> None:
    dedupe = FakeDedupe()
    ingestor, producer = _ingestor(dedupe)
    future = _map(R.ACCOUNT_TRANSACTIONS, [_account_txn("LANCAMENTO_FUTURO")])
    [held] = ingestor.ingest_mapped(future)
    assert held.status is ItemStatus.ACCEPTED and producer.sent[-1][1].type == "transaction.pending"
    assert mutation_for(producer.sent[-1][1].typed()).is_empty  # not in any aggregate
    # The page is fetched again once the entry settled, under the same id: a booking, not a duplicate.
    settled = _map(R.ACCOUNT_TRANSACTIONS, [_account_txn("TRANSACAO_EFETIVADA")])
    [booked] = ingestor.ingest_mapped(settled)
    assert booked.status is ItemStatus.ACCEPTED and producer.sent[-1][1].type == "transaction.booked"
    [again] = ingestor.ingest_mapped(settled)
    assert again.status is ItemStatus.DUPLICATE
    assert [e.type for _t, e in producer.sent] == ["transaction.pending", "transaction.booked"]


def test_a_repeated_id_with_different_content_is_a_conflict() -> None:
    ingestor, producer = _ingestor()
    items = _map(
        R.ACCOUNT_TRANSACTIONS,
        [_account_txn("TRANSACAO_EFETIVADA", "100.00"), _account_txn("TRANSACAO_EFETIVADA", "250.00")],
    )
    results = ingestor.ingest_mapped(items)
    assert [r.status for r in results] == [ItemStatus.CONFLICT, ItemStatus.CONFLICT]
    assert all(r.reason and "different content" in r.reason for r in results) and producer.sent == []
    same = _map(R.ACCOUNT_TRANSACTIONS, [_account_txn("TRANSACAO_EFETIVADA")] * 2)
    assert [r.status for r in ingestor.ingest_mapped(same)] == [ItemStatus.ACCEPTED, ItemStatus.DUPLICATE]


def test_balance_time_is_never_the_ingestion_clock() -> None:
    balance = {"availableAmount": {"amount": "10.00", "currency": "BRL"}}
    [no_time] = _map(R.BALANCES, [balance])
    assert isinstance(no_time, ItemError) and "updateDateTime" in no_time.reason
    [bad_time] = _map(R.BALANCES, [{**balance, "updateDateTime": "2022-13-45T99:00:00Z"}])
    assert isinstance(bad_time, ItemError) and "updateDateTime" in bad_time.reason
    [unreadable_meta] = _map(R.BALANCES, [balance], requestDateTime="yesterday")
    assert isinstance(unreadable_meta, ItemError)
    # The same page twice: the same identity, so the second is a duplicate however late it comes.
    ingestor, _ = _ingestor()
    page = _map(R.BALANCES, [balance], requestDateTime="2022-09-12T09:37:00Z")
    assert ingestor.ingest_mapped(page)[0].status is ItemStatus.ACCEPTED
    later = brasil.map_resource(
        R.BALANCES,
        {"data": balance, "meta": {"requestDateTime": "2022-09-12T09:37:00Z"}},
        customer_id=CPF,
        institution="bank",
        parent_id="a1",
        now=datetime.fromisoformat("2027-01-01T00:00:00+00:00"),
    )
    assert ingestor.ingest_mapped(later.items)[0].status is ItemStatus.DUPLICATE


def test_values_are_trimmed_before_they_mean_anything() -> None:
    [contract] = _map(R.LOANS, [{"contractId": "k1", "productType": "EMPRESTIMOS", "productSubType": "HOME_EQUITY "}])
    assert isinstance(contract, dict) and contract["payload"]["product"] == "mortgage"


def test_business_credit_gets_its_own_codes() -> None:
    subtypes = ["CAPITAL_GIRO_TETO_ROTATIVO", "CONTA_GARANTIDA", "MICROCREDITO_PRODUTIVO_ORIENTADO"]
    items = _map(
        R.LOANS,
        [{"contractId": f"k{i}", "productType": "EMPRESTIMOS", "productSubType": s} for i, s in enumerate(subtypes)],
    )
    assert [i["payload"]["product"] for i in items if isinstance(i, dict)] == [
        "business_working_capital",
        "business_overdraft",
        "microcredit",
    ]
    [rural] = _map(
        R.FINANCINGS, [{"contractId": "f1", "productType": "FINANCIAMENTOS_RURAIS", "productSubType": "CUSTEIO"}]
    )
    [discount] = _map(
        R.INVOICE_FINANCINGS,
        [
            {
                "contractId": "i1",
                "productType": "DIREITOS_CREDITORIOS_DESCONTADOS",
                "productSubType": "DESCONTO_DUPLICATAS",
            }
        ],
    )
    assert isinstance(rural, dict) and rural["payload"]["product"] == "rural_credit"
    assert isinstance(discount, dict) and discount["payload"]["product"] == "business_receivables_discount"


def test_an_authorised_consent_past_its_expiry_is_expired() -> None:
    data = {
        "consentId": "urn:bank:1",
        "status": "AUTHORISED",
        "permissions": ["ACCOUNTS_READ"],
        "expirationDateTime": "2026-01-01T00:00:00Z",
    }
    upsert = brasil.map_consent({"data": data}, customer_id="c", institution="bank", now=NOW)
    assert upsert.status is ConsentStatus.EXPIRED and upsert.reason == "CONSENT_EXPIRED"
    current = brasil.map_consent(
        {"data": {**data, "expirationDateTime": "2027-01-01T00:00:00Z"}}, customer_id="c", institution="bank", now=NOW
    )
    assert current.status is ConsentStatus.AUTHORISED
