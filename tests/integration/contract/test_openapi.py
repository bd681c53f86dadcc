"""The published OpenAPI is the contract: schemathesis against the real gateway and ingest on free ports.

Both run in-process under uvicorn (real HTTP, the suite's broker and Redis); the gateway relays to that
ingest with service tokens. Each operation gets a bounded number of generated requests (valid and
invalid); every answer must be a documented status, with the documented content type, headers and body
schema (problem+json for errors), and none may be a 5xx. The gateway operations that call feature-store,
next-best-action or campaigns are left out: those services do not run here (a 502 would be the answer).
Budget: well under 60 s on two busy cores (`MAX_EXAMPLES` per operation).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

from tests.app_helpers import caller_auth
from tests.bus_helpers import scaled, wait_until

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis not installed (test extra)")
from schemathesis import GenerationMode, checks  # noqa: E402
from schemathesis.core.failures import FailureGroup  # noqa: E402

pytestmark = [
    pytest.mark.integration,
    # schemathesis' own strategies use `random`; hypothesis warns about it on every operation.
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]

MAX_EXAMPLES = 5
INGEST_KEY = "contract-ingest-key"
# What "conforms" means here. Not negative_data_rejection: ingest answers batches per item (an invalid
# item is reported in a 200, by design), so a schema-invalid item inside a batch is not refused whole.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    # The declared security is enforced: the same request without its credentials is refused.
    checks.ignored_auth,
]
# The gateway's routes whose upstream is not running in this test.
GATEWAY_ELSEWHERE = (
    r"^/v1/(customers/.*/(recommendations|outcomes|features)|kpis.*|campaigns.*|experiments.*|levers.*)$"
)
CASES: Counter[str] = Counter()


@contextlib.contextmanager
def _served(app: FastAPI) -> Iterator[str]:
    with contextlib.closing(__import__("socket").socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name=f"contract-{port}", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _ready(url), timeout=30, interval=0.05)
        yield url
    finally:
        server.should_exit = True
        thread.join(scaled(10))


def _ready(url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    return False


@pytest.fixture(scope="module")
def servers(broker: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    from gateway.main import app as gateway_app
    from gateway.settings import get_settings as gateway_settings
    from ingest_openfinance.main import app as ingest_app
    from ingest_openfinance.settings import get_settings as ingest_settings

    closed = "http://127.0.0.1:9"  # discard port: nothing listens
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        "REDIS_URL": redis_url,
        "PROMETEO_ENV": "test",
        "PROMETEO_CONSUMER_SESSION_TIMEOUT_MS": "1500",
        "PROMETEO_INGEST_OPENFINANCE_GROUP_ID": f"contract-ingest-{id(tmp_path_factory)}",
        "PROMETEO_GATEWAY_DATA_DIR": str(tmp_path_factory.mktemp("contract-gateway")),
        "PROMETEO_GATEWAY_API_KEYS": json.dumps({INGEST_KEY: "ingest"}),
        "PROMETEO_GATEWAY_RATE_LIMIT_PER_MINUTE": "1000000",
        "PROMETEO_GATEWAY_FEATURE_STORE_URL": closed,
        "PROMETEO_GATEWAY_NEXT_BEST_ACTION_URL": closed,
        "PROMETEO_GATEWAY_CAMPAIGNS_URL": closed,
    }
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        ingest_settings.cache_clear()
        gateway_settings.cache_clear()
        with _served(ingest_app) as ingest_url:
            mp.setenv("PROMETEO_GATEWAY_INGEST_URL", ingest_url)
            with _served(gateway_app) as gateway_url:
                yield {"ingest": ingest_url, "gateway": gateway_url}
        ingest_settings.cache_clear()
        gateway_settings.cache_clear()


def _token() -> dict[str, str]:
    return {"Authorization": f"Bearer {caller_auth('ingest-openfinance').token_for('ingest-openfinance')}"}


@pytest.fixture(scope="module")
def ingest_schema(servers: dict[str, str]) -> Any:
    schema = schemathesis.openapi.from_url(f"{servers['ingest']}/openapi.json", headers=_token())
    schema.config.update(base_url=servers["ingest"])
    return schema


@pytest.fixture(scope="module")
def gateway_schema(servers: dict[str, str]) -> Any:
    schema = schemathesis.openapi.from_url(f"{servers['gateway']}/openapi.json")
    schema.config.update(base_url=servers["gateway"])
    return schema.exclude(path_regex=GATEWAY_ELSEWHERE)


# What each service's calls carry: a fresh service token (ingest), the test's API key (gateway).
HEADERS: dict[str, Callable[[], dict[str, str]]] = {
    "ingest": _token,
    "gateway": lambda: {"X-API-Key": INGEST_KEY},
}
BOUNDED = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def _exercise(schema: Any, name: str) -> list[str]:
    """Every operation, valid then invalid requests; → the failures (each with the request to repeat it).

    Driven with hypothesis directly (schemathesis' lazy pytest fixture does not run on pytest 9)."""
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run = _bounded(operation.as_strategy(generation_mode=mode), name, f"{operation.label} [{mode.value}]")

            # No invalid request exists for an operation without inputs (e.g. GET /healthz).
            with contextlib.suppress(Unsatisfiable):
                failures += run()
    return failures


def _bounded(cases: Any, name: str, label: str) -> Callable[[], list[str]]:
    def run() -> list[str]:
        failures: list[str] = []

        @BOUNDED
        @given(case=cases)
        def each(case: Any) -> None:
            CASES[name] += 1
            try:
                response = case.call_and_validate(headers=HEADERS[name](), checks=CHECKS, timeout=scaled(30))
                CASES[f"{name} {response.status_code // 100}xx"] += 1
            except (AssertionError, FailureGroup) as exc:  # check failures: reported, not shrunk
                failures.append(f"{label}: {str(exc)[:600]}")
                CASES[f"{name} failures"] += 1

        each()
        return failures

    return run


def test_ingest_answers_as_its_openapi_says(ingest_schema: Any) -> None:
    failures = _exercise(ingest_schema, "ingest")
    assert not failures, "\n\n".join(failures[:10])


def test_gateway_answers_as_its_openapi_says(gateway_schema: Any) -> None:
    failures = _exercise(gateway_schema, "gateway")
    assert not failures, "\n\n".join(failures[:10])


def test_ingest_refuses_calls_without_a_valid_service_token(servers: dict[str, str]) -> None:
    """On the real server: no token, another service's token → 401 problem+json; the caller's → through."""
    url = f"{servers['ingest']}/v1/customers:export"
    body = {"customer_id": "contract-nobody"}
    for headers in ({}, {"Authorization": f"Bearer {caller_auth('campaigns').token_for('campaigns')}"}):
        refused = httpx.post(url, json=body, headers=headers)
        assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
    assert httpx.post(url, json=body, headers=_token()).status_code == 200


def test_both_contracts_were_exercised() -> None:
    """Runs last in the module: real answers of every kind came back (`-s` prints the counts)."""
    print(f"\nschemathesis cases: {dict(sorted(CASES.items()))}")
    for name in ("ingest", "gateway"):
        if CASES[name]:  # 0 when run alone (-k)
            assert CASES[f"{name} 2xx"] > 0 and CASES[f"{name} 4xx"] > 0, dict(CASES)
