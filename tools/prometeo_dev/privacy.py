"""Prove an erasure: scan every service's state for what is left of one customer.

    python -m prometeo_dev.privacy verify <customer id or ck_ key> [--redis URL] [--service name=URL ...]

Two views, so a service that forgets a key in its own export is still caught:
  * each service's own account, `GET /internal/v1/customers/{ck}/export` (what it says it holds);
  * a dev-tool sweep of Redis: every key naming the customer and every value that contains their key,
    whichever prefix it sits under (services never read each other's prefixes; this tool may, it is
    not part of the platform).

With `--bootstrap`, the topics that keep customers' events are read too and what they still hold is listed
as `on_log`: a log is not rewritten by an erasure (account events age out in 130 days; the compacted consent
topic keeps each consent's latest event until it is tombstoned), so it is reported, not counted as residue.

Not residue: erasure tombstones (`<service>:erased:{ck}`, the gateway scope's `erased_at`), which keep
replays from resurrecting the customer, and the records kept by obligation — the gateway's audit trail
and data-subject request log (`gateway:dsr:*`), listed as `retained`. Exit status 1 when residue is found.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
import redis as redis_lib
from kafka import KafkaConsumer, TopicPartition

from prometeo.contracts import topics as topic_names
from prometeo.contracts.envelope import customer_part
from prometeo.identity import customer_key as pseudonymise
from prometeo.privacy.client import internal_client
from prometeo.privacy.export import EXPORT_PATH
from prometeo.settings import DEV_PSEUDONYM_KEY

DEFAULT_SERVICES: dict[str, str] = {
    "ingest-openfinance": "http://127.0.0.1:8001",
    "feature-store": "http://127.0.0.1:8002",
    "scoring": "http://127.0.0.1:8003",
    "next-best-action": "http://127.0.0.1:8004",
    "campaigns": "http://127.0.0.1:8005",
}
# Records kept after erasure because the law asks for them (accountability), not residue.
RETAINED_PREFIXES: tuple[str, ...] = ("gateway:dsr:",)
TOMBSTONE_FIELDS: frozenset[str] = frozenset({"erased_at"})


@dataclass
class Finding:
    where: str  # "redis" or the service whose export holds it
    key: str
    detail: str

    def __str__(self) -> str:
        return f"{self.where}: {self.key} ({self.detail})"


@dataclass
class Report:
    customer_key: str
    residue: list[Finding] = field(default_factory=list)
    retained: list[Finding] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    on_log: dict[str, int] = field(default_factory=dict)  # topic → records still naming the customer

    @property
    def clean(self) -> bool:
        return not self.residue and not self.unreachable

    def render(self) -> str:
        verdict = (
            "RESIDUE FOUND"
            if self.residue
            else "INCOMPLETE: not every service answered"
            if self.unreachable
            else "no residue"
        )
        lines = [f"customer {self.customer_key}: {verdict}"]
        lines += [f"  residue   {f}" for f in self.residue]
        lines += [f"  retained  {f}" for f in self.retained]
        lines += [f"  unreachable {s}" for s in self.unreachable]
        lines += [f"  on the log {topic}: {count} record(s)" for topic, count in sorted(self.on_log.items())]
        return "\n".join(lines)


def _is_tombstone(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and set(value) <= TOMBSTONE_FIELDS


def scan_exports(customer_key: str, clients: Mapping[str, httpx.Client], report: Report) -> None:
    """Each service's own account of what it holds about the customer."""
    path = EXPORT_PATH.format(customer_key=customer_key)
    for service, client in clients.items():
        try:
            response = client.get(path)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            report.unreachable.append(f"{service} ({type(exc).__name__})")
            continue
        items: dict[str, Any] = response.json().get("items", {})
        for part, value in sorted(items.items()):
            if not _is_tombstone(value):
                report.residue.append(Finding(service, part, "held in its export"))


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _values(client: redis_lib.Redis, key: str, kind: str) -> Iterable[str]:
    if kind == "string":
        raw = client.get(key)
        return [_text(cast("bytes", raw))] if raw is not None else []
    if kind == "hash":
        return [f"{_text(k)}={_text(v)}" for k, v in cast("dict[bytes, bytes]", client.hgetall(key)).items()]
    if kind == "zset":
        return [_text(m) for m in cast("list[bytes]", client.zrange(key, 0, -1))]
    if kind == "set":
        return [_text(m) for m in cast("set[bytes]", client.smembers(key))]
    if kind == "list":
        return [_text(m) for m in cast("list[bytes]", client.lrange(key, 0, -1))]
    return []


