"""The chart runs the console: a Deployment and a Service, pointed at the gateway's in-cluster Service, with
Secure cookies, every env name one the console's Settings reads, and valid for Kubernetes 1.30."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from console.settings import Settings
from tests.unit.deploy.test_helm import KUBE_VERSION, of_kind, render

kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate not installed")


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    return render()


def _env(deployment: dict[str, Any]) -> dict[str, str]:
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", "") for e in container["env"]}


def test_console_deployment_and_service(docs: list[dict[str, Any]]) -> None:
    deployment = of_kind(docs, "Deployment")["console"]
    service = of_kind(docs, "Service")["console"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["python", "-m", "console"]
    assert container["ports"][0]["containerPort"] == 8010
    assert service["spec"]["ports"][0]["port"] == 8010
    env = _env(deployment)
    gateway = of_kind(docs, "Service")["gateway"]["metadata"]["name"]
    assert env["PROMETEO_CONSOLE_GATEWAY_URL"] == f"http://{gateway}:8000"
    assert env["PROMETEO_CONSOLE_COOKIE_SECURE"] == "true"
    own = {n for n in env if n.startswith("PROMETEO_CONSOLE_")}
    fields = {f"PROMETEO_CONSOLE_{name.upper()}" for name in Settings.model_fields}
    assert own <= fields, own - fields


def test_console_manifests_validate(docs: list[dict[str, Any]]) -> None:
    for doc in docs:
        if doc["metadata"]["labels"].get("app.kubernetes.io/name") == "console":
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)


def test_console_can_be_switched_off() -> None:
    docs = render({"console": {"enabled": False}})
    assert "console" not in of_kind(docs, "Deployment")
    assert yaml.safe_dump(docs).count("PROMETEO_CONSOLE_") == 0
