"""The Helm chart renders offline (helm_python), gives each service a Deployment and a Service whose env
its Settings class reads, and every manifest passes kubernetes-validate (strict, Kubernetes 1.30)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.unit.deploy.support import CHART, SERVICE_NAMES, SERVICES, Service, unknown_env

helm_python = pytest.importorskip("helm_python", reason="helm-python-sdk not installed (test extra)")
kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate not installed")

KUBE_VERSION = "1.30"
# Everything switched on, with a managed Secret, so optional templates are rendered and validated too.
ALL_ON: dict[str, Any] = {
    "secrets": {"existingSecret": "prometeo-managed"},
    **{name: {"autoscaling": {"enabled": True}} for name in (*SERVICE_NAMES, "console")},
}


def render(values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    with helm_python.Chart.load(CHART) as chart:
        rendered = chart.render(values, name="prometeo", namespace="prometeo")
    docs = []
    for template, text in rendered.items():
        if template.endswith(".txt"):
            continue
        docs += [doc for doc in yaml.safe_load_all(text) if doc]
    return docs


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["labels"]["app.kubernetes.io/name"]: d for d in docs if d["kind"] == kind}


@pytest.fixture(scope="module")
def default_docs() -> list[dict[str, Any]]:
    return render()


def test_chart_lints_clean() -> None:
    report = helm_python.lint(CHART, strict=True, kube_version=f"v{KUBE_VERSION}.0")
    assert not report["errors"]
    assert not [m for m in report["messages"] if m["severity"] >= 2]


def test_values_have_one_block_and_template_per_service() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for service in SERVICES:
        block = values[service.name]
        assert (block["module"], block["port"]) == (service.module, service.port)
        assert (CHART / "templates" / f"{service.name}.yaml").exists()


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_deployment_and_service_per_service(default_docs: list[dict[str, Any]], service: Service) -> None:
    deployment = of_kind(default_docs, "Deployment")[service.name]
    svc = of_kind(default_docs, "Service")[service.name]
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert container["command"] == ["python", "-m", service.module]
    assert container["ports"][0]["containerPort"] == service.port
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["resources"]["requests"]
    assert pod["metadata"]["annotations"] == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(service.port),
        "prometheus.io/path": "/metrics",
    }
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert svc["spec"]["ports"][0]["port"] == service.port
    assert svc["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_deployment_env_maps_to_settings_fields(default_docs: list[dict[str, Any]], service: Service) -> None:
    (container,) = of_kind(default_docs, "Deployment")[service.name]["spec"]["template"]["spec"]["containers"]
    env = {item["name"]: item for item in container["env"]}
    assert not unknown_env(service, set(env)), "env vars no Settings field reads"
    assert env["PROMETEO_PSEUDONYM_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "pseudonym-key"
    assert "value" not in env["PROMETEO_PSEUDONYM_KEY"]


def test_service_env_values_reach_the_container() -> None:
    docs = render({"scoring": {"env": {"reload_interval_s": 5}}})
    (container,) = of_kind(docs, "Deployment")["scoring"]["spec"]["template"]["spec"]["containers"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert env["PROMETEO_SCORING_RELOAD_INTERVAL_S"] == "5"
    assert env["KAFKA_BOOTSTRAP_SERVERS"]


def test_gateway_reaches_services_by_their_kubernetes_names(default_docs: list[dict[str, Any]]) -> None:
    (container,) = of_kind(default_docs, "Deployment")["gateway"]["spec"]["template"]["spec"]["containers"]
    env = {item["name"]: item for item in container["env"]}
    assert env["PROMETEO_GATEWAY_SCORING_URL"]["value"] == "http://prometeo-scoring:8003"
    assert env["PROMETEO_GATEWAY_API_KEYS"]["valueFrom"]["secretKeyRef"]["key"] == "gateway-api-keys"


def test_topic_init_job_is_a_pre_install_hook(default_docs: list[dict[str, Any]]) -> None:
    (job,) = [d for d in default_docs if d["kind"] == "Job"]
    assert "pre-install" in job["metadata"]["annotations"]["helm.sh/hook"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert "ensure_topics" in container["command"][-1]


def test_retraining_runs_as_a_weekly_cronjob_with_the_stores_it_reads(default_docs: list[dict[str, Any]]) -> None:
    cron = of_kind(default_docs, "CronJob")["retrain"]
    assert cron["spec"]["schedule"] == "0 3 * * 1" and cron["spec"]["concurrencyPolicy"] == "Forbid"
    (container,) = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    command = container["command"]
    assert command[:3] == ["python", "-m", "scoring.retrain"]
    assert command[command.index("--product") + 1 :] == ["credit_card", "personal_loan", "investment_fund"]
    env = {item["name"] for item in container["env"]}
    assert {"KAFKA_BOOTSTRAP_SERVERS", "REDIS_URL", "MLFLOW_TRACKING_URI"} <= env
    assert not of_kind(render({"retrain": {"enabled": False}}), "CronJob")


def test_generated_secret_is_kept_and_existing_secret_is_used() -> None:
    (secret,) = [d for d in render() if d["kind"] == "Secret"]
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert set(secret["data"]) == {
        "pseudonym-key",
        "service-token-key",
        "gateway-api-keys",
        "gateway-token-signing-keys",
    }
    docs = render(ALL_ON)
    assert not [d for d in docs if d["kind"] == "Secret"]
    (container,) = of_kind(docs, "Deployment")["feature-store"]["spec"]["template"]["spec"]["containers"]
    env = {item["name"]: item for item in container["env"]}
    assert env["PROMETEO_PSEUDONYM_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "prometeo-managed"
    assert env["PROMETEO_SERVICE_TOKEN_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "service-token-key"


def test_autoscaling_adds_an_hpa_and_drops_fixed_replicas() -> None:
    docs = render(ALL_ON)
    assert set(of_kind(docs, "HorizontalPodAutoscaler")) == {*SERVICE_NAMES, "console"}
    assert all("replicas" not in d["spec"] for d in of_kind(docs, "Deployment").values())


@pytest.mark.parametrize("values", [None, ALL_ON], ids=["defaults", "all-on"])
def test_manifests_pass_kubernetes_validate(values: dict[str, Any] | None) -> None:
    failures = []
    for doc in render(values):
        try:
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            failures.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message} at {list(exc.path)}")
    assert not failures


def _policies(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"].removeprefix("prometeo-"): d for d in docs if d["kind"] == "NetworkPolicy"}


def _allowed_from(policy: dict[str, Any]) -> set[str]:
    """Who a service's policy lets in: `*` (anyone), `prometheus`, or the chart's service names."""
    allowed: set[str] = set()
    for rule in policy["spec"]["ingress"]:
        assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]
        if "from" not in rule:
            allowed.add("*")
        for peer in rule.get("from", []):
            name = peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
            if "namespaceSelector" in peer:
                assert name == "prometheus"
            else:
                assert peer["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == "prometeo"
            allowed.add(name)
    return allowed


def test_network_policies_deny_ingress_but_to_the_gateway_and_from_callers(default_docs: list[dict[str, Any]]) -> None:
    policies = _policies(default_docs)
    deny = policies.pop("default-deny-ingress")
    assert deny["spec"] == {
        "podSelector": {"matchLabels": {"app.kubernetes.io/instance": "prometeo"}},
        "policyTypes": ["Ingress"],
    }
    allowed = {name.removesuffix("-ingress"): _allowed_from(policy) for name, policy in policies.items()}
    assert allowed == {
        "gateway": {"*", "console", "prometheus"},
        "console": {"*", "prometheus"},
        "ingest-openfinance": {"gateway", "prometheus"},
        "feature-store": {"gateway", "prometheus"},
        "next-best-action": {"gateway", "prometheus"},
        "campaigns": {"gateway", "scoring", "prometheus"},
        "scoring": {"prometheus"},
    }
    for name, policy in policies.items():
        selector = policy["spec"]["podSelector"]["matchLabels"]
        assert selector == {
            "app.kubernetes.io/name": name.removesuffix("-ingress"),
            "app.kubernetes.io/instance": "prometeo",
        }


def test_network_policies_follow_the_values() -> None:
    ingress_only = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}]
    docs = render(
        {
            "console": {"enabled": True},
            "networkPolicy": {"publicFrom": ingress_only, "callers": {"scoring": ["next-best-action"]}},
        }
    )
    policies = _policies(docs)
    assert policies["console-ingress"]["spec"]["ingress"][0]["from"] == ingress_only
    assert policies["gateway-ingress"]["spec"]["ingress"][0]["from"] == ingress_only
    assert _allowed_from(policies["scoring-ingress"]) == {"next-best-action", "prometheus"}
    for doc in policies.values():
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
    assert not _policies(render({"networkPolicy": {"enabled": False}}))


def test_redis_persistence_config_is_rendered_with_aof(default_docs: list[dict[str, Any]]) -> None:
    config = of_kind(default_docs, "ConfigMap")["redis-config"]
    lines = config["data"]["prometeo.conf"].splitlines()
    assert "appendonly yes" in lines and "appendfsync everysec" in lines
