from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from feature_store.domain.definitions import FEATURE_NAMES
from prometeo_dev.synthbank import PRODUCTS, SyntheticBank, generate_bank
from prometeo_dev.training_set import BLOCK, build_training_frame, feature_row
from scoring.domain.vector import held_columns, label_column

AS_OF = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def bank() -> SyntheticBank:
    return generate_bank(120, seed=3, as_of=AS_OF)


def test_frame_columns_and_labels(bank: SyntheticBank) -> None:
    frame = build_training_frame(bank)
    labels = [label_column(p.value) for p in PRODUCTS]
    assert list(frame.columns) == [*FEATURE_NAMES, *held_columns(), *labels]
    assert len(frame) == bank.n_customers
    assert frame.attrs["feature_set_version"]
    np.testing.assert_array_equal(frame[labels].to_numpy(), bank.labels)
    # Held flags come from the replayed product.held events and agree with the bank.
    here = frame[[f"held_here_{p.value}" for p in PRODUCTS]].to_numpy().astype(bool)
    np.testing.assert_array_equal(here, bank.held_here)
    assert (frame["txn_count_30d"] > 0).all()
    assert frame["spend_groceries_30d"].sum() > 0


def test_an_event_after_as_of_changes_nothing(bank: SyntheticBank) -> None:
    items = bank.customer_events(0)
    before = feature_row(items, AS_OF)
    later = (AS_OF + timedelta(hours=1)).isoformat()
    late = [
        {
            **items[0],
            "source_event_id": "late-txn",
            "type": "transaction.booked",
            "occurred_at": later,
            "payload": {
                "account_id": "acc-0-chk",
                "transaction_id": "late",
                "direction": "debit",
                "amount": "9999.00",
                "booked_at": later,
                "mcc": "4511",
            },
        },
        {
            **items[0],
            "source_event_id": "late-held",
            "type": "product.held",
            "occurred_at": later,
            "payload": {"product": "mortgage", "at_other_institution": True},
        },
    ]
    assert feature_row(items + late, AS_OF) == before
    # ...and the same events do count once as_of has passed them.
    after = AS_OF + timedelta(days=1)
    assert feature_row(items + late, after)["spend_travel_30d"] >= feature_row(items, after)["spend_travel_30d"] + 9999


def test_an_as_of_before_the_activity_sees_none_of_it(bank: SyntheticBank) -> None:
    items = bank.customer_events(1)
    assert feature_row(items, AS_OF)["outflow_90d"] > 0
    early = feature_row(items, AS_OF - timedelta(days=bank.months * 30 + 1))
    assert early["outflow_90d"] == early["txn_count_30d"] == early["balance_current"] == 0


def test_forked_workers_build_the_same_frame() -> None:
    bank = generate_bank(BLOCK * 2 + 40, seed=9, as_of=AS_OF)
    pd.testing.assert_frame_equal(build_training_frame(bank, workers=2), build_training_frame(bank))


def test_time_split_trains_on_the_earlier_snapshot_and_evaluates_on_the_later(bank: SyntheticBank) -> None:
    from prometeo_dev.training_set import build_time_split

    earlier, later = build_time_split(bank)
    labels = [label_column(p.value) for p in PRODUCTS]
    assert list(earlier.columns) == list(later.columns)
    assert earlier.attrs["as_of"] == bank.earlier_as_of.isoformat() and later.attrs["as_of"] == AS_OF.isoformat()
    np.testing.assert_array_equal(earlier[labels].to_numpy(), bank.earlier_labels)
    np.testing.assert_array_equal(later[labels].to_numpy(), bank.labels)
    # Tenure is counted at the snapshot: one horizon less on the earlier one.
    assert (later["tenure_days"] - earlier["tenure_days"]).max() <= bank.horizon_days
    pd.testing.assert_frame_equal(
        earlier, build_training_frame(bank, bank.earlier_as_of).assign(**{c: earlier[c] for c in labels})
    )


def test_each_snapshot_sees_the_life_events_up_to_it_and_none_after() -> None:
    # A raise shows (life_salary_raise) in the snapshot whose latest month it fell in: month 0's in
    # the later frame only, month 1's in the earlier frame. The earlier frame never sees month 0.
    from prometeo_dev.training_set import build_time_split

    bank = generate_bank(400, seed=13, as_of=AS_OF)
    earlier, later = build_time_split(bank)
    month = bank.customers["salary_raise_month"].to_numpy()
    assert (month == 0).sum() >= 10 and (month == 1).sum() >= 10
    assert later["life_salary_raise"][month == 0].mean() > 0.9
    assert earlier["life_salary_raise"][month == 1].mean() > 0.9
    assert earlier["life_salary_raise"][month == 0].mean() < 0.2
    assert later["life_salary_raise"][month == 1].mean() < 0.2
