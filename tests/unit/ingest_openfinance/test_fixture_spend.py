"""Money as it really moved: every transaction fixture of ../shared, posted page by page through the mapper and
the ingestion path (conflicts, dedupe, publish), aggregated as the feature store does, must give the sums
worked out by hand from the raw JSON.

How the expected numbers were derived (independently of the mapper, reading the fixture JSON with Decimal):
one request per file, files in folder order below; within a file, a transactionId repeated with different
content (in what is kept: type, indicator, amount, date, MCC, settlement; not the billId of the bill that
lists it) is refused, every version; across files the first accepted (account, transactionId) wins and
repeats are duplicates; records whose amount is not a decimal are invalid. Then per persona (the number in
the file name): card spend = Σ PAGAMENTO − Σ ESTORNO; fees = Σ card TARIFA + Σ account PACOTE_TARIFA_SERVICOS
and TARIFA_SERVICOS_AVULSOS; interest = Σ ENCARGOS_JUROS_CHEQUE_ESPECIAL; cashback = Σ CASHBACK; pix / ted /
boleto = Σ of that account type in both directions; salary = Σ FOLHA_PAGAMENTO and PORTABILIDADE_SALARIO
credits; pending = Σ LANCAMENTO_FUTURO / TRANSACAO_PROCESSANDO entries (never booked).

Before this change, the same fixtures gave card spend 0.00 for every persona (every card entry, reversals
and cashback included, is marked CREDITO and was booked as an inflow), 12 214.76 of "inflow" for persona 02,
and future-dated credits of 500 961.16 booked as real inflow for persona 20.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from feature_store.domain.aggregation import mutation_for
from ingest_openfinance.domain.consent import ConsentRecord
from ingest_openfinance.domain.mappers import brasil
from ingest_openfinance.domain.mappers.common import DocumentError
from ingest_openfinance.domain.results import ItemStatus
from prometeo.contracts.events import (
    ConsentStatus,
    DataScope,
    Purpose,
    TransactionBookedV1,
    TransactionPendingV1,
)
from prometeo.identity import customer_key
from tests.unit.ingest_openfinance.test_ingest_mapped import (
    SECRET,
    FakeConsents,
    FakeDedupe,
    FakeProducer,
    fake_ingestion,
)

NOW = datetime.fromisoformat("2026-11-23T12:00:00+00:00")
FOLDERS = [
    ("accounts/get-accounts-accountid-transactions", brasil.Resource.ACCOUNT_TRANSACTIONS),
    ("accounts/get-accounts-accountid-transactions-current", brasil.Resource.ACCOUNT_TRANSACTIONS),
    ("creditCards/get-accounts-creditcardaccountid-transactions", brasil.Resource.CREDIT_CARD_TRANSACTIONS),
    ("creditCards/get-accounts-creditcardaccountid-transactions-current", brasil.Resource.CREDIT_CARD_TRANSACTIONS),
    (
        "creditCards/get-accounts-creditcardaccountid-bills-billId-transactions",
        brasil.Resource.CREDIT_CARD_TRANSACTIONS,
    ),
]
D = Decimal
# Worked out by hand as the module docstring says (BRL; zero where a persona has none).
EXPECTED: dict[str, dict[str, Decimal]] = {
    "02": {"spend": D("12214.76")},
    "05": {"spend": D("1457.78")},
    "08": {"pix": D("125.22")},
    "10": {"spend": D("6548.6002"), "fees": D("229.7999"), "pix": D("8600"), "ted": D("1500"), "pending": D("611.949")},
    "12": {"spend": D("5113.15"), "fees": D("532.99"), "cashback": D("42.27")},
    "17": {"spend": D("1735.38")},
    "18": {
        "spend": D("16243.6364"),
        "fees": D("43555.3661"),
        "interest": D("7232.6205"),
        "pix": D("36818.3541"),
        "ted": D("10256.711"),
        "boleto": D("5815.4028"),
        "salary": D("5794.5812"),
    },
    "20": {"pix": D("15790.78"), "pending": D("500961.16")},
    "22": {"spend": D("5255.10")},
    "24": {"spend": D("5113.15"), "fees": D("532.99"), "cashback": D("42.27")},
    "teste1": {"fees": D("9960.6851"), "pix": D("5966.4901")},
}
# Hand sum name → feature-store day-bucket metric (money metrics are integer cents).
METRICS = {
    "spend": "spend",
    "fees": "flow_fee",
    "interest": "flow_interest",
    "cashback": "flow_cashback",
    "pix": "flow_pix",
    "ted": "flow_ted",
    "boleto": "flow_boleto",
    "salary": "salary",
}
# The conflicts and refusals the hand count found, per persona.
# (Persona 10: two different card fees share one transactionId, on two pages.)
EXPECTED_STATUSES = {
    "02": {"duplicate": 16, "conflict": 0},
    "10": {"conflict": 4, "duplicate": 27},
    "12": {"duplicate": 65},
    "22": {"invalid": 2, "duplicate": 1},
}
# The feature store keeps whole cents per booking (4-decimal source amounts rounded one by one), so a sum
# may differ from the exact hand total by a few cents.
CENTS_TOLERANCE = 3


def _persona(path: Path) -> str:
    match = re.search(r"-(\d\d)\.[\d.]+json$", path.name)
    return match.group(1) if match else path.stem


@pytest.fixture(scope="module")
def aggregated(shared_dir: Path) -> tuple[dict[str, Counter[str]], dict[str, Counter[str]]]:
    root = shared_dir / "fixtures" / "openfinance-brasil"
    consent = ConsentRecord(
        consent_id="c",
        institution="bank",
        scopes=frozenset(DataScope),
        purposes=frozenset({Purpose.CROSS_SELL_ANALYTICS}),
        status=ConsentStatus.AUTHORISED,
    )
    dedupe = FakeDedupe()  # one window across all requests, as in production
    sums: dict[str, Counter[str]] = defaultdict(Counter)
    statuses: dict[str, Counter[str]] = defaultdict(Counter)
    for folder, resource in FOLDERS:
        for path in sorted((root / folder).iterdir()):
            persona = _persona(path)
            try:
                document = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
                mapped = brasil.map_resource(
                    resource,
                    document,
                    customer_id=f"cpf-{persona}",
                    institution="bank",
                    parent_id=f"{'card' if 'credit' in folder.lower() else 'acct'}-{persona}",
                    now=NOW,
                )
            except (json.JSONDecodeError, DocumentError):
                statuses[persona]["document_refused"] += 1
                continue
            producer = FakeProducer()
            consents = FakeConsents({customer_key(f"cpf-{persona}", SECRET): [consent]})
            results = fake_ingestion(producer, consents, dedupe).ingest_mapped(mapped.items)
            statuses[persona].update(r.status.value for r in results if r.status is not ItemStatus.ACCEPTED)
            for _topic, envelope in producer.sent:
                payload = envelope.typed()
                if isinstance(payload, TransactionPendingV1):
                    sums[persona]["pending"] += int(payload.amount * 100)
                    assert mutation_for(payload).is_empty  # the feature store ignores what has not settled
                    continue
                assert isinstance(payload, TransactionBookedV1)
                for _month, field, delta in mutation_for(payload).increments:
                    sums[persona][field.split("|", 1)[1]] += delta
    return sums, statuses


@pytest.mark.parametrize("persona", sorted(EXPECTED))
def test_spend_and_flows_per_persona_match_the_hand_sums(
    aggregated: tuple[dict[str, Counter[str]], dict[str, Counter[str]]], persona: str
) -> None:
    sums, _ = aggregated
    for name, metric in {**METRICS, "pending": "pending"}.items():
        expected = EXPECTED[persona].get(name, D(0)) * 100
        got = sums[persona][metric]
        assert abs(got - expected) <= CENTS_TOLERANCE, f"persona {persona}, {name}: {got} cents != {expected}"


def test_conflicts_and_invalid_records_are_answered_not_dropped(
    aggregated: tuple[dict[str, Counter[str]], dict[str, Counter[str]]],
) -> None:
    _, statuses = aggregated
    for persona, expected in EXPECTED_STATUSES.items():
        for status, count in expected.items():
            assert statuses[persona][status] == count, (persona, statuses[persona])
    assert statuses["teste"]["document_refused"] == 1  # a bare transaction, no `data`
