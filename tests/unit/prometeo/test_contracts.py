import json

import pytest

from prometeo.bus.producer import CustomerPartitioner
from prometeo.contracts import Channel, InvalidEvent, decode, new_event, registered_types
from prometeo.contracts.envelope import customer_part
from prometeo.contracts.events import (
    ConsentGrantedV1,
    DataScope,
    MarketingPermission,
    MarketingPermissionChangedV1,
    TransactionBookedV1,
)
from prometeo.contracts.topics import ALL_TOPICS, dead_letter_topic
from tests.factories import booked


def test_envelope_round_trips_through_bytes() -> None:
    event = booked("ck_roundtrip_1", "12.34")
    envelope, payload = decode(event.to_bytes())
    assert envelope == event
    assert isinstance(payload, TransactionBookedV1) and str(payload.amount) == "12.34"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "envelope invalid"),
        (None, "empty message value"),
        (
            json.dumps(
                {
                    "type": "nope",
                    "occurred_at": "2026-01-01T00:00:00Z",
                    "customer_key": "ck_12345678",
                    "source": "t",
                    "payload": {},
                }
            ).encode(),
            "unknown event type",
        ),
    ],
)
def test_decode_names_the_reason(raw: bytes | None, reason: str) -> None:
    with pytest.raises(InvalidEvent, match=reason):
        decode(raw)


def test_payload_errors_carry_field_paths() -> None:
    data = json.loads(booked("ck_fieldpath1").to_bytes())
    data["payload"]["amount"] = "-5"
    with pytest.raises(InvalidEvent, match="amount"):
        decode(json.dumps(data).encode())


def test_every_topic_is_versioned_and_has_a_dlq() -> None:
    assert all(t.endswith(".v1") for t in ALL_TOPICS)
    assert dead_letter_topic("offers.v1") == "offers.v1.dlq"
    assert ("transaction.booked", 1) in registered_types()


class _Cluster:
    """The three questions a partitioner asks of cluster metadata."""

    def topics(self) -> set[str]:
        return {"consent-events.v1"}

    def partitions_for_topic(self, topic: str) -> set[int]:
        return set(range(12))

    def available_partitions_for_topic(self, topic: str) -> set[int]:
        return set(range(12))


def test_consent_events_compact_per_consent_and_channel_but_stay_with_their_customer() -> None:
    ck = "ck_12345678"
    grant = new_event(
        ConsentGrantedV1(consent_id="c-1", institution="bank-x", scopes=[DataScope.ACCOUNTS]),
        customer_key=ck,
        source="t",
    )
    opt_out = new_event(
        MarketingPermissionChangedV1(channel=Channel.SMS, permission=MarketingPermission.OPTED_OUT),
        customer_key=ck,
        source="t",
    )
    account = booked(ck, "1.00")
    assert grant.key == b"ck_12345678|consent_id=c-1" and opt_out.key == b"ck_12345678|channel=sms"
    assert account.key == ck.encode() and customer_part(grant.key) == customer_part(opt_out.key) == ck.encode()
    partitioner, cluster = CustomerPartitioner(), _Cluster()
    routed = {
        partitioner.partition("consent-events.v1", None, e.key, None, None, cluster) for e in (grant, opt_out, account)
    }
    assert len(routed) == 1  # one partition: the customer's events keep their order
    others = {
        partitioner.partition("consent-events.v1", None, f"ck_other{i:04d}".encode(), None, None, cluster)
        for i in range(50)
    }
    assert len(others) > 6  # and customers still spread over partitions


def test_customer_partitioner_lands_each_key_where_kafka_pythons_default_partitioner_does() -> None:
    from kafka.partitioner import DefaultPartitioner

    cached, default, cluster = CustomerPartitioner(), DefaultPartitioner(), _Cluster()
    for i in range(200):
        key = f"ck_{i:06d}".encode()
        for _ in range(2):  # the second call answers from the per-customer hash cache
            assert cached.partition("consent-events.v1", None, key, None, None, cluster) == default.partition(
                "consent-events.v1", None, key, None, None, cluster
            )


def test_registered_type_of_reads_the_type_decode_would_validate() -> None:
    from prometeo.contracts.envelope import registered_type_of

    assert registered_type_of(booked("ck_peek_0001").to_bytes()) == ("transaction.booked", 1)
    # Only the type and version are read: an envelope invalid elsewhere still names its type.
    invalid = json.loads(booked("ck_peek_0001").to_bytes())
    invalid["customer_key"] = "short"
    assert registered_type_of(json.dumps(invalid).encode()) == ("transaction.booked", 1)
    # What names no registered type is left to `decode`, which says why it is invalid.
    for raw in (None, b"{not json", b"[]", b'{"version": 1}', b'{"type": "no.such", "version": 1}'):
        assert registered_type_of(raw) is None
    assert registered_type_of(b'{"type": "transaction.booked", "version": 9}') is None
