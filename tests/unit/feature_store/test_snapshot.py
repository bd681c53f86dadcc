"""Point-in-time snapshots from an exported event log: nothing known after a label time leaks in."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from feature_store import snapshot
from feature_store.domain.aggregation import compute_features, mutation_for
from feature_store.domain.definitions import FEATURE_NAMES, FEATURE_SET_VERSION
from feature_store.domain.replay import MemoryCustomer
from prometeo.contracts import Envelope, new_event
from prometeo.contracts.events import CustomerErasureRequestedV1, Direction, TransactionBookedV1
from prometeo.contracts.products import ProductCode
from tests.factories import NOW, balance, booked, held

A, B, GONE = "ck_snap_a", "ck_snap_b", "ck_snap_gone"


def _known_late(ck: str) -> Envelope:
    """Booked two days before NOW but only reported an hour after it."""
    payload = TransactionBookedV1(
        account_id="acc-1",
        transaction_id="late-report",
        direction=Direction.DEBIT,
        amount=Decimal("777.00"),
        booked_at=NOW - timedelta(days=2),
        mcc="5812",
    )
    return new_event(payload, customer_key=ck, source="tests", occurred_at=NOW + timedelta(hours=1))


def _log() -> list[Envelope]:
    later = NOW + timedelta(hours=1)
    return [
        booked(A, "100.00", at=NOW - timedelta(days=10)),
        balance(A, "2500.00", at=NOW - timedelta(days=1)),
        booked(A, "9999.00", mcc="4511", at=later),
        _known_late(A),
        new_event(held(A, ProductCode.MORTGAGE, elsewhere=True).typed(), customer_key=A, source="t", occurred_at=later),
        booked(B, "50.00", direction=Direction.CREDIT, payroll=True, mcc=None, at=NOW - timedelta(days=5)),
        booked(GONE, "10.00", at=NOW - timedelta(days=3)),
        new_event(CustomerErasureRequestedV1(reason="data_subject_request"), customer_key=GONE, source="t"),
    ]


def _run(tmp_path: Path, log: list[Envelope]) -> list[dict[str, Any]]:
    events = tmp_path / "events.jsonl"
    events.write_text("".join(e.model_dump_json() + "\n" for e in log) + "not json\n")
    labels = tmp_path / "labels.csv"
    day_after = (NOW + timedelta(days=1)).isoformat()
    labels.write_text(
        f"customer_key,label_time,label\n{A},{NOW.isoformat()},1\n{B},{NOW.isoformat()},0\n"
        f"{A},{day_after},0\n{GONE},{NOW.isoformat()},1\n"
    )
    out = tmp_path / "out" / "features.parquet"
    assert snapshot.main(["--labels", str(labels), "--events", str(events), "--out", str(out), "--no-progress"]) == 0
    table = pq.read_table(out)
    assert table.schema.metadata[b"feature_set_version"] == FEATURE_SET_VERSION.encode()
    return table.to_pylist()


def test_nothing_after_the_label_time_leaks_in(tmp_path: Path) -> None:
    a_now, b_now, a_later, gone = _run(tmp_path, _log())
    assert [r["customer_key"] for r in (a_now, b_now, a_later, gone)] == [A, B, A, GONE]  # the labels' order
    assert [r["label"] for r in (a_now, b_now, a_later, gone)] == [1, 0, 0, 1]  # copied through
    assert a_now["outflow_30d"] == 100.0  # not the 9,999 after it, nor the 777 reported after it
    assert a_now["spend_travel_30d"] == a_now["spend_restaurants_30d"] == 0.0
    assert a_now["held_elsewhere"] == [] and a_now["balance_current"] == 2500.0
    assert a_now["last_event_at"] <= a_now["label_time"]
    # A day later all of it is known, including the late-reported booking dated before the label.
    assert a_later["outflow_30d"] == 100.0 + 9999.0 + 777.0
    assert a_later["held_elsewhere"] == ["mortgage"]
    assert b_now["salary_30d"] == 50.0 and b_now["outflow_30d"] == 0.0
    assert gone["txn_count_30d"] == 0.0 and gone["last_event_at"] is None  # erased: replayed as never seen


def test_rows_equal_the_online_computation_on_the_events_known_then(tmp_path: Path) -> None:
    """Same code path as online: replaying only the events known at NOW gives the same vector."""
    log = _log()
    a_now = _run(tmp_path, log)[0]
    memory = MemoryCustomer()
    for e in log:
        if e.customer_key == A and e.occurred_at <= NOW:
            memory.apply(str(e.event_id), mutation_for(e.typed(), e.occurred_at))
    assert {k: a_now[k] for k in FEATURE_NAMES} == compute_features(memory.state(), NOW)


def test_parquet_labels_with_timestamps_work_too(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text("".join(e.model_dump_json() + "\n" for e in _log()))
    labels = tmp_path / "labels.parquet"
    pq.write_table(pa.table({"customer_key": [B], "label_time": pa.array([NOW], pa.timestamp("us", tz="UTC"))}), labels)
    out = tmp_path / "features.parquet"
    assert snapshot.main(["--labels", str(labels), "--events", str(events), "--out", str(out), "--no-progress"]) == 0
    [row] = pq.read_table(out).to_pylist()
    assert row["customer_key"] == B and row["salary_30d"] == 50.0
