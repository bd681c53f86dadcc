"""The scoring service against a real MLflow registry and broker: waits for a champion, scores the
stream and HTTP, hot-swaps a promoted model without failing requests, loads a challenger."""

import os
import threading
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from feature_store.domain.definitions import FEATURE_NAMES, FEATURE_SET_VERSION
from prometeo.contracts import decode, new_event, topics, utcnow
from prometeo.contracts.events import FeaturesUpdatedV1, ScoresComputedV1
from scoring.main import app
from scoring.settings import get_settings
from scoring.training import TrainingReport, train_and_register
from tests.app_helpers import service_client
from tests.bus_helpers import publish, read_topic, scaled, wait_until
from tests.integration.scoring.conftest import NO_FLOOR

pytestmark = pytest.mark.integration


def _customer(frame: pd.DataFrame, i: int) -> dict[str, Any]:
    row = frame.iloc[i]
    return {
        "features": {k: float(row[k]) for k in FEATURE_NAMES},
        "held_products": ["credit_card"],
        "held_elsewhere": ["mortgage"],
    }


def _train(*args: Any, **kwargs: Any) -> TrainingReport:
    """Training runs in a process of its own in production (the CLI, `make run`'s trainer); here it shares the
    test process with the in-process service, whose start-up limits OpenMP to one thread (for its predicts).
    Train as production does, on every core, or a busy machine runs past the test's timeout."""
    with threadpool_limits(os.cpu_count()):
        return train_and_register(*args, **kwargs)


def test_load_score_promote_hot_reload_and_gate(
    mlflow_uri: str,
    broker: str,
    service_env: Callable[[dict[str, str]], None],
    unique: Callable[[str], str],
    good_frame: pd.DataFrame,
    weak_frame: pd.DataFrame,
) -> None:
    name = unique("propensity")
    service_env(
        {
            "MLFLOW_TRACKING_URI": mlflow_uri,
            "PROMETEO_SCORING_MODEL_NAME": name,
            "PROMETEO_SCORING_GROUP_ID": unique("grp"),
            "PROMETEO_SCORING_RELOAD_INTERVAL_S": "0.5",
            "PROMETEO_SCORING_LOAD_RETRY_S": "0.5",
        }
    )
    get_settings.cache_clear()
    body = _customer(good_frame, 0)
    with service_client(app) as client:
        # No model registered yet: not ready, and scoring says so instead of failing obscurely.
        assert client.get("/readyz").status_code == 503
        assert client.post("/v1/score", json=body).status_code == 503

        first = _train(weak_frame, mlflow_uri, name, gate=NO_FLOOR)
        assert (first.version, first.alias) == ("1", "champion")
        wait_until(lambda: client.get("/readyz").status_code == 200, timeout=60, interval=0.3)

        # Stream path: features-updated → scores.v1 with reasons and pass-through.
        ck = unique("ck_test")
        features = FeaturesUpdatedV1(
            feature_set_version=FEATURE_SET_VERSION,
            as_of=utcnow(),
            features=body["features"],
            held_products=["credit_card"],
            held_elsewhere=["mortgage"],
            profile={"digital_archetype": "activated", "age_band": "25-34"},
        )
        publish(broker, topics.FEATURES_UPDATED, [new_event(features, customer_key=ck, source="tests")])
        [record] = read_topic(broker, topics.SCORES, match=lambda r: r.key == ck.encode(), timeout=30)
        envelope, scores = decode(record.value)
        assert isinstance(scores, ScoresComputedV1) and envelope.customer_key == ck
        assert (scores.model_name, scores.model_version) == (name, "1")
        assert {s.product.value for s in scores.scores} == {
            str(p).removeprefix("label_") for p in good_frame.filter(like="label_")
        }
        assert scores.held_elsewhere == features.held_elsewhere and scores.profile == features.profile
        assert scores.features == features.features

        # HTTP: single and batch.
        single = client.post("/v1/score", json={**body, "customer_key": ck})
        assert single.status_code == 200 and single.json()["model_version"] == "1"
        batch = client.post("/v1/score", json={"items": [body, _customer(good_frame, 1)]})
        assert batch.status_code == 200 and len(batch.json()["items"]) == 2

        # A better model is promoted; the service swaps to it while requests keep succeeding.
        statuses: list[int] = []
        stop = threading.Event()

        def hammer() -> None:
            # Paced, not flat out: the training below shares this process's interpreter lock, and an unpaced
            # loop starved it past the test's timeout on a busy machine. ~50 requests/s still span the swap.
            while not stop.wait(0.02):
                statuses.append(client.post("/v1/score", json=body).status_code)

        thread = threading.Thread(target=hammer)
        thread.start()
        try:
            better = _train(good_frame, mlflow_uri, name)
            assert (better.version, better.alias) == ("2", "champion")
            assert better.mean_auc > first.mean_auc
            wait_until(
                lambda: client.post("/v1/score", json=body).json()["model_version"] == "2", timeout=60, interval=0.3
            )
        finally:
            stop.set()
            thread.join(scaled(30))
        assert statuses and set(statuses) == {200}
        reasons = [r for s in client.post("/v1/score", json=body).json()["scores"] for r in s["reasons"]]
        assert reasons and all(r["text_en"] and r["text_es"] for r in reasons)
        # Signal reasons carry their measured effect; only the product-gap fallback has none.
        assert all(r["weight"] > 0 for r in reasons if r["code"] != "product_gap")

        # A worse model is registered but not promoted: it becomes the challenger.
        worse = _train(weak_frame, mlflow_uri, name, seed=1, gate=NO_FLOOR)
        assert (worse.version, worse.alias) == ("3", "challenger")
        wait_until(
            lambda: (
                {m["alias"]: m["version"] for m in client.get("/v1/models").json()}
                == {"champion": "2", "challenger": "3"}
            ),
            timeout=60,
            interval=0.3,
        )
        assert client.post("/v1/score", json=body).json()["model_version"] == "2"
        assert client.post("/v1/score?model=challenger", json=body).json()["model_version"] == "3"
        metrics = client.get("/metrics").text
        assert f'prometeo_model_info{{alias="champion",model="{name}",version="2"}} 1.0' in metrics
        assert "prometeo_model_score_seconds_count" in metrics
    get_settings.cache_clear()
