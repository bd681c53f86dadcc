"""Challengers on live traffic and drift, against a real MLflow registry and broker: a share of the
stream is scored by the challenger (stable per customer), every scores event names its version, PSI
per feature is exported against the training snapshot stored with the model, and one call promotes."""

import math
import os

import pytest
from threadpoolctl import threadpool_limits

from feature_store.domain.definitions import FEATURE_NAMES, FEATURE_SET_VERSION
from prometeo.contracts import decode, new_event, topics, utcnow
from prometeo.contracts.events import FeaturesUpdatedV1, ScoresComputedV1
from scoring.domain.routing import serves_challenger
from scoring.main import app
from scoring.promotion import PREVIOUS_CHAMPION, promote_challenger
from scoring.settings import get_settings
from scoring.training import train_and_register
from tests.app_helpers import service_client
from tests.bus_helpers import publish, read_topic, wait_until
from tests.integration.scoring.conftest import NO_FLOOR

pytestmark = pytest.mark.integration

SHARE = 0.3


def test_challenger_share_versions_drift_metrics_and_promotion(
    mlflow_uri, broker, service_env, unique, good_frame, weak_frame
) -> None:
    name = unique("propensity")
    # An in-process scoring service started by an earlier test limited OpenMP to one thread (its start-up does,
    # for its predicts); training runs in its own process in production, on every core: here too (test_service).
    with threadpool_limits(os.cpu_count()):
        champion = train_and_register(good_frame, mlflow_uri, name)
        challenger = train_and_register(weak_frame, mlflow_uri, name, seed=1, gate=NO_FLOOR)
    assert (champion.alias, challenger.alias) == ("champion", "challenger")
    service_env(
        {
            "MLFLOW_TRACKING_URI": mlflow_uri,
            "PROMETEO_SCORING_MODEL_NAME": name,
            "PROMETEO_SCORING_GROUP_ID": unique("grp"),
            "PROMETEO_SCORING_RELOAD_INTERVAL_S": "0.5",
            "PROMETEO_SCORING_LOAD_RETRY_S": "0.5",
            "PROMETEO_SCORING_CHALLENGER_SHARE": str(SHARE),
        }
    )
    get_settings.cache_clear()
    with service_client(app) as client:
        wait_until(lambda: len(client.get("/v1/models").json()) == 2, timeout=90, interval=0.3)
        prefix = unique("ck")
        events = []
        for i in range(200):
            row = good_frame.iloc[i]
            features = FeaturesUpdatedV1(
                feature_set_version=FEATURE_SET_VERSION,
                as_of=utcnow(),
                features={k: float(row[k]) for k in FEATURE_NAMES if not math.isnan(row[k])},
                profile={"digital_archetype": "activated", "age_band": "25-34"},
            )
            events.append(new_event(features, customer_key=f"{prefix}-{i:04d}", source="tests"))
        publish(broker, topics.FEATURES_UPDATED, events)
        records = read_topic(
            broker, topics.SCORES, min_count=200, timeout=60, match=lambda r: r.key.startswith(prefix.encode())
        )
        served = {}
        for record in records:
            envelope, scores = decode(record.value)
            assert isinstance(scores, ScoresComputedV1)
            served[envelope.customer_key] = scores.model_version
        assert len(served) == 200
        # Each customer gets the model its hash assigns; the share is within tolerance of the setting.
        for ck, version in served.items():
            assert version == (challenger.version if serves_challenger(ck, SHARE) else champion.version)
        share = sum(v == challenger.version for v in served.values()) / len(served)
        assert abs(share - SHARE) < 0.1, share

        metrics = client.get("/metrics").text
        assert f'prometeo_scores_served_total{{alias="challenger",version="{challenger.version}"}}' in metrics
        psi_lines = [
            line
            for line in metrics.splitlines()
            if line.startswith("prometeo_feature_psi{") and f'model_version="{champion.version}"' in line
        ]
        assert psi_lines, "no PSI gauge for the champion"
        assert f'prometeo_score_psi{{model_version="{champion.version}"' in metrics

        # One command moves the aliases; the watcher serves the promoted version.
        new, old = promote_challenger(mlflow_uri, name)
        assert (new, old) == (challenger.version, champion.version)
        wait_until(
            lambda: (
                {m["alias"]: m["version"] for m in client.get("/v1/models").json()} == {"champion": challenger.version}
            ),
            timeout=60,
            interval=0.3,
        )
        from mlflow import MlflowClient

        registry = MlflowClient(mlflow_uri, registry_uri=mlflow_uri)
        assert registry.get_model_version_by_alias(name, PREVIOUS_CHAMPION).version == champion.version
    get_settings.cache_clear()
