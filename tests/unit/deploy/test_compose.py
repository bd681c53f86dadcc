"""docker-compose.yml: parses, wires the six services with health checks, and feeds them only settings
their Settings classes read."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.unit.deploy.support import ROOT, SERVICE_NAMES, SERVICES, Service, settings_class, unknown_env

INFRA = ("kafka", "topic-init", "redis", "mlflow", "prometheus", "grafana")
REQUIRED = re.compile(r"^\$\{\w+:\?[^}]+\}$")
SECRET_NAME = re.compile(r"KEY|PASSWORD|SECRET|TOKEN")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def test_every_component_is_defined(services: dict[str, Any]) -> None:
    missing = {*INFRA, *(s.name for s in SERVICES)} - set(services)
    assert not missing


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_service_runs_its_module_from_the_one_image(services: dict[str, Any], service: Service) -> None:
    spec = services[service.name]
    assert spec["build"] == "."
    assert spec["command"] == ["python", "-m", service.module]


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_service_has_port_healthcheck_and_dependencies(services: dict[str, Any], service: Service) -> None:
    spec = services[service.name]
    assert f"{service.port}:{service.port}" in spec["ports"]
    test = " ".join(spec["healthcheck"]["test"])
    assert f"127.0.0.1:{service.port}/readyz" in test
    deps = spec["depends_on"]
    assert deps["topic-init"]["condition"] == "service_completed_successfully"
    assert {"redis", "mlflow"} <= set(deps)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_service_env_maps_to_settings_fields(services: dict[str, Any], service: Service) -> None:
    env = services[service.name]["environment"]
    assert not unknown_env(service, set(env)), "env vars no Settings field reads"


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_service_listens_on_all_interfaces_at_its_settings_port(services: dict[str, Any], service: Service) -> None:
    env = services[service.name]["environment"]
    prefix = settings_class(service).model_config["env_prefix"]
    assert env[f"{prefix}HOST"] == "0.0.0.0"
    assert int(env.get(f"{prefix}PORT", service.port)) == service.port
    assert settings_class(service).model_fields["port"].default == service.port


def test_every_long_running_container_has_a_healthcheck(services: dict[str, Any]) -> None:
    for name, spec in services.items():
        if name == "topic-init":
            assert spec["restart"] == "no"
            continue
        assert spec.get("healthcheck", {}).get("test"), f"{name} has no health check"


def test_dependencies_wait_for_health_or_completion(services: dict[str, Any]) -> None:
    for name, spec in services.items():
        for dep, how in spec.get("depends_on", {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            if dep == "topic-init":
                assert how["condition"] == "service_completed_successfully"
            elif name == "gateway" and dep in SERVICE_NAMES:
                # The gateway's readiness covers its upstreams; scoring may wait long for a model.
                assert how["condition"] == "service_started"
            else:
                assert how["condition"] == "service_healthy"
                assert services[dep]["healthcheck"]["test"], f"{dep} cannot become healthy"


def test_topic_init_creates_topics_with_the_library() -> None:
    spec = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["topic-init"]
    assert "from prometeo.bus import ensure_topics" in spec["command"][-1]
    assert spec["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_secrets_are_required_variables(services: dict[str, Any]) -> None:
    secrets = {
        (name, var): value
        for name, spec in services.items()
        for var, value in (spec.get("environment") or {}).items()
        if SECRET_NAME.search(var)
    }
    assert ("gateway", "PROMETEO_PSEUDONYM_KEY") in secrets
    bad = {key: value for key, value in secrets.items() if not REQUIRED.match(str(value))}
    assert not bad, "secrets must be ${VAR:?message}"


def test_kafka_runs_in_kraft_mode(services: dict[str, Any]) -> None:
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "kafka:9092" in kafka["environment"]["KAFKA_ADVERTISED_LISTENERS"]


def test_mounted_config_files_exist(services: dict[str, Any]) -> None:
    for name, spec in services.items():
        for volume in spec.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"


def test_mlflow_keeps_sqlite_on_a_volume(compose: dict[str, Any]) -> None:
    mlflow = compose["services"]["mlflow"]
    assert any("sqlite:////data/" in arg for arg in mlflow["command"])
    assert any(v.startswith("mlflow-data:/data") for v in mlflow["volumes"])
    assert "mlflow-data" in compose["volumes"]


def test_redis_persists_with_aof_on_a_volume(services: dict[str, Any]) -> None:
    redis = services["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert any(str(v).endswith(":/data") for v in redis["volumes"])
