# Prometeo — one command runs the platform, one command tests it. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
PYTEST_ARGS ?=

.PHONY: help install promtool browser lint format run run-empty test test-night test-browser test-unit test-integration test-e2e test-faults bench clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  \033[1m%-18s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[local,test]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## create .venv and install the platform with its embedded servers and test tools

run: $(STAMP) ## run the whole platform locally with demo data (Ctrl-C stops everything)
	$(PY) -m prometeo_dev.stack

run-empty: $(STAMP) ## run the whole platform locally without demo data
	$(PY) -m prometeo_dev.stack --no-demo

lint: $(STAMP) ## ruff (lint and format check) and mypy: zero findings
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP) ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: $(STAMP) promtool browser ## run the whole test suite: unit, integration (real broker/Redis/MLflow) and end-to-end
	$(PY) -m pytest $(PYTEST_ARGS)

test-night: $(STAMP) promtool browser ## the whole suite with every process's business clock at 03:00 in São Paulo
	PROMETEO_CLOCK_SHIFT_S=$$($(PY) -m prometeo_dev.night) $(PY) -m pytest $(PYTEST_ARGS)

promtool: ## best effort: Prometheus's promtool (Debian package) for the alert-rule tests, which skip without it
	@command -v promtool >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus) \
	  >/dev/null 2>&1; } || echo "promtool unavailable: its tests will skip"

browser: ## best effort: Debian's chromium for the console's browser tests (Playwright drives it), which skip without it
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) \
	  >/dev/null 2>&1; } || echo "chromium unavailable: the browser tests will skip"

test-browser: $(STAMP) browser ## the console in headless Chromium (Playwright), against the whole platform
	$(PY) -m pytest tests/browser $(PYTEST_ARGS)

test-unit: $(STAMP) ## unit tests only (seconds)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

test-integration: $(STAMP) ## integration tests against real servers
	$(PY) -m pytest tests/integration $(PYTEST_ARGS)

test-e2e: $(STAMP) ## end-to-end tests: all six services as processes
	$(PY) -m pytest tests/e2e $(PYTEST_ARGS)

test-faults: $(STAMP) ## fault drills only (broker kill/stall, DLQ guard, service kill; `-s` prints the ledgers)
	$(PY) -m pytest -m faults tests/faults $(PYTEST_ARGS)

bench: $(STAMP) ## benchmarks, each figure against a same-run baseline; BENCH=all prints every figure (~1 h), BENCH=run|soak|quick one part
	BENCH=$(BENCH) $(PY) -m benchmarks

clean: ## remove the virtualenv and local run state
	rm -rf $(VENV) .run