def scan_redis(customer_key: str, client: redis_lib.Redis, report: Report) -> None:
    """Every key naming the customer, and every value holding their key, under any prefix."""
    for raw_key in client.scan_iter(count=1000):
        key = _text(raw_key)
        if key.startswith(RETAINED_PREFIXES):
            if any(customer_key in v for v in _values(client, key, _text(client.type(key)))):
                report.retained.append(Finding("redis", key, "data-subject request record"))
            continue
        kind = _text(client.type(key))
        if customer_key in key:
            if key.endswith(f":erased:{customer_key}"):
                continue
            if kind == "hash" and {_text(f) for f in cast("list[bytes]", client.hkeys(key))} <= TOMBSTONE_FIELDS:
                continue
            report.residue.append(Finding("redis", key, f"{kind} named after the customer"))
            continue
        hits = [v for v in _values(client, key, kind) if customer_key in v]
        if hits:
            report.residue.append(Finding("redis", key, f"{kind} holding the customer's key in {len(hits)} value(s)"))


# The logs that keep a customer's own events (the others carry derived events that age out in days).
LOG_TOPICS: tuple[str, ...] = (topic_names.CONSENT_EVENTS, topic_names.ACCOUNT_EVENTS)


def scan_topics(customer_key: str, bootstrap: str, report: Report, names: Sequence[str] = LOG_TOPICS) -> None:
    """Count the records each log still holds under the customer's key (read from the first offset)."""
    wanted = customer_key.encode()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    try:
        for topic in names:
            partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
            if not partitions:
                continue
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            end = consumer.end_offsets(partitions)
            count, empty = 0, 0
            while empty < 3 and not all(consumer.position(tp) >= end[tp] for tp in partitions):
                batch = consumer.poll(timeout_ms=300)
                empty = 0 if batch else empty + 1
                for records in batch.values():
                    count += sum(1 for r in records if r.key is not None and customer_part(r.key) == wanted)
            if count:
                report.on_log[topic] = count
    finally:
        consumer.close()


def verify(
    customer_key: str,
    clients: Mapping[str, httpx.Client],
    redis_client: redis_lib.Redis | None = None,
    bootstrap: str | None = None,
) -> Report:
    report = Report(customer_key)
    scan_exports(customer_key, clients, report)
    if redis_client is not None:
        scan_redis(customer_key, redis_client, report)
    if bootstrap is not None:
        scan_topics(customer_key, bootstrap, report)
    return report


def _key(customer: str) -> str:
    if customer.startswith("ck_"):
        return customer
    return pseudonymise(customer, os.environ.get("PROMETEO_PSEUDONYM_KEY", DEV_PSEUDONYM_KEY))


def _services(pairs: Sequence[str]) -> dict[str, str]:
    services = dict(DEFAULT_SERVICES)
    for pair in pairs:
        name, _, url = pair.partition("=")
        if not url:
            raise SystemExit(f"--service wants name=URL, got {pair!r}")
        services[name] = url
    return services


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m prometeo_dev.privacy", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("verify", help="report any residue of an erased customer")
    check.add_argument(
        "customer", help="the bank's customer id (pseudonymised with PROMETEO_PSEUDONYM_KEY) or a ck_ key"
    )
    check.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    check.add_argument("--no-redis", action="store_true", help="only ask the services' export endpoints")
    check.add_argument("--service", action="append", default=[], metavar="NAME=URL", help="override a service URL")
    check.add_argument("--bootstrap", help="also list what the logs still hold (Kafka bootstrap servers)")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    ck = _key(args.customer)
    clients = {name: internal_client(url, name) for name, url in _services(args.service).items()}
    redis_client = None if args.no_redis else redis_lib.Redis.from_url(args.redis)
    try:
        report = verify(ck, clients, redis_client, args.bootstrap)
    finally:
        for client in clients.values():
            client.close()
        if redis_client is not None:
            redis_client.close()
    if args.json:
        print(
            json.dumps(
                {
                    "customer_key": report.customer_key,
                    "clean": report.clean,
                    "residue": [f.__dict__ for f in report.residue],
                    "retained": [f.__dict__ for f in report.retained],
                    "unreachable": report.unreachable,
                    "on_log": report.on_log,
                },
                indent=2,
            )
        )
    else:
        print(report.render())
    return 0 if report.clean else 1


if __name__ == "__main__":
    sys.exit(main())
