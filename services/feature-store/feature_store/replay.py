"""Replay / backfill: rebuild the Redis aggregates from the account-event log.

    python -m feature_store.replay [--reset] [--events log.jsonl] [--bootstrap H:P] [--redis-url URL]

Reads `account-events.v1` from its first offset (partitions assigned, no group: the live
service's committed offsets do not move) or a JSONL export, and applies every event with
`FeatureRepository.apply_many` — the service's own atomic, idempotent script. Without `--reset`
it is a backfill: events already applied are no-ops by their markers. `--reset` first deletes
every customer's aggregates and every applied-marker (erasure tombstones stay); stop the
service while it runs. Events ingested before a customer's latest erasure are skipped, and the
tombstones of customers still erased are restored from customer-erasure.v1 first. (A running service
rebuilds by itself after a wiped Redis: see docs/redis-keys.md.)
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import redis

from feature_store.domain.aggregation import Mutation, mutation_for
from feature_store.eventlog import LogStats, erasure_times, events, jsonl_records, topic_records
from feature_store.progress import progress
from feature_store.settings import get_settings
from feature_store.store import ApplyResult, FeatureRepository
from prometeo import keys
from prometeo.contracts import topics
from prometeo.keys import FEATURES
from prometeo.views import ErasureLog


def reset(client: redis.Redis) -> int:
    """Delete aggregates and applied-markers, keeping erasure tombstones."""
    deleted = 0
    for pattern in (keys.customer(FEATURES, "*"), keys.processed_event(FEATURES, "*")):
        batch: list[bytes] = []
        for key in client.scan_iter(match=pattern, count=1_000):
            batch.append(key)
            if len(batch) >= 1_000:
                deleted += client.unlink(*batch)
                batch.clear()
        if batch:
            deleted += client.unlink(*batch)
    return deleted


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m feature_store.replay", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=Path, help="JSONL of envelopes (default: read the Kafka topic)")
    parser.add_argument("--bootstrap", default=settings.kafka_bootstrap_servers)
    parser.add_argument("--topic", default=topics.ACCOUNT_EVENTS)
    parser.add_argument("--redis-url", default=settings.redis_url)
    parser.add_argument("--reset", action="store_true", help="delete aggregates and markers first")
    parser.add_argument("--batch-size", type=int, default=2_000)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    client = redis.Redis.from_url(args.redis_url)
    repository = FeatureRepository(client, settings.processed_ttl_s)
    if args.reset:
        print(f"reset: {reset(client)} keys deleted", file=sys.stderr)
    if not args.events:
        # Tombstones first, from customer-erasure.v1 (compacted): a Redis that lost them gets them back.
        for ck in ErasureLog.read(args.bootstrap).still_erased():
            repository.mark_erased(ck)
    stats = LogStats(erasures=erasure_times(args.bootstrap, args.events))
    total, values = jsonl_records(args.events) if args.events else topic_records(args.bootstrap, args.topic)
    outcomes: Counter[str] = Counter()
    pending: list[tuple[str, str, Mutation]] = []

    def flush() -> None:
        for result in repository.apply_many(pending):
            outcomes[ApplyResult(result).name.lower()] += 1
        pending.clear()

    with progress(total, "events", disable=args.no_progress) as bar:
        for envelope, payload in events(bar.wrap(values), stats):
            pending.append((str(envelope.event_id), envelope.customer_key, mutation_for(payload, envelope.occurred_at)))
            if len(pending) >= args.batch_size:
                flush()
                bar.note(**outcomes)
        if pending:
            flush()
    client.close()
    print(
        f"replayed {stats.read} events: applied {outcomes['applied']}, duplicate {outcomes['duplicate']}, "
        f"refused (erased) {outcomes['erased']}, skipped by erasure {stats.erased}, invalid {stats.invalid}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
