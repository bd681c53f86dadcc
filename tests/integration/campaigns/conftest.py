"""One in-process campaigns service per module, on the real broker and Redis (outbox adapter)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from campaigns.settings import get_settings
from tests.app_helpers import running_app


@pytest.fixture(scope="module")
def campaigns_client(broker: str, redis_url: str) -> Iterator[TestClient]:
    from campaigns.main import app

    with running_app(
        app,
        get_settings,
        {
            "KAFKA_BOOTSTRAP_SERVERS": broker,
            "REDIS_URL": redis_url,
            "PROMETEO_ENV": "test",
            "PROMETEO_CONSUMER_SESSION_TIMEOUT_MS": "1500",
            "PROMETEO_CAMPAIGNS_GROUP_ID": f"campaigns-{uuid.uuid4().hex[:10]}",
        },
    ) as client:
        yield client
