"""Every enum value the regulator's response schemas allow is named by a mapping table: a new spec version
with a value nobody mapped fails here, listing it, instead of being booked as something else."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest_openfinance.domain.mappers import brasil_codes as codes
from ingest_openfinance.domain.mappers.consents import BRASIL_PERMISSIONS_UNUSED, brasil_scopes
from tests.unit.ingest_openfinance.openapi_specs import enums, load

_CARDS = "credit-cards-2.3.1.yml"
# (spec file, response schema of the GET we map, property path) → the table that must name its values.
CONTRACT = [
    ("accounts-2.4.2.yml", "ResponseAccountList", "data[].type", "ACCOUNT_TYPES"),
    ("accounts-2.4.2.yml", "ResponseAccountTransactions", "data[].type", "ACCOUNT_TRANSACTION_TYPES"),
    ("accounts-2.4.2.yml", "ResponseAccountTransactions", "data[].creditDebitType", "CREDIT_DEBIT"),
    ("accounts-2.4.2.yml", "ResponseAccountTransactions", "data[].completedAuthorisedPaymentType", "SETTLEMENT"),
    (_CARDS, "ResponseCreditCardAccountsTransactions", "data[].transactionType", "CARD_TRANSACTION_TYPES"),
    (_CARDS, "ResponseCreditCardAccountsTransactions", "data[].creditDebitType", "CREDIT_DEBIT"),
    ("loans-2.5.0.yml", "ResponseLoansContractList", "data[].productType", "CONTRACT_TYPES"),
    ("loans-2.5.0.yml", "ResponseLoansContractList", "data[].productSubType", "CONTRACT_SUBTYPES"),
    ("financings-2.4.0.yml", "ResponseFinancingsContractList", "data[].productType", "CONTRACT_TYPES"),
    ("financings-2.4.0.yml", "ResponseFinancingsContractList", "data[].productSubType", "CONTRACT_SUBTYPES"),
    ("invoice-financings-2.4.0.yml", "ResponseInvoiceFinancingsContractList", "data[].productType", "CONTRACT_TYPES"),
    (
        "invoice-financings-2.4.0.yml",
        "ResponseInvoiceFinancingsContractList",
        "data[].productSubType",
        "CONTRACT_SUBTYPES",
    ),
    (
        "unarranged-accounts-overdraft-2.5.0.yml",
        "ResponseUnarrangedAccountOverdraftContractList",
        "data[].productType",
        "CONTRACT_TYPES",
    ),
    (
        "unarranged-accounts-overdraft-2.5.0.yml",
        "ResponseUnarrangedAccountOverdraftContractList",
        "data[].productSubType",
        "CONTRACT_SUBTYPES",
    ),
    ("consents-3.3.1.yml", "ResponseConsentRead", "data.status", "CONSENT_STATUS"),
    ("consents-3.3.1.yml", "ResponseConsentRead", "data.rejection.reason.code", "CONSENT_REJECTION"),
]


@pytest.fixture(scope="module")
def specs(shared_dir: Path) -> Path:
    folder = shared_dir / "specs" / "openfinance-brasil"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent: the regulator's OpenAPI specs are unavailable")
    return folder


def _spec_values(specs: Path, spec: str, schema: str, path: str) -> list[str]:
    found = enums(load(specs / spec), schema)
    assert path in found, f"{spec}: {schema} has no enum at {path} (renamed in a new version?)"
    return found[path]


@pytest.mark.parametrize(("spec", "schema", "path", "table"), CONTRACT, ids=[f"{c[0]}:{c[2]}" for c in CONTRACT])
def test_every_spec_enum_value_is_mapped_or_refused_by_name(
    specs: Path, spec: str, schema: str, path: str, table: str
) -> None:
    values = _spec_values(specs, spec, schema, path)
    unmapped = sorted(set(values) - set(getattr(codes, table)))
    assert not unmapped, f"{spec} {path}: not handled by brasil_codes.{table}: {unmapped}"


@pytest.mark.parametrize("table", sorted({c[3] for c in CONTRACT}))
def test_tables_name_no_value_the_specs_do_not_allow(specs: Path, table: str) -> None:
    allowed = {v for spec, schema, path, t in CONTRACT if t == table for v in _spec_values(specs, spec, schema, path)}
    stale = sorted(set(getattr(codes, table)) - allowed)
    assert not stale, f"brasil_codes.{table} names values no spec allows: {stale}"


def test_refusals_carry_a_reason() -> None:
    for table in (codes.CONTRACT_TYPES, codes.CONTRACT_SUBTYPES):
        for value, meaning in table.items():
            if isinstance(meaning, codes.Unsupported):
                assert len(meaning.reason) > 20, value


def test_every_consent_permission_grants_a_scope_or_is_named_unused(specs: Path) -> None:
    permissions = _spec_values(specs, "consents-3.3.1.yml", "ResponseConsentRead", "data.permissions[]")
    silent = [p for p in permissions if not brasil_scopes([p]) and p not in BRASIL_PERMISSIONS_UNUSED]
    assert not silent, f"permissions neither mapped to a scope nor named unused: {silent}"
    assert set(permissions) >= BRASIL_PERMISSIONS_UNUSED
