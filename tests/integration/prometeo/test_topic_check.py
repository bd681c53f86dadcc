"""Topics are created with the contracts' partitions, compaction and retention, and a topic created
any other way (e.g. broker auto-creation) is reported by the start-up check."""

from __future__ import annotations

import uuid

import pytest
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic

from prometeo.bus.admin import check_topics, ensure_topics
from prometeo.contracts import topics

pytestmark = pytest.mark.integration


def test_the_platform_topics_match_their_contracts(broker: str) -> None:
    ensure_topics(broker)
    assert check_topics(broker) == []


def test_a_topic_created_otherwise_is_reported(broker: str) -> None:
    name = f"check-{uuid.uuid4().hex[:6]}.v1"
    admin = KafkaAdminClient(bootstrap_servers=broker)
    try:
        admin.create_topics([NewTopic(name, num_partitions=4, replication_factor=1)])
    finally:
        admin.close()
    problems = check_topics(broker, topics=(name,))
    assert f"{name}: 4 partitions, expected 3" in problems
    assert f"{name}.dlq: missing" in problems


def test_the_consent_topic_is_compacted(broker: str) -> None:
    ensure_topics(broker)
    admin = KafkaAdminClient(bootstrap_servers=broker)
    try:
        answer = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topics.CONSENT_EVENTS)], config_filter="all"
        )
    finally:
        admin.close()
    assert answer["topic"][topics.CONSENT_EVENTS]["cleanup.policy"]["value"] == "compact"
