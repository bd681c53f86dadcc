"""The synthetic bank as Open Finance Brasil documents, mapped back through ingest's own mapper: the same
facts as the bank's canonical items, none lost or invented, and the CPF only ever in a header."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from ingest_openfinance.domain.mappers import brasil as mapper
from ingest_openfinance.domain.mappers.common import ItemError
from ingest_openfinance.models import CanonicalEventCreate
from prometeo.contracts import payload_model
from prometeo.identity import normalise_identifier
from prometeo_dev import brasil
from prometeo_dev.demo import load_bank_brasil
from prometeo_dev.synthbank import INSTITUTION, SyntheticBank, generate_bank

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)
CUSTOMERS = range(40)
PAGE_SIZE = 10  # small, so statements span several pages


@pytest.fixture(scope="module")
def bank() -> SyntheticBank:
    return generate_bank(40, seed=3, as_of=AS_OF)


def _as_posted(document: dict[str, Any]) -> Any:
    """The body as ingest reads it off the wire (decimals kept as Decimal)."""
    return json.loads(json.dumps(document), parse_float=Decimal)


def _map(request: brasil.BrasilRequest) -> list[dict[str, Any]]:
    mapped = mapper.map_resource(
        mapper.Resource(request.resource),
        _as_posted(request.document),
        customer_id=request.headers["X-Customer-Id"],
        institution=request.headers["X-Institution"],
        parent_id=request.headers.get("X-Account-Id"),
        now=AS_OF,
    )
    errors = [i for i in mapped.items if isinstance(i, ItemError)]
    assert not errors, f"{request.resource}: {errors}"
    items = [i for i in mapped.items if isinstance(i, dict)]
    for item in items:
        event = CanonicalEventCreate.model_validate(item)
        payload_model(event.type, event.version).model_validate(event.payload)
    return items


def _of(items: list[dict[str, Any]], event_type: str) -> list[dict[str, Any]]:
    return [i["payload"] for i in items if i["type"] == event_type]


def _txn(p: dict[str, Any]) -> tuple[Any, ...]:
    return (
        p["transaction_id"],
        p["direction"],
        Decimal(p["amount"]),
        datetime.fromisoformat(p["booked_at"]),
        bool(p.get("is_payroll", False)),
        p.get("mcc"),
        p.get("currency", "BRL"),
    )


Trip = tuple[list[dict[str, Any]], list[brasil.BrasilRequest], list[dict[str, Any]]]


def _round_trip(bank: SyntheticBank, i: int) -> Trip:
    """(the bank's items, the Brazilian requests, what ingest maps them to)."""
    canonical = bank.customer_events(i)
    requests = brasil.brasil_requests(canonical, page_size=PAGE_SIZE)
    return canonical, requests, [item for r in requests for item in _map(r)]


@pytest.mark.parametrize("i", CUSTOMERS)
def test_documents_map_back_to_the_same_facts(bank: SyntheticBank, i: int) -> None:
    canonical, _, mapped = _round_trip(bank, i)
    cpf = canonical[0]["customer_id"]
    assert {item["customer_id"] for item in mapped} == {cpf}
    assert len({item["source_event_id"] for item in mapped}) == len(mapped)  # nothing collapses in de-duplication

    # Transactions: every booking once, with its amount, direction, time, payroll flag and MCC.
    before = [_txn(p) for p in _of(canonical, "transaction.booked")]
    after = [_txn(p) for p in _of(mapped, "transaction.booked")]
    assert len(after) == len(before)
    assert Counter(after) == Counter(before)
    for direction in ("credit", "debit"):
        assert sum(t[2] for t in after if t[1] == direction) == sum(t[2] for t in before if t[1] == direction)
    assert sum(t[4] for t in after) == sum(t[4] for t in before)

    # Accounts: statements stay on their account; card spend goes to the card held here, else stays on
    # the account it was paid from (a debit card: no card account is invented).
    card_here = [p["account_id"] for p in _of(canonical, "account.opened") if p["account_type"] == "credit_card"]
    by_id = {p["transaction_id"]: p for p in _of(canonical, "transaction.booked")}
    for p in _of(mapped, "transaction.booked"):
        source = by_id[p["transaction_id"]]
        expected = source["account_id"]
        if source.get("mcc") and card_here:
            expected = card_here[0].replace("_", "-")
        assert p["account_id"] == expected

    # Balances: every snapshot of every account.
    def balance(p: dict[str, Any]) -> tuple[Any, ...]:
        return p["account_id"], Decimal(p["available"]), datetime.fromisoformat(p["as_of"]), p["currency"]

    assert Counter(map(balance, _of(mapped, "balance.snapshot"))) == Counter(
        map(balance, _of(canonical, "balance.snapshot"))
    )

    # Checking accounts open as themselves; other accounts come back as the product they hold.
    def deposit(p: dict[str, Any]) -> tuple[str, str]:
        return p["account_id"], p["account_type"]

    assert Counter(map(deposit, _of(mapped, "account.opened"))) == Counter(
        deposit(p) for p in _of(canonical, "account.opened") if p["account_type"] in ("checking", "prepaid")
    )

    # Holdings: the same products at the same institutions, as Open Finance data always is "elsewhere";
    # payroll accounts and insurance stay canonical.
    def held(p: dict[str, Any]) -> tuple[str, str]:
        return p["product"], p["institution"]

    assert all(p["at_other_institution"] for p in _of(mapped, "product.held"))
    assert Counter(map(held, _of(mapped, "product.held"))) == Counter(
        held(p) for p in _of(canonical, "product.held") if p["product"] not in brasil.STAYS_CANONICAL
    )

    # Everything the bank said is either in a document or left canonical, and nothing else came out.
    remainder = brasil.canonical_remainder(canonical)
    covered = {"transaction.booked", "balance.snapshot", "account.opened", "product.held"}
    assert {item["type"] for item in canonical} <= covered | {"customer.profiled"}
    assert {item["type"] for item in mapped} <= covered
    assert all(i["type"] == "customer.profiled" or i["payload"]["product"] in brasil.STAYS_CANONICAL for i in remainder)
    assert len([i for i in canonical if i["type"] == "customer.profiled"]) == len(
        [i for i in remainder if i["type"] == "customer.profiled"]
    )


def test_the_cpf_travels_only_in_the_header(bank: SyntheticBank) -> None:
    for i in CUSTOMERS:
        cpf = bank.customers["customer_id"].iloc[i]
        for request in brasil.customer_requests(bank, i):
            assert request.headers["X-Customer-Id"] == cpf
            body = json.dumps(request.document, ensure_ascii=False)
            assert cpf not in body and normalise_identifier(cpf) not in body
            assert "partieCnpjCpf" not in body and "ipocCode" not in body


def test_every_resource_is_one_ingest_serves_with_the_headers_it_needs(bank: SyntheticBank) -> None:
    seen = set()
    for i in CUSTOMERS:
        for request in brasil.customer_requests(bank, i):
            resource = mapper.Resource(request.resource)
            seen.add(resource)
            assert ("X-Account-Id" in request.headers) == (resource in mapper.NEEDS_PARENT)
            assert request.headers["X-Institution"]
    R = mapper.Resource
    assert seen == {
        R.ACCOUNTS,
        R.BALANCES,
        R.ACCOUNT_TRANSACTIONS,
        R.CREDIT_CARD_ACCOUNTS,
        R.CREDIT_CARD_TRANSACTIONS,
        R.LOANS,
        R.FINANCINGS,
        R.INVESTMENTS,
    }


def test_pages_carry_links_and_meta_like_the_standard(bank: SyntheticBank) -> None:
    items = bank.customer_events(22)  # the busiest statement of this bank
    whole = {
        (r.resource, r.headers.get("X-Account-Id")): r.document["data"]
        for r in brasil.brasil_requests(items, page_size=1000)
        if isinstance(r.document["data"], list)
    }
    paged: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
    multi = 0
    for r in brasil.brasil_requests(items, page_size=3):
        doc, meta, links = r.document, r.document["meta"], r.document["links"]
        assert set(doc) == {"data", "links", "meta"}
        assert meta["requestDateTime"].endswith("Z")
        if not isinstance(doc["data"], list):
            assert meta == {**meta, "totalRecords": 1, "totalPages": 1}
            continue
        assert 1 <= len(doc["data"]) <= 3
        page = int(links["self"].split("page=")[1].split("&")[0])
        assert -(-meta["totalRecords"] // 3) == meta["totalPages"]
        if meta["totalPages"] > 1:
            multi += 1
            assert links["first"].endswith("page=1&page-size=3")
            assert links["last"].endswith(f"page={meta['totalPages']}&page-size=3")
            assert ("prev" in links) == (page > 1) and ("next" in links) == (page < meta["totalPages"])
        paged.setdefault((r.resource, r.headers.get("X-Account-Id")), []).extend(doc["data"])
    assert multi > 0
    assert paged == whole


def test_deterministic_and_strict_about_amounts(bank: SyntheticBank) -> None:
    assert brasil.customer_requests(bank, 5) == brasil.customer_requests(bank, 5)
    again = generate_bank(40, seed=3, as_of=AS_OF)
    assert json.dumps(brasil.customer_requests(again, 5)) == json.dumps(brasil.customer_requests(bank, 5))
    items = bank.customer_events(5)
    txn = next(i for i in items if i["type"] == "transaction.booked")
    bad = {**txn, "payload": {**txn["payload"], "amount": "1.00001"}}
    with pytest.raises(ValueError, match="four decimal places"):
        brasil.brasil_requests([bad])
    assert brasil.brasil_requests([]) == []


def test_load_bank_brasil_posts_consents_remainder_and_documents(bank: SyntheticBank) -> None:
    posted: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        posted.append(request)
        if request.url.path == "/v1/consents":
            return httpx.Response(201, json={})
        n = len(json.loads(request.content).get("events", [])) or 1
        return httpx.Response(202, json={"received": n, "counts": {"accepted": n}})

    report = load_bank_brasil("http://gateway.test", bank, customers=[3, 8], transport=httpx.MockTransport(handler))
    assert report.consents == 2
    assert all(r.headers["x-api-key"] == "dev-ingest-key" for r in posted)
    paths = Counter(r.url.path.rsplit("/", 1)[0] if "brasil" in r.url.path else r.url.path for r in posted)
    assert paths["/v1/consents"] == 2 and paths["/v1/events:batch"] == 2
    brazilian = [r for r in posted if "/openfinance/brasil/" in r.url.path]
    assert len(brazilian) == sum(len(brasil.brasil_requests(bank.customer_events(i), page_size=25)) for i in (3, 8))
    cpfs = {bank.customers["customer_id"].iloc[i] for i in (3, 8)}
    assert {r.headers["x-customer-id"] for r in brazilian} == cpfs
    assert INSTITUTION in {r.headers["x-institution"] for r in brazilian}
    remainder = sum(len(brasil.canonical_remainder(bank.customer_events(i))) for i in (3, 8))
    assert report.received == remainder + len(brazilian) == report.counts["accepted"]
