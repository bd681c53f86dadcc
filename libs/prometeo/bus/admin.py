"""Topic creation: every topic and its dead-letter topic, idempotently."""

from __future__ import annotations

import contextlib
import logging

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from prometeo.contracts.topics import ALL_TOPICS, COMPACTED_TOPICS, dead_letter_topic

log = logging.getLogger(__name__)


def ensure_topics(bootstrap_servers: str, partitions: int = 3, topics: tuple[str, ...] = ALL_TOPICS) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="prometeo-admin")
    try:
        existing = set(admin.list_topics())
        wanted = []
        for name in topics:
            for topic in (name, dead_letter_topic(name)):
                if topic in existing:
                    continue
                config = {"cleanup.policy": "compact"} if topic in COMPACTED_TOPICS else {}
                wanted.append(NewTopic(topic, num_partitions=partitions, replication_factor=1, topic_configs=config))
        for topic in wanted:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics([topic])
        log.info("topics ready", extra={"topics_created": [t.name for t in wanted]})
    finally:
        admin.close()
