"""Topics are created explicitly (partitions, compaction, retention from contracts/topics.py) and
checked at service start: production brokers run with auto-creation off, so a topic that is missing
or was auto-created with other settings is reported instead of silently used."""

from __future__ import annotations

import contextlib
import logging

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from prometeo.contracts.topics import ALL_TOPICS, PARTITIONS, dead_letter_topic, topic_config

log = logging.getLogger(__name__)


def _every(topics: tuple[str, ...]) -> list[str]:
    return [t for name in topics for t in (name, dead_letter_topic(name))]


def ensure_topics(bootstrap_servers: str, partitions: int = PARTITIONS, topics: tuple[str, ...] = ALL_TOPICS) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="prometeo-admin")
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(topic, num_partitions=partitions, replication_factor=1, topic_configs=topic_config(topic))
            for topic in _every(topics)
            if topic not in existing
        ]
        for topic in wanted:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics([topic])
        log.info("topics ready", extra={"topics_created": [t.name for t in wanted]})
    finally:
        admin.close()


def check_topics(
    bootstrap_servers: str, partitions: int = PARTITIONS, topics: tuple[str, ...] = ALL_TOPICS
) -> list[str]:
    """Mismatches between the broker's topics and the contracts: missing topics, partition counts,
    `cleanup.policy` and `retention.ms` (where the broker reports its configs; Tansu reports none)."""
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap_servers, client_id="prometeo-topic-check", request_timeout_ms=5000
    )
    problems: list[str] = []
    try:
        names = _every(topics)
        existing = set(admin.list_topics())
        present = [t for t in names if t in existing]
        problems += [f"{t}: missing" for t in names if t not in existing]
        for described in admin.describe_topics(present) if present else []:
            count = len(described.get("partitions") or [])
            if count != partitions:
                problems.append(f"{described['name']}: {count} partitions, expected {partitions}")
        resources = [ConfigResource(ConfigResourceType.TOPIC, t) for t in present]
        reported: dict[str, dict[str, str]] = {}
        if resources:
            reported = _configs(admin.describe_configs(resources, config_filter="all"))
        for topic in present:
            actual = reported.get(topic, {})
            for key, expected in topic_config(topic).items():
                if key in actual and actual[key] != expected:
                    problems.append(f"{topic}: {key}={actual[key]}, expected {expected}")
    finally:
        admin.close()
    if problems:
        log.error("topic configuration mismatch", extra={"problems": problems[:20]})
    return problems


def _configs(answer: object) -> dict[str, dict[str, str]]:
    """kafka-python answers describe_configs as `{'topic': {name: {key: value}}}` (3.x) or as
    response objects (older): read what is there, nothing when the broker reports nothing."""
    out: dict[str, dict[str, str]] = {}
    if isinstance(answer, dict):
        for name, entries in (answer.get("topic") or {}).items():
            if isinstance(entries, dict):
                out[str(name)] = {str(k): str(v.get("value") if isinstance(v, dict) else v) for k, v in entries.items()}
    return out
