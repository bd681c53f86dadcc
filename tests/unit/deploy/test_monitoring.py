"""Prometheus config and alert rules (promtool when installed) and Grafana provisioning."""

from __future__ import annotations

import subprocess
from collections import Counter

import pytest
import yaml

from prometeo_dev.servers import scaled
from tests.unit.deploy.support import (
    GRAFANA,
    PROMETHEUS,
    PROMTOOL,
    PROMTOOL_MISSING,
    ROOT,
    SERVICES,
    alert_rules,
    dashboards,
)

needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason=PROMTOOL_MISSING)
ALERTS = {
    "PrometeoServiceDown",
    "PrometeoReadinessFailing",
    "PrometeoConsumerLagHigh",
    "PrometeoDeadLetterRateHigh",
    "PrometeoModelLatencyP99High",
    "PrometeoHttp5xxRateHigh",
    "PrometeoInsiderThreatBlocked",
    # Models watched in production: drift against the training snapshot, realised calibration.
    "PrometeoFeatureDrift",
    "PrometeoScoreDrift",
    "PrometeoModelMiscalibrated",
}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL
    return subprocess.run([PROMTOOL, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=scaled(60))


def test_prometheus_scrapes_the_six_services_at_their_compose_addresses() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert jobs == {s.name: [f"{s.name}:{s.port}"] for s in SERVICES}


def test_alert_rules_cover_the_operational_risks() -> None:
    rules = alert_rules()
    assert {rule["alert"] for rule in rules} == ALERTS
    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"] and rule["annotations"]["summary_es"]
        assert rule.get("for")


def test_service_down_names_exactly_the_six_jobs() -> None:
    (rule,) = [r for r in alert_rules() if r["alert"] == "PrometeoServiceDown"]
    for service in SERVICES:
        assert service.name in rule["expr"]


@needs_promtool
def test_promtool_accepts_the_config() -> None:
    result = promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_promtool_rule_unit_tests_pass() -> None:
    result = promtool("test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_every_alert_has_a_unit_test() -> None:
    tests = yaml.safe_load((PROMETHEUS / "alerts.test.yml").read_text())["tests"]
    tested = {case["alertname"] for test in tests for case in test.get("alert_rule_test", [])}
    assert tested == ALERTS


def test_grafana_datasource_uid_is_the_one_dashboards_use() -> None:
    provisioned = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())
    (source,) = provisioned["datasources"]
    assert source["url"] == "http://prometheus:9090"
    used = set()
    for board in dashboards().values():
        for panel in board["panels"]:
            if "datasource" in panel:
                used.add(panel["datasource"]["uid"])
    assert used == {source["uid"]}


def test_dashboard_provider_points_where_compose_mounts_the_dashboards() -> None:
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/prometeo.yml").read_text())["providers"][0]
    grafana = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["grafana"]
    assert f"./deploy/grafana/dashboards:{provider['options']['path']}:ro" in grafana["volumes"]


def test_dashboards_are_distinct_and_well_formed() -> None:
    boards = dashboards()
    assert set(boards) == {"service-health.json", "streaming.json", "models.json", "business.json"}
    assert len({b["uid"] for b in boards.values()}) == len(boards)
    for name, board in boards.items():
        ids = Counter(panel["id"] for panel in board["panels"])
        assert max(ids.values()) == 1, f"{name} repeats panel ids"
        for panel in board["panels"]:
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, f"{name}: {panel['title']} overflows the grid"
