"""Documents generated from the regulator's response schemas go through the mapper and the ingestion path
(gate, conflict check, dedupe, publish) in-process: every record is answered on its own — accepted, or
refused with a reason naming its field — and nothing raises. Bounded examples keep it to seconds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest_openfinance.domain.mappers import brasil
from ingest_openfinance.domain.mappers.common import DocumentError
from ingest_openfinance.domain.results import ItemStatus
from ingest_openfinance.usecases.events import EventIngestion
from prometeo.contracts.events import ConsentStatus
from tests.unit.ingest_openfinance.openapi_specs import json_schema, load, strategy
from tests.unit.ingest_openfinance.test_ingest_mapped import (
    FakeProducer,
    consented_ingestion,
)

NOW = datetime.fromisoformat("2026-11-23T12:00:00+00:00")
CUSTOMER = "12345678909"
R = brasil.Resource
# The GET response each resource is posted as: (spec file, response schema).
RESPONSES: dict[brasil.Resource, tuple[str, str]] = {
    R.ACCOUNTS: ("accounts-2.4.2.yml", "ResponseAccountList"),
    R.BALANCES: ("accounts-2.4.2.yml", "ResponseAccountBalances"),
    R.ACCOUNT_TRANSACTIONS: ("accounts-2.4.2.yml", "ResponseAccountTransactions"),
    R.CREDIT_CARD_ACCOUNTS: ("credit-cards-2.3.1.yml", "ResponseCreditCardAccountsList"),
    R.CREDIT_CARD_TRANSACTIONS: ("credit-cards-2.3.1.yml", "ResponseCreditCardAccountsTransactions"),
    R.LOANS: ("loans-2.5.0.yml", "ResponseLoansContractList"),
    R.FINANCINGS: ("financings-2.4.0.yml", "ResponseFinancingsContractList"),
    R.INVOICE_FINANCINGS: ("invoice-financings-2.4.0.yml", "ResponseInvoiceFinancingsContractList"),
    R.UNARRANGED_OVERDRAFT: (
        "unarranged-accounts-overdraft-2.5.0.yml",
        "ResponseUnarrangedAccountOverdraftContractList",
    ),
    R.INVESTMENTS: ("funds-1.1.0.yml", "ResponseFundsProductList"),
}
REFUSED = {ItemStatus.INVALID, ItemStatus.UNSUPPORTED, ItemStatus.CONFLICT}
EXAMPLES = 15


@pytest.fixture(scope="module")
def specs(shared_dir: Path) -> Path:
    folder = shared_dir / "specs" / "openfinance-brasil"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent: the regulator's OpenAPI specs are unavailable")
    return folder


def _documents(specs: Path, resource: brasil.Resource) -> st.SearchStrategy[dict[str, Any]]:
    """`{data: …}` of the response schema: its `data` generated, a few records per page."""
    spec, schema = RESPONSES[resource]
    data = json_schema(load(specs / spec), schema)["properties"]["data"]
    if data.get("type") == "array":
        records = st.lists(strategy(data["items"]), min_size=1, max_size=3)
        return records.map(lambda items: {"data": items, "meta": {"requestDateTime": "2026-11-23T10:00:00Z"}})
    return strategy(data).map(lambda item: {"data": item})


def _ingestor() -> tuple[EventIngestion, FakeProducer]:
    return consented_ingestion(CUSTOMER)


def _check(resource: brasil.Resource, document: dict[str, Any]) -> None:
    mapped = brasil.map_resource(
        resource, document, customer_id=CUSTOMER, institution="bank", parent_id="acc-1", now=NOW
    )
    ingestor, producer = _ingestor()
    results = ingestor.ingest_mapped(mapped.items)
    records = document["data"] if isinstance(document["data"], list) else [document["data"]]
    assert [r.index for r in results] == list(range(len(records)))
    for result in results:
        assert result.status in REFUSED | {ItemStatus.ACCEPTED, ItemStatus.DUPLICATE}
        if result.status in REFUSED:
            assert result.reason, result
            if result.status is not ItemStatus.CONFLICT:
                assert result.reason.startswith(f"data.{result.index}"), result.reason
    accepted = sum(r.status is ItemStatus.ACCEPTED for r in results)
    assert len(producer.sent) == accepted


def _property(specs: Path, resource: brasil.Resource) -> Callable[[], None]:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(_documents(specs, resource))
    def run(document: dict[str, Any]) -> None:
        _check(resource, document)

    return run


@pytest.mark.parametrize("resource", list(RESPONSES), ids=lambda r: r.value)
def test_generated_documents_are_answered_per_item_never_raised(specs: Path, resource: brasil.Resource) -> None:
    _property(specs, resource)()


def test_schema_valid_card_records_are_accepted_unless_the_spec_allows_the_impossible(specs: Path) -> None:
    """Not vacuous: generated card records are accepted, and the only refusals are values the schema's
    patterns allow but no calendar or card network does (year 0000, 31 February, an MCC beyond 4 digits)."""
    spec, schema = RESPONSES[R.CREDIT_CARD_TRANSACTIONS]
    item_schema = json_schema(load(specs / spec), schema)["properties"]["data"]["items"]
    seen: list[ItemStatus] = []
    reasons: list[str] = []

    @settings(max_examples=20, deadline=None, derandomize=True, database=None)
    @given(strategy(item_schema))
    def run(record: dict[str, Any]) -> None:
        mapped = brasil.map_resource(
            R.CREDIT_CARD_TRANSACTIONS, {"data": [record]}, customer_id=CUSTOMER, institution="bank",
            parent_id="card-1", now=NOW,
        )  # fmt: skip
        ingestor, _ = _ingestor()
        for result in ingestor.ingest_mapped(mapped.items):
            seen.append(result.status)
            if result.reason:
                reasons.append(result.reason)

    run()
    assert ItemStatus.ACCEPTED in seen, seen
    impossible = ("transactionDateTime", "transactionDate", "payeeMCC")
    assert all(any(field in r for field in impossible) for r in reasons), reasons


def test_generated_consents_map_or_raise_a_document_error(specs: Path) -> None:
    document_schema = json_schema(load(specs / "consents-3.3.1.yml"), "ResponseConsentRead")
    outcomes: list[str] = []

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None)
    @given(strategy(document_schema))
    def run(document: dict[str, Any]) -> None:
        try:
            upsert = brasil.map_consent(document, customer_id=CUSTOMER, institution="bank", now=NOW)
        except DocumentError as exc:
            assert exc.field.startswith(("data", "header")), exc
            outcomes.append("refused")
            return
        outcomes.append(upsert.status.value)
        expires = upsert.expires_at
        if upsert.status is ConsentStatus.AUTHORISED:
            assert expires is None or expires > NOW

    run()
    assert any(o != "refused" for o in outcomes), outcomes
