"""Point-in-time training snapshots: the event log replayed per customer, features as of each label time.

    python -m feature_store.snapshot --labels labels.csv --out features.parquet [--events log.jsonl]

`labels` (CSV or Parquet) has `customer_key,label_time` and any other columns (labels, weights),
which are copied through. Each row gets the feature vector computed by the online code path
(`mutation_for` → `MemoryCustomer` → `compute_features`) from the events that occurred at or
before its `label_time` — nothing later leaks in. Without `--events` the log is read from
`account-events.v1` on `KAFKA_BOOTSTRAP_SERVERS`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from feature_store.domain.aggregation import Mutation, compute_features, held_products, last_event_at, mutation_for
from feature_store.domain.definitions import FEATURE_NAMES, FEATURE_SET_VERSION
from feature_store.domain.replay import MemoryCustomer
from feature_store.eventlog import LogStats, erasure_times, events, jsonl_records, topic_records
from feature_store.progress import progress
from prometeo.contracts import Envelope, EventPayload, topics

# (occurred_at, event id, mutation) of one customer
Timeline = list[tuple[datetime, str, Mutation]]


def read_labels(path: Path) -> pa.Table:
    if path.suffix in {".parquet", ".pq"}:
        table = pq.read_table(path)
    else:  # keys stay text: an all-digit key must not become a number and lose its leading zeros
        table = pa_csv.read_csv(path, convert_options=pa_csv.ConvertOptions(column_types={"customer_key": pa.string()}))
    missing = {"customer_key", "label_time"} - set(table.column_names)
    if missing:
        raise SystemExit(f"{path}: missing column(s) {sorted(missing)}")
    return table


def _utc(value: datetime | str) -> datetime:
    ts = datetime.fromisoformat(value) if isinstance(value, str) else value
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def timelines(items: Iterable[tuple[Envelope, EventPayload]], wanted: set[str]) -> dict[str, Timeline]:
    """The wanted customers' mutations, in the order their events occurred."""
    out: dict[str, Timeline] = {ck: [] for ck in wanted}
    for envelope, payload in items:
        timeline = out.get(envelope.customer_key)
        if timeline is not None:
            occurred = _utc(envelope.occurred_at)
            timeline.append((occurred, str(envelope.event_id), mutation_for(payload, occurred)))
    for timeline in out.values():
        timeline.sort(key=lambda t: (t[0], t[1]))
    return out


def feature_rows(labels: list[tuple[str, datetime]], log: dict[str, Timeline]) -> list[dict[str, object]]:
    """One row per label, in the labels' order. Each customer is replayed once, label times ascending."""
    order = sorted(range(len(labels)), key=lambda i: (labels[i][0], labels[i][1]))
    rows: list[dict[str, object]] = [{} for _ in labels]
    customer, current, cursor = MemoryCustomer(), None, 0
    for i in order:
        ck, at = labels[i]
        if ck != current:
            customer, current, cursor = MemoryCustomer(), ck, 0
        timeline = log.get(ck, [])
        while cursor < len(timeline) and timeline[cursor][0] <= at:
            _, event_id, mutation = timeline[cursor]
            customer.apply(event_id, mutation)
            cursor += 1
        state = customer.state()
        here, elsewhere = held_products(state.profile)
        rows[i] = {
            "feature_set_version": FEATURE_SET_VERSION,
            "last_event_at": last_event_at(state.profile),
            **compute_features(state, at),
            "held_products": here,
            "held_elsewhere": elsewhere,
        }
    return rows


def build(labels: pa.Table, items: Iterable[tuple[Envelope, EventPayload]]) -> pa.Table:
    keys = [str(k) for k in labels.column("customer_key").to_pylist()]
    times = [_utc(t) for t in labels.column("label_time").to_pylist()]
    rows = feature_rows(list(zip(keys, times, strict=True)), timelines(items, set(keys)))
    columns: dict[str, pa.Array] = {
        "customer_key": pa.array(keys, pa.string()),
        "label_time": pa.array(times, pa.timestamp("us", tz="UTC")),
        "feature_set_version": pa.array([r["feature_set_version"] for r in rows], pa.string()),
        "last_event_at": pa.array([r["last_event_at"] for r in rows], pa.timestamp("us", tz="UTC")),
    }
    for name in FEATURE_NAMES:
        columns[name] = pa.array([r[name] for r in rows], pa.float64())
    for name in ("held_products", "held_elsewhere"):
        columns[name] = pa.array([r[name] for r in rows], pa.list_(pa.string()))
    for name in labels.column_names:
        if name not in columns:
            columns[name] = labels.column(name)
    table = pa.table(columns)
    return table.replace_schema_metadata({"feature_set_version": FEATURE_SET_VERSION})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m feature_store.snapshot", description=__doc__.split("\n")[0])
    parser.add_argument("--labels", type=Path, required=True, help="CSV or Parquet: customer_key,label_time[,...]")
    parser.add_argument("--out", type=Path, required=True, help="Parquet file to write")
    parser.add_argument("--events", type=Path, help="JSONL of envelopes (default: read the Kafka topic)")
    parser.add_argument("--bootstrap", help="Kafka bootstrap servers (default: KAFKA_BOOTSTRAP_SERVERS)")
    parser.add_argument("--topic", default=topics.ACCOUNT_EVENTS)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    labels = read_labels(args.labels)
    bootstrap = args.bootstrap or _default_bootstrap()
    stats = LogStats(erasures=erasure_times(bootstrap, args.events))
    total, values = jsonl_records(args.events) if args.events else topic_records(bootstrap, args.topic)
    with progress(total, "events", disable=args.no_progress) as bar:
        table = build(labels, events(bar.wrap(values), stats))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, args.out)
    print(
        f"wrote {table.num_rows} rows × {len(FEATURE_NAMES)} features ({FEATURE_SET_VERSION}) to {args.out}; "
        f"events read {stats.read}, invalid {stats.invalid}, dropped by erasure {stats.erased}",
        file=sys.stderr,
    )
    return 0


def _default_bootstrap() -> str:
    from feature_store.settings import get_settings

    return get_settings().kafka_bootstrap_servers


if __name__ == "__main__":
    raise SystemExit(main())
