"""Audit fails closed: a feature read whose durable record cannot be stored is refused (503), while a
broker that cannot take the audit.v1 copy does not block a read whose record is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import httpx

from gateway.audit import DurableAuditTrail, KafkaAuditTrail
from gateway.audit.store import AuditQuery, SqliteAuditStore
from gateway.main import app
from prometeo.bus.producer import BrokerUnavailable
from tests.unit.gateway.conftest import Gateway
from tests.unit.gateway.test_audit_trail import _BrokenStore
from tests.unit.gateway.test_routes import ADMIN, CK, CPF

FEATURES = {
    "customer_key": CK,
    "feature_set_version": "v1",
    "as_of": "2025-01-01T00:00:00Z",
    "features": {"spend_30d": 12.5},
    "held_products": ["savings"],
    "held_elsewhere": [],
}


class _BrokerDown:
    def publish(self, *_: Any) -> NoReturn:
        raise BrokerUnavailable("no metadata in time")


def test_a_feature_read_without_a_durable_record_is_refused(gateway: Gateway, tmp_path: Path) -> None:
    app.state.audit = DurableAuditTrail(_BrokenStore(tmp_path / "broken.sqlite3"))
    gateway.upstream.handler = lambda r: httpx.Response(200, json=FEATURES)
    response = gateway.client.get(f"/v1/customers/{CPF}/features", headers=ADMIN)
    assert response.status_code == 503 and int(response.headers["retry-after"]) > 0
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "spend_30d" not in response.text


def test_with_the_broker_down_a_read_still_lands_on_the_durable_trail(gateway: Gateway, tmp_path: Path) -> None:
    store = SqliteAuditStore(tmp_path / "audit.sqlite3")
    app.state.audit = DurableAuditTrail(store, KafkaAuditTrail(_BrokerDown()))  # type: ignore[arg-type]
    gateway.upstream.handler = lambda r: httpx.Response(200, json=FEATURES)
    response = gateway.client.get(f"/v1/customers/{CPF}/features", headers=ADMIN)
    assert response.status_code == 200
    [record] = store.query(AuditQuery(customer_key=CK))
    assert record.resource == "features"
    store.close()
