"""Every Open Finance Brasil fixture in ../shared maps to canonical events, or to a clear error."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ingest_openfinance.domain.mappers import brasil
from ingest_openfinance.domain.mappers.common import DocumentError, ItemError
from ingest_openfinance.models import CanonicalEventCreate
from prometeo.contracts import payload_model
from prometeo.contracts.events import ConsentStatus, DataScope

NOW = datetime.fromisoformat("2026-11-23T12:00:00+00:00")

# Fixture folder → the resource it is a GET response of. Other folders (details, limits, bills, warranties,
# instalments, payments, business customers, qualifications, cambio, resources) are not mapped.
FOLDERS: dict[str, brasil.Resource] = {
    "accounts/get-accounts": brasil.Resource.ACCOUNTS,
    "accounts/get-accounts-accountid-balances": brasil.Resource.BALANCES,
    "accounts/get-accounts-accountid-transactions": brasil.Resource.ACCOUNT_TRANSACTIONS,
    "accounts/get-accounts-accountid-transactions-current": brasil.Resource.ACCOUNT_TRANSACTIONS,
    "creditCards/get-accounts": brasil.Resource.CREDIT_CARD_ACCOUNTS,
    "creditCards/get-accounts-creditcardaccountid-transactions": brasil.Resource.CREDIT_CARD_TRANSACTIONS,
    "creditCards/get-accounts-creditcardaccountid-transactions-current": brasil.Resource.CREDIT_CARD_TRANSACTIONS,
    "creditCards/get-accounts-creditcardaccountid-bills-billId-transactions": brasil.Resource.CREDIT_CARD_TRANSACTIONS,
    "oc-loans/get-contracts": brasil.Resource.LOANS,
    "oc-financings/get-contracts": brasil.Resource.FINANCINGS,
    "oc-invoice-financings/get-contracts": brasil.Resource.INVOICE_FINANCINGS,
    "oc-unarranged-accounts-overdraft/get-contracts": brasil.Resource.UNARRANGED_OVERDRAFT,
    "investimentos/fundos": brasil.Resource.INVESTMENTS,
    "investimentos/renda-fixa-bancaria": brasil.Resource.INVESTMENTS,
    "investimentos/renda-fixa-credito": brasil.Resource.INVESTMENTS,
    "investimentos/renda-variavel": brasil.Resource.INVESTMENTS,
    "investimentos/tesouro-direto": brasil.Resource.INVESTMENTS,
    "customers/get-customers-personal-identifications": brasil.Resource.PERSONAL_IDENTIFICATIONS,
}

# Deliberately malformed fixtures and the error each must produce.
BROKEN_JSON = {"get-accounts-accountId-balances-10.1.json"}
NOT_A_RESPONSE = {"teste.json"}  # a bare transaction object, no `data` wrapper
# Files with records that must answer `invalid`, and a word every such reason contains.
BAD_RECORDS = {
    "get-credit-cards-accounts-creditCardAccountId-transactions-22.1.json": "decimal",
    "get-credit-cards-accounts-creditCardAccountId-bills-billId-transactions-22.1.json": "decimal",
    # `meta` nested inside `data`: no balance time at all (it used to get the ingestion clock's).
    "get-accounts-accountId-balances-10.2.json": "updateDateTime",
    # MICROCREDITOS, not an enum value (it used to become a personal loan).
    "get-financings-contracts-12.3.json": "productSubType",
}


def _files(root: Path, folder: str) -> list[Path]:
    base = root / folder
    if folder.startswith("investimentos/"):
        return [base / "get-investiments"]
    return sorted(p for p in base.iterdir() if p.is_file())


def _cases(root: Path) -> list[tuple[Path, brasil.Resource]]:
    return [(p, resource) for folder, resource in FOLDERS.items() for p in _files(root, folder)]


@pytest.fixture(scope="module")
def fixtures(shared_dir: Path) -> Path:
    return shared_dir / "fixtures" / "openfinance-brasil"


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)


def test_every_mapped_folder_exists(fixtures: Path) -> None:
    assert len(_cases(fixtures)) > 150
    for folder in FOLDERS:
        assert (fixtures / folder).is_dir(), folder


def test_every_valid_fixture_maps_to_canonical_events(fixtures: Path) -> None:
    mapped_events, bad = 0, {}
    for path, resource in _cases(fixtures):
        if path.name in BROKEN_JSON:
            with pytest.raises(json.JSONDecodeError):
                _load(path)
            continue
        document = _load(path)
        if path.name in NOT_A_RESPONSE:
            with pytest.raises(DocumentError, match="data"):
                brasil.map_resource(resource, document, customer_id="x", institution="i", parent_id="a", now=NOW)
            continue
        mapped = brasil.map_resource(
            resource, document, customer_id="12345678909", institution="bank", parent_id="acc-1", now=NOW
        )
        errors = [i for i in mapped.items if isinstance(i, ItemError) and not i.unsupported]
        # Overdraft lines are known and well-formed, but not a product held: refused with that reason.
        unsupported = [i for i in mapped.items if isinstance(i, ItemError) and i.unsupported]
        assert all("overdraft" in i.reason and "not a product" in i.reason for i in unsupported), unsupported
        if path.name in BAD_RECORDS:
            bad[path.name] = errors
        else:
            assert not errors, f"{path.name}: {errors}"
        for item in mapped.items:
            if isinstance(item, ItemError):
                continue
            event = CanonicalEventCreate.model_validate(item)
            payload_model(event.type, event.version).model_validate(event.payload)
            mapped_events += 1
    assert set(bad) == set(BAD_RECORDS)
    for name, errors in bad.items():
        assert errors and all(BAD_RECORDS[name] in e.reason for e in errors), (name, errors)
    assert mapped_events > 300


def test_card_transactions_keep_mcc_and_decimal_amounts(fixtures: Path) -> None:
    path = (
        fixtures
        / "creditCards/get-accounts-creditcardaccountid-transactions"
        / "get-credit-cards-accounts-creditCardAccountId-transactions-02.1.json"
    )
    mapped = brasil.map_resource(
        brasil.Resource.CREDIT_CARD_TRANSACTIONS,
        _load(path),
        customer_id="c",
        institution="bb",
        parent_id="card-1",
        now=NOW,
    )
    first = mapped.items[0]
    assert isinstance(first, dict)
    assert first["type"] == "transaction.booked" and first["payload"]["mcc"] == "7011"
    assert first["payload"]["amount"] == "1428.7500"
    assert "chargeIdentificator" not in json.dumps(first) and "Pousada" not in json.dumps(first)


def test_counterparty_documents_never_reach_canonical_items(fixtures: Path) -> None:
    path = fixtures / "accounts/get-accounts-accountid-transactions/get-accounts-accountId-transactions-18.1.json"
    document = _load(path)
    mapped = brasil.map_resource(
        brasil.Resource.ACCOUNT_TRANSACTIONS, document, customer_id="c", institution="bb", parent_id="acc", now=NOW
    )
    text = json.dumps(mapped.items)
    for record in document["data"]:
        assert record["partieCnpjCpf"] not in text


def test_re_sent_pages_map_to_the_same_source_event_ids(fixtures: Path) -> None:
    path = fixtures / "accounts/get-accounts/get-accounts-01.1.json"
    first = brasil.map_resource(
        brasil.Resource.ACCOUNTS, _load(path), customer_id="c", institution="bb", parent_id=None, now=NOW
    )
    again = brasil.map_resource(
        brasil.Resource.ACCOUNTS,
        _load(path),
        customer_id="c",
        institution="bb",
        parent_id=None,
        now=datetime.fromisoformat("2027-01-01T00:00:00+00:00"),
    )
    ids = [i["source_event_id"] for i in first.items if isinstance(i, dict)]
    assert len(ids) == len(first.items)
    assert ids == [i["source_event_id"] for i in again.items if isinstance(i, dict)]


@pytest.mark.parametrize(
    ("status", "rejection", "expected"),
    [
        ("AUTHORISED", None, ConsentStatus.AUTHORISED),
        ("AWAITING_AUTHORISATION", None, ConsentStatus.AWAITING_AUTHORISATION),
        ("REJECTED", {"rejectedBy": "USER", "code": "CUSTOMER_MANUALLY_REVOKED"}, ConsentStatus.REVOKED),
        ("REJECTED", {"rejectedBy": "ASPSP", "reason": {"code": "CONSENT_MAX_DATE_REACHED"}}, ConsentStatus.EXPIRED),
        ("REJECTED", {"rejectedBy": "USER", "reason": {"code": "CUSTOMER_MANUALLY_REJECTED"}}, ConsentStatus.REJECTED),
    ],
)
def test_consent_statuses_map_across_rejection_reasons(
    status: str, rejection: dict | None, expected: ConsentStatus
) -> None:
    data: dict[str, object] = {"consentId": "urn:x:1", "status": status, "permissions": ["ACCOUNTS_READ", "LOANS_READ"]}
    if rejection:
        data["rejection"] = rejection
    upsert = brasil.map_consent({"data": data}, customer_id="c", institution="bb")
    assert upsert.status is expected and upsert.scopes == [DataScope.ACCOUNTS, DataScope.LOANS]


def test_every_consent_fixture_maps(fixtures: Path) -> None:
    folder = fixtures / "consents/get-consents-consentid"
    statuses = [
        brasil.map_consent(_load(p), customer_id="c", institution="bb").status for p in sorted(folder.iterdir())
    ]
    assert statuses.count(ConsentStatus.REVOKED) == 1 and statuses.count(ConsentStatus.AUTHORISED) == 19


def test_consent_request_carries_the_cpf(fixtures: Path) -> None:
    request = _load(fixtures / "consents/post-consents/post-consents-01.1.json")
    assert brasil.consent_customer(request) == "87517400444"
    with pytest.raises(DocumentError, match="consentId"):
        brasil.map_consent(request, customer_id=None, institution="bb")


def test_missing_customer_header_is_a_document_error() -> None:
    with pytest.raises(DocumentError, match="x-customer-id"):
        brasil.map_resource(
            brasil.Resource.ACCOUNTS, {"data": []}, customer_id=None, institution="bb", parent_id=None, now=NOW
        )


@pytest.mark.parametrize(("birth", "band"), [("2000-11-24", "25-34"), ("1961-11-23", "65+"), ("1991-11-23", "35-44")])
def test_age_bands(birth: str, band: str) -> None:
    assert brasil.age_band(datetime.fromisoformat(birth).date(), NOW.date()) == band


def test_minors_are_not_profiled() -> None:
    mapped = brasil.map_resource(
        brasil.Resource.PERSONAL_IDENTIFICATIONS,
        {"data": [{"personalId": "p", "birthDate": "2015-01-01", "civilName": "Ana"}]},
        customer_id="c",
        institution="bb",
        parent_id=None,
        now=NOW,
    )
    [error] = mapped.items
    assert isinstance(error, ItemError) and "under 18" in error.reason and "Ana" not in error.reason


def test_personal_identifications_keep_only_the_age_band(fixtures: Path) -> None:
    path = (
        fixtures / "customers/get-customers-personal-identifications/get-customers-personal-identifications-02.1.json"
    )
    document = _load(path)
    mapped = brasil.map_resource(
        brasil.Resource.PERSONAL_IDENTIFICATIONS, document, customer_id="c", institution="bb", parent_id=None, now=NOW
    )
    [event] = mapped.items
    assert isinstance(event, dict) and set(event["payload"]) == {"age_band", "timezone"}
    assert document["data"][0]["civilName"] not in json.dumps(event)
