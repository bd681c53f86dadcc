"""Every PromQL expression in the alert rules and dashboards parses and names only metrics the services
export (declared in prometeo.telemetry.metrics, prometheus_client defaults, or `up`)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from prometeo_dev.servers import scaled
from tests.unit.deploy.support import (
    PROMTOOL,
    PROMTOOL_MISSING,
    all_expressions,
    exported_metric_names,
    metric_names,
)

EXPRESSIONS = all_expressions()


def test_there_is_something_to_check() -> None:
    assert len(EXPRESSIONS) > 30


@pytest.mark.parametrize(("where", "expr"), EXPRESSIONS, ids=[w for w, _ in EXPRESSIONS])
def test_expression_names_only_exported_metrics(where: str, expr: str) -> None:
    names = metric_names(expr)  # raises on a syntax error
    assert names, "selects no metric"
    assert not names - exported_metric_names(), "metrics no service exports"


@pytest.mark.skipif(PROMTOOL is None, reason=PROMTOOL_MISSING)
def test_promtool_parses_every_expression(tmp_path: Path) -> None:
    # Prometheus' own parser: every expression becomes a recording rule and promtool checks the file.
    assert PROMTOOL is not None  # skipped otherwise
    rules = [{"record": f"prometeo:check_{i}", "expr": expr} for i, (_, expr) in enumerate(EXPRESSIONS)]
    path = tmp_path / "expressions.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "check", "rules": rules}]}))
    result = subprocess.run([PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True, timeout=scaled(60))
    assert result.returncode == 0, result.stdout + result.stderr
