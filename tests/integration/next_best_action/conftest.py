"""One in-process next-best-action per module (a consumer-group join costs seconds), on the real
broker and Redis, with a policy file copied to a temp dir so tests can edit it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from next_best_action.settings import DEFAULT_POLICY, get_settings
from tests.app_helpers import running_app


@pytest.fixture(scope="module")
def policy_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("policy") / "policy.yaml"
    # Without quiet hours, outcomes do not depend on the hour the suite runs (unit tests cover them).
    text = re.sub(r"  quiet_hours:.*?\n\n", "\n", DEFAULT_POLICY.read_text(), flags=re.S)
    assert "quiet_hours" not in text
    # The module's decisions share one week's share counters: the product-share cap (tested on its own
    # in test_arbitration) must not make one test's offer depend on how many others ran before it.
    text = text.replace("share_floor: 20", "share_floor: 1000000")
    assert "share_floor: 1000000" in text
    # Exploring decisions rank on a Thompson draw (seeded by the random event id): tests that expect a
    # given offer decide on the fixed factors. The learning state itself is tested in test_arbitration.
    text = text.replace("learning:\n  enabled: true", "learning:\n  enabled: false")
    assert "learning:\n  enabled: false" in text
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def nba(broker: str, redis_url: str, policy_file: Path) -> Iterator[TestClient]:
    from next_best_action.main import app

    with running_app(
        app,
        get_settings,
        {
            "KAFKA_BOOTSTRAP_SERVERS": broker,
            "REDIS_URL": redis_url,
            "PROMETEO_ENV": "test",
            "PROMETEO_CONSUMER_SESSION_TIMEOUT_MS": "1500",
            "PROMETEO_NEXT_BEST_ACTION_GROUP_ID": f"nba-{uuid.uuid4().hex[:10]}",
            "PROMETEO_NEXT_BEST_ACTION_POLICY_PATH": str(policy_file),
            "PROMETEO_NEXT_BEST_ACTION_POLICY_CHECK_INTERVAL_S": "0",
        },
    ) as client:
        yield client
