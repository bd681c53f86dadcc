"""The deeper features: salary raise, card utilisation, overdraft, product gaps, life events, freshness."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from feature_store.domain.aggregation import compute_features, last_event_at, mutation_for, segments
from feature_store.domain.definitions import FEATURE_NAMES, FEATURE_SET_VERSION, FEATURES, fingerprint
from feature_store.domain.replay import MemoryCustomer
from prometeo.contracts import Envelope, new_event
from prometeo.contracts.events import AccountClosedV1, AccountOpenedV1, BalanceSnapshotV1, CustomerProfiledV1, Direction
from prometeo.contracts.products import RETAIL_PRODUCTS, ProductCode
from tests.factories import NOW, balance, booked, held

CK = "ck_signals"


def _features(*events: Envelope) -> dict[str, float]:
    c = MemoryCustomer()
    for e in events:
        c.apply(str(e.event_id), mutation_for(e.typed(), e.occurred_at))
    return compute_features(c.state(), NOW)


def _salary(amount: str, days_ago: int) -> Envelope:
    return booked(CK, amount, direction=Direction.CREDIT, payroll=True, mcc=None, at=NOW - timedelta(days=days_ago))


def _opened(account: str, kind: str) -> Envelope:
    return new_event(AccountOpenedV1(account_id=account, account_type=kind), customer_key=CK, source="tests")


def _card(available: str, limit: str, days_ago: int) -> Envelope:
    at = NOW - timedelta(days=days_ago)
    payload = BalanceSnapshotV1(
        account_id="card-1", available=Decimal(available), credit_limit=Decimal(limit), as_of=at
    )
    return new_event(payload, customer_key=CK, source="tests", occurred_at=at)


def test_a_changed_feature_set_needs_a_new_version() -> None:
    """If this fails, the features changed: bump FEATURE_SET_VERSION, then record the new digest here."""
    assert (FEATURE_SET_VERSION, fingerprint()) == ("customer-features.v3", "9ab8f6b04498b318")


def test_registry_is_unique_and_described() -> None:
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)
    assert all(f.description and f.sources for f in FEATURES)
    assert {"spend_travel_90d", "salary_raise_pct", "card_utilisation_current", "life_travel_spike"} <= set(
        FEATURE_NAMES
    )


def test_salary_raise_compares_the_latest_payroll_with_the_earlier_ones() -> None:
    f = _features(_salary("4000.00", 65), _salary("4000.00", 35), _salary("5000.00", 5))
    assert f["salary_raise_pct"] == 25.0
    assert f["life_salary_raise"] == 1.0
    assert abs(f["salary_monthly_avg_90d"] - 13000 / 3) < 1e-9
    steady = _features(_salary("4000.00", 65), _salary("4000.00", 35), _salary("4000.00", 5))
    assert steady["salary_raise_pct"] == 0.0 and steady["life_salary_raise"] == 0.0


def test_card_utilisation_and_periods_near_the_limit() -> None:
    f = _features(
        _opened("card-1", "credit_card"),
        _card("50.00", "1000.00", 70),  # 95 % used: period 2
        _card("800.00", "1000.00", 60),  # 20 % from day 60 on
        _card("400.00", "1000.00", 10),  # 60 %
        balance(CK, "300.00", at=NOW - timedelta(days=2)),
    )
    assert f["card_utilisation_current"] == 0.6
    # Days 29..11 carry 20 %, days 10..0 carry 60 %.
    assert round(f["card_utilisation_avg_30d"], 6) == round((19 * 0.2 + 11 * 0.6) / 30, 6)
    assert f["card_months_near_limit_90d"] == 1
    # A card's available credit is not money the customer has.
    assert f["balance_current"] == 300.0
    assert f["accounts_open"] == 1


def test_overdraft_days_and_depth() -> None:
    f = _features(
        balance(CK, "200.00", at=NOW - timedelta(days=20)),
        balance(CK, "-150.00", at=NOW - timedelta(days=5)),
        balance(CK, "-40.00", at=NOW - timedelta(days=2)),
    )
    assert f["overdraft_days_30d"] == 6  # days 5..0
    assert f["overdraft_max_30d"] == 150.0
    assert f["balance_current"] == -40.0


def test_product_gaps_and_account_count() -> None:
    f = _features(
        held(CK, ProductCode.CREDIT_CARD),
        held(CK, ProductCode.CREDIT_CARD, elsewhere=True),
        held(CK, ProductCode.MORTGAGE, elsewhere=True),
        _opened("chk", "checking"),
        _opened("sav", "savings"),
        new_event(AccountClosedV1(account_id="sav"), customer_key=CK, source="tests"),
    )
    assert f["product_gaps_elsewhere"] == 1  # the mortgage; the card is held here too
    assert f["product_gaps_total"] == len(RETAIL_PRODUCTS) - 1
    assert f["accounts_open"] == 1


def test_life_events_travel_child_housing_and_idle_growth() -> None:
    f = _features(
        booked(CK, "100.00", mcc="4511", at=NOW - timedelta(days=50)),
        booked(CK, "900.00", mcc="4511", at=NOW - timedelta(days=4)),
        booked(CK, "30.00", mcc="5641", at=NOW - timedelta(days=80)),
        booked(CK, "200.00", mcc="5641", at=NOW - timedelta(days=20)),
        booked(CK, "1500.00", mcc="6513", at=NOW - timedelta(days=3)),
        balance(CK, "1000.00", at=NOW - timedelta(days=85)),
        balance(CK, "1500.00", at=NOW - timedelta(days=35)),
    )
    assert f["life_travel_spike"] == 1.0
    assert f["spend_travel_90d"] == 1000.0 and f["spend_travel_30d"] == 900.0
    assert f["life_child_spend"] == 1.0
    assert f["life_new_housing_payment"] == 1.0 and f["housing_payments_30d"] == 1500.0
    assert f["balance_growth_pct_90d"] == 50.0 and f["life_idle_balance_growth"] == 1.0
    quiet = _features(*(booked(CK, "100.00", mcc="4511", at=NOW - timedelta(days=d)) for d in (80, 50, 4)))
    assert quiet["life_travel_spike"] == quiet["life_new_housing_payment"] == quiet["life_child_spend"] == 0.0


def test_recency_frequency_and_engagement() -> None:
    f = _features(
        booked(CK, "10.00", at=NOW - timedelta(days=1)),
        booked(CK, "10.00", at=NOW - timedelta(days=1, hours=2)),
        booked(CK, "10.00", at=NOW - timedelta(days=60)),
        _salary("100.00", 12),
        new_event(CustomerProfiledV1(age_band="25-34", digital_archetype="activated"), customer_key=CK, source="t"),
    )
    assert f["txn_count_30d"] == 3 and f["txn_count_90d"] == 4
    assert f["active_days_30d"] == 2
    assert f["days_since_last_credit"] == 12 and f["days_since_last_txn"] == 1
    assert f["digital_archetype_index"] == 3


def test_freshness_is_the_newest_event_whatever_the_arrival_order() -> None:
    c = MemoryCustomer()
    newer, older = booked(CK, "1.00", at=NOW - timedelta(days=1)), booked(CK, "1.00", at=NOW - timedelta(days=9))
    for e in (newer, older):
        c.apply(str(e.event_id), mutation_for(e.typed(), e.occurred_at))
    assert last_event_at(c.state().profile) == NOW - timedelta(days=1)
    assert last_event_at(MemoryCustomer().state().profile) is None
    assert isinstance(NOW, datetime) and NOW.tzinfo is UTC


def test_salary_is_detected_from_regular_credits_without_a_payroll_flag() -> None:
    def credit(amount: str, days_ago: int) -> Envelope:
        return booked(CK, amount, direction=Direction.CREDIT, mcc=None, at=NOW - timedelta(days=days_ago))

    f = _features(credit("3000.00", 75), credit("3050.00", 45), credit("3600.00", 15), credit("80.00", 10))
    assert f["salary_detected"] == 1.0 and f["salary_30d"] == 0.0  # detected, not payroll-flagged
    assert round(f["salary_raise_pct"], 2) == round((3600 / 3025 - 1) * 100, 2)
    assert f["life_salary_raise"] == 1.0
    irregular = _features(credit("3000.00", 75), credit("1200.00", 45), credit("3600.00", 15))
    assert irregular["salary_detected"] == irregular["life_salary_raise"] == 0.0


def test_arrival_order_does_not_matter() -> None:
    """Late and out-of-order delivery: any permutation of the same events gives the same vector."""
    log = [
        _opened("card-1", "credit_card"),
        _card("300.00", "1000.00", 20),
        _card("900.00", "1000.00", 3),
        balance(CK, "100.00", at=NOW - timedelta(days=40)),
        balance(CK, "-20.00", at=NOW - timedelta(days=6)),
        balance(CK, "75.00", at=NOW - timedelta(days=6, hours=-2)),
        _salary("4000.00", 61),
        _salary("4000.00", 31),
        _salary("4400.00", 1),
        booked(CK, "250.00", mcc="4511", at=NOW - timedelta(days=8)),
        held(CK, ProductCode.SAVINGS, elsewhere=True),
    ]
    expected = _features(*log)
    rng = random.Random(7)
    for _ in range(20):
        shuffled = log[:]
        rng.shuffle(shuffled)
        assert _features(*shuffled) == expected


def test_profile_segments_carry_the_preferred_channel_downstream() -> None:
    c = MemoryCustomer()
    e = new_event(
        CustomerProfiledV1(age_band="25-34", digital_archetype="emerging", preferred_channel="whatsapp"),
        customer_key=CK,
        source="t",
    )
    c.apply(str(e.event_id), mutation_for(e.typed(), e.occurred_at))
    assert segments(c.state().profile) == {
        "digital_archetype": "emerging",
        "age_band": "25-34",
        "timezone": "America/Sao_Paulo",
        "preferred_channel": "whatsapp",
    }
