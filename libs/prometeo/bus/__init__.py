"""Kafka helpers on kafka-python: an acks=all producer, an at-least-once consumer loop with a DLQ."""

from prometeo.bus.admin import ensure_topics
from prometeo.bus.consumer import TRANSIENT_ERRORS, ConsumerLoop, Handler, RetryableError
from prometeo.bus.producer import EventProducer

__all__ = ["TRANSIENT_ERRORS", "ConsumerLoop", "EventProducer", "Handler", "RetryableError", "ensure_topics"]
