"""prometeo.views: the epoch marker's rounds (a fake Redis of the four commands the guard uses) and the
erasure log's rules. The drill on real servers is tests/faults/test_redis_wiped.py."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
import redis

from prometeo import keys
from prometeo.contracts import Envelope, new_event
from prometeo.contracts.events import CustomerErasureRequestedV1
from prometeo.views import READY, REBUILDING, ErasureLog, ViewGuard, ViewsRebuilding

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class FakeRedis:
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def set(self, key: str, value: str, nx: bool = False, xx: bool = False, ex: int | None = None) -> bool | None:
        if (nx and key in self.data) or (xx and key not in self.data):
            return None
        self.data[key] = value.encode()
        return True

    def delete(self, key: str) -> int:
        return int(self.data.pop(key, None) is not None)


def guard_over(fake: FakeRedis, rebuild: Any) -> ViewGuard:
    return ViewGuard(cast("redis.Redis", fake), "features", rebuild, interval_s=0.01)


def state(fake: FakeRedis) -> str:
    return str(json.loads(fake.data[keys.epoch("features")])["state"])


def test_a_missing_marker_is_rebuilt_then_served() -> None:
    fake, calls = FakeRedis(), []

    def rebuild() -> Counter[str]:
        calls.append(state(fake))  # the claim is held while rebuilding
        return Counter(replayed=3)

    guard = guard_over(fake, rebuild)
    assert not guard.serving
    guard.check()
    assert calls == [REBUILDING]
    assert guard.serving and state(fake) == READY
    assert guard.last_rebuild["replayed"] == 3
    guard.check()
    assert calls == [REBUILDING], "a marker that says ready is not rebuilt again"


def test_readiness_notices_the_wipe_and_holds_the_consumers() -> None:
    fake = FakeRedis()
    guard = guard_over(fake, Counter)
    guard.check()
    handled: list[str] = []
    gated = guard.gate(lambda envelope, payload: handled.append("ok"))
    assert guard.readiness(cast("Any", None))[0]
    fake.data.clear()  # Redis restarted empty
    ok, detail = guard.readiness(cast("Any", None))
    assert not ok and "wiped" in detail
    with pytest.raises(ViewsRebuilding):
        gated(cast("Any", None), cast("Any", None))
    with pytest.raises(ViewsRebuilding):
        guard.hook(lambda: None)()
    guard.check()
    gated(cast("Any", None), cast("Any", None))
    assert handled == ["ok"] and guard.readiness(cast("Any", None))[0]


def test_a_wipe_during_the_rebuild_starts_it_over() -> None:
    fake = FakeRedis()
    rounds: list[int] = []

    def rebuild() -> Counter[str]:
        rounds.append(1)
        if len(rounds) == 1:
            fake.data.clear()  # wiped mid-rebuild: the claim went with it
        return Counter()

    guard = guard_over(fake, rebuild)
    guard.check()
    assert not guard.serving and keys.epoch("features") not in fake.data
    guard.check()
    assert guard.serving and len(rounds) == 2


def test_a_failed_rebuild_gives_the_claim_back() -> None:
    fake = FakeRedis()

    def rebuild() -> Counter[str]:
        raise ConnectionError("broker down")

    guard = guard_over(fake, rebuild)
    with pytest.raises(ConnectionError):
        guard.check()
    assert keys.epoch("features") not in fake.data, "other replicas must not wait for the lease"
    assert not guard.serving


def test_a_ready_marker_is_served_from_the_start() -> None:
    fake = FakeRedis()
    fake.set(keys.epoch("features"), json.dumps({"state": READY, "by": "before-the-restart"}))
    guard = guard_over(fake, lambda: pytest.fail("a restart is not a rebuild"))
    guard.start()
    try:
        assert guard.serving
    finally:
        guard.stop()


def test_another_replicas_rebuild_is_waited_for() -> None:
    fake = FakeRedis()
    fake.set(keys.epoch("features"), json.dumps({"state": REBUILDING, "by": "other"}))
    guard = guard_over(fake, lambda: pytest.fail("only the claimant rebuilds"))
    guard.check()
    assert not guard.serving
    fake.set(keys.epoch("features"), json.dumps({"state": READY, "by": "other"}))
    guard.check()
    assert guard.serving


def erasure(ck: str, at: datetime) -> Envelope:
    payload = CustomerErasureRequestedV1(reason="data_subject_request")
    return new_event(payload, customer_key=ck, source="t", occurred_at=at)


def test_still_erased_unless_a_consent_followed_the_latest_erasure() -> None:
    log = ErasureLog(
        erased_at={"ck_gone_1": T0, "ck_back_1": T0, "ck_again_1": T0 + timedelta(days=2)},
        granted_at={"ck_back_1": T0 + timedelta(days=1), "ck_again_1": T0 + timedelta(days=1)},
    )
    assert set(log.still_erased()) == {"ck_gone_1", "ck_again_1"}


def test_events_ingested_before_the_latest_erasure_are_removed() -> None:
    log = ErasureLog(erased_at={"ck_gone_1": T0})
    before = erasure("ck_gone_1", T0).model_copy(update={"ingested_at": T0 - timedelta(seconds=1)})
    after = erasure("ck_gone_1", T0).model_copy(update={"ingested_at": T0 + timedelta(seconds=1)})
    other = erasure("ck_other_1", T0).model_copy(update={"ingested_at": T0 - timedelta(days=1)})
    assert log.removed(before) and not log.removed(after) and not log.removed(other)


class _Views:
    def __init__(self, serving: bool) -> None:
        self.serving = serving


def test_the_views_gate_answers_503_while_rebuilding_and_keeps_the_probes_open() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from prometeo.views import install_views_gate

    app = FastAPI()

    @app.get("/v1/thing")
    def thing() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "alive"}

    install_views_gate(app, retry_after_s=7)
    client = TestClient(app)
    app.state.views = _Views(serving=False)
    refused = client.get("/v1/thing")
    assert refused.status_code == 503 and refused.headers["retry-after"] == "7"
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["title"] == "Views rebuilding"
    assert client.get("/healthz").status_code == 200
    app.state.views = _Views(serving=True)
    assert client.get("/v1/thing").json() == {"ok": True}
