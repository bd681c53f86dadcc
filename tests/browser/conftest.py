"""One platform (six services and the console, real processes, a demo bank loaded) and one headless Chromium
for every browser test. Debian's chromium is installed by `make browser` (part of `make test`); without it
(or without Playwright) the tests skip, saying why. Screenshots go to .artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from prometeo import clock
from prometeo_dev.demo import MARKETING_KEY, load_bank, wait_for_offers
from prometeo_dev.demo_model import DEFAULT_MODEL_NAME, train_demo_model
from prometeo_dev.living import run_living_demo
from prometeo_dev.platform import SERVICES, Infrastructure, Platform, platform
from prometeo_dev.synthbank import SyntheticBank, branch_and_portfolio, generate_bank
from scoring.training.registry import PromotionGate
from tests.bus_helpers import scaled
from tests.conftest import RUN_DIR

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts" / "screenshots"
DEMO_CAMPAIGN = "demo-savings-holdout"
NO_FLOOR = PromotionGate(auc_margin=-0.5, max_ece=1.0, min_product_auc=0.0)

pytestmark = pytest.mark.e2e
# The first test's setup builds the platform and trains the demo model (minutes on a loaded CI machine).
SETUP_TIMEOUT_S = 900


def _playwright() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make browser installs it as root)")
    return sync_playwright


@dataclass
class Demo:
    platform: Platform
    bank: SyntheticBank
    mine: list[str]  # raw customer ids of ana.advisor's portfolio (adv-sp-01)
    others: list[str]  # raw customer ids outside it

    @property
    def console(self) -> str:
        return self.platform.url("console")

    @property
    def gateway(self) -> str:
        return self.platform.url("gateway")


def _has_champion(mlflow_uri: str) -> bool:
    """A champion registered earlier in the session (the end-to-end tests train one) serves this bank too."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    try:
        MlflowClient(tracking_uri=mlflow_uri).get_model_version_by_alias(DEFAULT_MODEL_NAME, "champion")
    except MlflowException:
        return False
    return True


def _demo_campaign(gateway: str) -> None:
    """A savings campaign with a 30 % holdout, live before the bank streams in, so the dashboard has a funnel."""
    now = clock.now()
    body = {
        "campaign_id": DEMO_CAMPAIGN,
        "name": "Savings for idle balances",
        "product": "savings",
        "channels": ["email", "sms"],
        "starts_at": (now - timedelta(days=1)).isoformat(),
        "ends_at": (now + timedelta(days=27)).isoformat(),
        "budget": 5000,
        "control_share": 0.3,
    }
    r = httpx.post(f"{gateway}/v1/campaigns", json=body, headers={"X-API-Key": MARKETING_KEY}, timeout=10)
    assert r.status_code in (201, 409), r.text


@pytest.fixture(scope="session")
def demo(broker: str, redis_url: str, mlflow_uri: str) -> Iterator[Demo]:
    _playwright()
    bank = generate_bank(200, seed=23)
    infra = Infrastructure(broker, redis_url, mlflow_uri)
    # As `make run` does: the services boot while the model trains; scoring is ready once the champion exists.
    waited = [n for n, _, _ in SERVICES if n != "scoring"]
    with platform(Path(RUN_DIR / "browser"), infra, preferred_ports=False, wait=waited) as plat:
        if not _has_champion(mlflow_uri):
            # A 200-customer bank is too small for the default quality floor; the UI needs a champion, not a good one.
            train_demo_model(bank, mlflow_uri, gate=NO_FLOOR)
        plat.wait_ready(["scoring"], timeout=scaled(180))
        gateway = plat.url("gateway")
        _demo_campaign(gateway)
        load_bank(gateway, bank)
        wait_for_offers(gateway, timeout=scaled(120))
        # `make run`'s living bank: a holdout campaign with weeks of dated history, so every chart has data.
        run_living_demo(gateway, broker, bank, timeout_s=scaled(45))
        ids = bank.customers["customer_id"].tolist()
        regions = bank.customers["region"].tolist()
        portfolio = [branch_and_portfolio(i, r)["advisor_id"] for i, r in enumerate(regions)]
        mine = [c for c, p in zip(ids, portfolio, strict=True) if p == "adv-sp-01"]
        others = [c for c, p in zip(ids, portfolio, strict=True) if p != "adv-sp-01"]
        yield Demo(plat, bank, mine, others)


@pytest.fixture(scope="session")
def browser(demo: Demo) -> Iterator[Any]:
    sync_playwright = _playwright()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def shots() -> Path:
    return ARTIFACTS


def new_page(
    browser: Any,
    *,
    width: int = 1280,
    height: int = 800,
    accept_language: str = "es-419,es;q=0.9",
    bypass_csp: bool = False,
) -> Any:
    """A fresh context (no cookies). `bypass_csp` lets the accessibility check inject axe into pages whose
    Content-Security-Policy allows only the console's own scripts."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale=accept_language.split(",")[0], bypass_csp=bypass_csp
    )
    context.set_extra_http_headers({"Accept-Language": accept_language})
    context.set_default_timeout(scaled(15) * 1000)
    return context.new_page()
