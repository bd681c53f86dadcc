"""The Dockerfile builds one non-root image that holds every service package and its data files."""

from __future__ import annotations

import re
import tomllib

from tests.unit.deploy.support import ROOT, SERVICES

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_image_is_python_slim_non_root_without_extras() -> None:
    assert re.search(r"^FROM python:3\.11-slim\b", DOCKERFILE, re.M)
    assert re.search(r"^USER 10001", DOCKERFILE, re.M)
    assert "pip install --no-index --find-links /wheels prometeo\n" in DOCKERFILE
    assert "[" not in DOCKERFILE.split("pip wheel --no-deps", 1)[1].split("\n", 1)[0], "no extras in the image"


def test_build_context_keeps_what_the_build_copies() -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    for needed in ("pyproject.toml", "libs/", "tools/", "services/"):
        assert f"!{needed}" in ignore
        assert f"COPY {needed.rstrip('/')}" in DOCKERFILE


def test_every_service_package_is_installed_by_the_project() -> None:
    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    for service in SERVICES:
        assert f"services/{service.name}" in find["where"]
        assert any(service.module.startswith(p.rstrip("*")) for p in find["include"])


def test_package_data_files_reach_the_wheel() -> None:
    # A wheel built from the source tree carries non-Python files only when package-data names them;
    # otherwise the image silently lacks them (e.g. a policy YAML) while editable dev installs work.
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = [p for globs in setuptools.get("package-data", {}).values() for p in globs]
    packages = [ROOT / "libs" / "prometeo", ROOT / "tools" / "prometeo_dev"]
    packages += [ROOT / "services" / s.name / s.module for s in SERVICES]
    missing = []
    for package in packages:
        for path in package.rglob("*"):
            if (
                path.is_file()
                and path.suffix not in {".py", ".pyc"}
                and "__pycache__" not in path.parts
                and not any(path.match(p) for p in patterns)
            ):
                missing.append(str(path.relative_to(ROOT)))
    assert not missing, "add [tool.setuptools.package-data] patterns to pyproject.toml for these"
