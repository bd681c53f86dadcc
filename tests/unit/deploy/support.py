"""What the deployment tests share: the six services, their Settings env names, PromQL helpers."""

from __future__ import annotations

import importlib
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
CHART = DEPLOY / "k8s"
PROMETHEUS = DEPLOY / "prometheus"
GRAFANA = DEPLOY / "grafana"
PROMTOOL = shutil.which("promtool")
PROMTOOL_MISSING = "promtool not installed (apt-get install --no-install-recommends prometheus)"


@dataclass(frozen=True)
class Service:
    name: str
    module: str
    port: int


SERVICES = (
    Service("ingest-openfinance", "ingest_openfinance", 8001),
    Service("feature-store", "feature_store", 8002),
    Service("scoring", "scoring", 8003),
    Service("next-best-action", "next_best_action", 8004),
    Service("campaigns", "campaigns", 8005),
    Service("gateway", "gateway", 8000),
)
SERVICE_NAMES = tuple(s.name for s in SERVICES)


def settings_class(service: Service) -> type[BaseSettings]:
    settings: type[BaseSettings] = importlib.import_module(f"{service.module}.settings").Settings
    return settings


def settings_env_names(service: Service) -> set[str]:
    """Env names the service's Settings class reads, computed from the class as it is right now
    (other engineers add fields): an alias when the field has one, else the env prefix + field name."""
    cls = settings_class(service)
    prefix = cls.model_config.get("env_prefix", "")
    names: set[str] = set()
    for field_name, field in cls.model_fields.items():
        alias = field.validation_alias or field.alias
        if isinstance(alias, AliasChoices):
            names |= {choice.upper() for choice in alias.choices if isinstance(choice, str)}
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


def unknown_env(service: Service, env_names: set[str]) -> set[str]:
    return {name for name in env_names if name.upper() not in settings_env_names(service)}


# PromQL ------------------------------------------------------------------------------------------

# Grafana's built-in intervals become durations; dashboard variables only appear inside label matchers.
_GRAFANA_DURATIONS = {"__rate_interval": "5m", "__interval": "1m", "__range": "1h"}
_GRAFANA_VAR = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")
_LABEL_VALUES = re.compile(r"^\s*label_values\((.*),\s*\w+\s*\)\s*$", re.S)


def grafana_to_promql(expr: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return _GRAFANA_DURATIONS.get(name, ".*")

    return _GRAFANA_VAR.sub(replace, expr)


def alert_rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def dashboards() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted((GRAFANA / "dashboards").glob("*.json"))}


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def dashboard_expressions(board: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, PromQL) for every panel target and query variable of a dashboard."""
    found = []
    for panel in _panels(board.get("panels", [])):
        for target in panel.get("targets", []):
            if target.get("expr"):
                found.append((f"panel {panel['title']!r} {target['refId']}", grafana_to_promql(target["expr"])))
    for var in board.get("templating", {}).get("list", []):
        if var.get("type") != "query":
            continue
        query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
        inner = _LABEL_VALUES.match(query)
        if inner:  # label_values(<selector>, label): only the selector is PromQL.
            found.append((f"variable {var['name']!r}", grafana_to_promql(inner.group(1))))
    return found


def all_expressions() -> list[tuple[str, str]]:
    found = [(f"alerts.yml {rule['alert']}", rule["expr"]) for rule in alert_rules()]
    for file, board in dashboards().items():
        found += [(f"{file} {where}", expr) for where, expr in dashboard_expressions(board)]
    return found


@cache
def exported_metric_names() -> frozenset[str]:
    """Series names the services can export: everything declared in prometeo.telemetry.metrics plus
    prometheus_client's default process_/python_ collectors, with the suffixes each type adds."""
    import prometheus_client

    import prometeo.telemetry.metrics  # noqa: F401 - registers the declarations

    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_sum", "_count", "_created"),
        "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
        "summary": ("", "_sum", "_count", "_created"),
        "info": ("_info",),
    }
    names = {"up"}
    for family in prometheus_client.REGISTRY.collect():
        names |= {family.name + suffix for suffix in suffixes.get(family.type, ("",))}
        names |= {sample.name for sample in family.samples}
    return frozenset(names)


def metric_names(expr: str) -> set[str]:
    """Metric names an expression selects, from its parsed syntax tree."""
    import promql_parser

    names: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.add(node.name)
            for matcher in node.matchers.matchers:
                if matcher.name == "__name__":
                    names.add(matcher.value)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names
