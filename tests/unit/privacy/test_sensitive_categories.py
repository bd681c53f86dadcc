"""Sensitive categories stay out (#17): no feature definition, reason text, generated message or
audience rule reveals health, religious, political or trade-union spending."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from campaigns.adapters.base import Delivery
from campaigns.adapters.smtp import SmtpConfig, compose
from campaigns.domain.campaign import Condition
from feature_store.domain.aggregation import mutation_for
from feature_store.domain.definitions import FEATURES
from feature_store.domain.mcc import CATEGORIES, category_for, transaction_metrics
from prometeo.contracts import ProductCode
from prometeo.contracts.events import Direction, TransactionBookedV1, TransactionKind
from prometeo.privacy import SENSITIVE_MCCS, SensitiveCategory, is_sensitive_name, sensitive_terms_in
from scoring.domain.reasons import PRODUCT_NAMES, SPECS, product_gap

# The MCCs the issue names, at the least.
NAMED = {"8011", "8021", "8031", "8041", "8042", "8043", "8049", "8050", "8062", "8071", "8099", "5912", "5122"}
NAMED |= {"8661", "8651", "8641"}


def test_the_declared_list_covers_health_religious_political_and_trade_union_merchants() -> None:
    assert set(SENSITIVE_MCCS) >= NAMED
    assert set(SENSITIVE_MCCS.values()) == set(SensitiveCategory)


@pytest.mark.parametrize("mcc", sorted(SENSITIVE_MCCS))
def test_a_sensitive_purchase_counts_in_totals_but_never_as_a_category_of_its_own(mcc: str) -> None:
    assert category_for(mcc) is None
    metrics = {m for m, _ in transaction_metrics(Direction.DEBIT, TransactionKind.PURCHASE, mcc, False)}
    assert metrics == {"outflow", "spend"}
    booked = TransactionBookedV1(
        account_id="a",
        transaction_id="t",
        direction=Direction.DEBIT,
        amount=Decimal("90"),
        booked_at=datetime(2026, 3, 3, tzinfo=UTC),
        mcc=mcc,
        kind=TransactionKind.PURCHASE,
    )
    fields = {field.split("|", 1)[1] for _, field, _ in mutation_for(booked).increments}
    assert fields == {"count", "outflow", "spend"}


def test_no_feature_definition_names_a_sensitive_category() -> None:
    assert not [c for c in CATEGORIES if is_sensitive_name(c)]
    offending = [f.name for f in FEATURES if is_sensitive_name(f.name) or sensitive_terms_in(f.description)]
    assert offending == []


def _every_reason_text() -> list[str]:
    high = {name: 5000.0 for spec in SPECS for name in spec.inputs} | {f.name: 5000.0 for f in FEATURES}
    low = dict.fromkeys(high, 0.0)
    texts: list[str] = []
    for spec in SPECS:
        for product in PRODUCT_NAMES:
            for values in (high, low):
                if phrase := spec.phrase(values, low, product):
                    texts.extend(phrase)
    for product in PRODUCT_NAMES:
        if gap := product_gap(product, low):
            texts += [gap.text_en, gap.text_es]
    return texts


def test_no_reason_text_reveals_a_sensitive_category() -> None:
    texts = _every_reason_text()
    assert len(texts) > 20  # the phrases did fire
    assert [t for t in texts if sensitive_terms_in(t)] == []
    assert not [s.code for s in SPECS if is_sensitive_name(s.code) or any(is_sensitive_name(i) for i in s.inputs)]


@pytest.mark.parametrize("product", list(ProductCode))
def test_no_generated_message_reveals_a_sensitive_category(product: ProductCode) -> None:
    delivery = Delivery(
        offer_id="of_1", decision_id="dc_1", customer_key="ck_x", product=product.value, channel="email"
    )
    message = compose(delivery, SmtpConfig(host="127.0.0.1"))
    assert sensitive_terms_in(f"{message['Subject']}\n{message.get_content()}") == []


@pytest.mark.parametrize(
    "field, value",
    [
        ("features.spend_health_30d", 1.0),
        ("segment.religion", "catholic"),
        ("segment.union_member", "yes"),
        ("segment.region", "Hospital district"),
    ],
)
def test_an_audience_rule_on_a_sensitive_category_is_refused(field: str, value: float | str) -> None:
    with pytest.raises(ValidationError, match="sensitive category"):
        Condition(field=field, op="eq", value=value)


def test_ordinary_words_are_not_mistaken_for_sensitive_ones() -> None:
    assert sensitive_terms_in("gastó R$ 1.200 en viajes; reunión con su asesor; communication") == []
    assert sensitive_terms_in("gastó R$ 300 en farmacias y salud") == ["farmac", "salud"]
