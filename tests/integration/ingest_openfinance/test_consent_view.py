"""The consent view in a real Redis: a lagging replay of an older consent event never overwrites a newer state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import redis as redis_lib

from ingest_openfinance.consumers.consent_events import ConsentEventsHandler
from ingest_openfinance.domain.consent import ConsentRecord
from ingest_openfinance.store import ConsentStore
from prometeo import clock
from prometeo.contracts import new_event
from prometeo.contracts.events import ConsentGrantedV1, ConsentStatus, DataScope, Purpose

pytestmark = pytest.mark.integration


def _granted(consent_id: str, days: int) -> ConsentGrantedV1:
    return ConsentGrantedV1(
        consent_id=consent_id,
        institution="bb",
        scopes=[DataScope.ACCOUNTS],
        purposes=[Purpose.CROSS_SELL_ANALYTICS],
        expires_at=clock.now() + timedelta(days=days),
    )


def test_an_older_event_replayed_after_an_extension_leaves_the_extension(
    redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    store, ck, consent_id = ConsentStore(redis), unique("ck_view"), unique("consent")
    first = new_event(_granted(consent_id, 90), customer_key=ck, source="test")
    extension = _granted(consent_id, 365)
    # The instance that registered the extension writes it at once; its own older event comes back later.
    store.put(
        ck,
        ConsentRecord(
            consent_id=consent_id,
            institution="bb",
            scopes=frozenset(extension.scopes),
            purposes=frozenset(extension.purposes),
            status=ConsentStatus.AUTHORISED,
            expires_at=extension.expires_at,
        ),
    )
    handler = ConsentEventsHandler(store)
    handler(first, first.typed())
    [held] = store.for_customers([ck])[ck]
    assert held.expires_at == extension.expires_at

    # Events still apply in their own order: the extension's event, then a later one, both land.
    renewal = _granted(consent_id, 400)
    later = new_event(renewal, customer_key=ck, source="test")
    handler(later, later.typed())
    [held] = store.for_customers([ck])[ck]
    assert held.expires_at == renewal.expires_at


def test_one_lookup_answers_each_customer_with_its_own_consents(
    redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    """The batch path reads every customer's consents in one script call: each customer gets its own
    records, a customer without any gets none, and a repeated key is answered once."""
    store = ConsentStore(redis)
    two, one, none = unique("ck_two"), unique("ck_one"), unique("ck_none")
    records = {
        cid: ConsentRecord(
            consent_id=cid,
            institution="bb",
            scopes=frozenset({DataScope.TRANSACTIONS}),
            purposes=frozenset({Purpose.CROSS_SELL_ANALYTICS}),
            status=ConsentStatus.AUTHORISED,
        )
        for cid in (unique("c"), unique("c"), unique("c"))
    }
    first, second, third = records
    store.put(two, records[first])
    store.put(two, records[second])
    store.put(one, records[third])
    found = store.for_customers([two, none, one, two])
    assert list(found) == [two, none, one]
    assert {c.consent_id for c in found[two]} == {first, second}
    assert [c.consent_id for c in found[one]] == [third]
    assert found[none] == []
    assert store.for_customers([]) == {}


def test_a_changed_consent_is_read_as_changed_after_its_earlier_state_was_read(
    redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    """Parsed records are reused by their stored bytes: a status change is new bytes, never the old state."""
    store, ck, cid = ConsentStore(redis), unique("ck_changed"), unique("c")
    granted = ConsentRecord(
        consent_id=cid,
        institution="bb",
        scopes=frozenset({DataScope.TRANSACTIONS}),
        purposes=frozenset({Purpose.CROSS_SELL_ANALYTICS}),
        status=ConsentStatus.AUTHORISED,
    )
    store.put(ck, granted)
    assert [c.status for c in store.for_customers([ck])[ck]] == [ConsentStatus.AUTHORISED]
    assert [c.status for c in store.for_customers([ck])[ck]] == [ConsentStatus.AUTHORISED]  # a reused parse
    store.put(ck, granted.model_copy(update={"status": ConsentStatus.REVOKED}))
    assert [c.status for c in store.for_customers([ck])[ck]] == [ConsentStatus.REVOKED]
    store.erase(ck)
    assert store.for_customers([ck])[ck] == []
