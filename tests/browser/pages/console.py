"""Page objects: the console as a person uses it, one method per step, a screenshot per step."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from prometeo_dev.demo import DEMO_USERS
from tests.bus_helpers import wait_until

AXE = Path(__file__).resolve().parent.parent / "vendor" / "axe-4.14.1.min.js"
ROLES = {
    "advisor": "ana.advisor",
    "manager": "bruno.manager",
    "marketing": "carla.marketing",
    "analyst": "diego.analyst",
    "dpo": "dora.dpo",
    "admin": "admin",
}


class Console:
    def __init__(self, page: Page, base_url: str, shots: Path, prefix: str) -> None:
        self.page = page
        self.base = base_url
        self.shots = shots
        self.prefix = prefix

    def shot(self, step: str) -> Path:
        path = self.shots / f"{self.prefix}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    # ---- sign-in and language ---------------------------------------------------------------------------
    def sign_in_as(self, role: str) -> None:
        username = ROLES[role]
        self.page.goto(f"{self.base}/signin")
        self.page.get_by_label(re.compile("Usuario|Usuário|Username")).fill(username)
        self.page.get_by_label(re.compile("Contraseña|Senha|Password")).fill(DEMO_USERS[username][0])
        self.page.locator("form[action='/signin'] button[type=submit]").click()
        expect(self.page.get_by_test_id("who")).to_be_visible()

    def switch_language(self, lang: str) -> None:
        self.page.select_option("#lang", lang)
        self.page.wait_for_load_state("load")
        expect(self.page.locator("html")).to_have_attribute("lang", lang.replace("_", "-"))

    # ---- advisor --------------------------------------------------------------------------------------------
    def open_today(self, **filters: str) -> None:
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        self.page.goto(f"{self.base}/today" + (f"?{query}" if query else ""))
        expect(self.page.get_by_test_id("total")).to_be_visible()

    def priorities(self) -> list[str]:
        return self.page.get_by_test_id("customer-link").all_inner_texts()

    def open_today_when_ranked(self, timeout: float = 60, **filters: str) -> list[str]:
        """Today, once the gateway has learnt the portfolio from the profile events and offers exist."""

        def ranked() -> list[str]:
            self.open_today(**filters)
            return self.priorities()

        return wait_until(ranked, timeout=timeout)

    def open_first_customer(self) -> str:
        link = self.page.get_by_test_id("customer-link").first
        href = str(link.get_attribute("href"))
        link.click()
        expect(self.page.get_by_test_id("held-here")).to_be_visible()
        return href.rsplit("/", 1)[-1]

    def open_customer(self, customer_id: str) -> None:
        self.page.goto(f"{self.base}/customers/{customer_id}")

    def record_outcome(self, click: str) -> None:
        offer = self.page.get_by_test_id("offer").first
        offer.get_by_test_id({"accepted": "accept", "declined": "decline", "callback": "callback"}[click]).click()
        expect(offer.get_by_test_id("recorded")).to_be_visible()

    # ---- marketing --------------------------------------------------------------------------------------------
    def open_dashboard(self, **params: str) -> None:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        self.page.goto(f"{self.base}/dashboard" + (f"?{query}" if query else ""))
        expect(self.page.get_by_test_id("kpi-accepted")).to_be_visible()

    def kpi(self, name: str) -> str:
        return self.page.get_by_test_id(f"kpi-{name}").locator(".big").inner_text()

    def open_campaigns(self) -> None:
        self.page.goto(f"{self.base}/campaigns")
        expect(self.page.get_by_test_id("campaign-form")).to_be_visible()

    # ---- checks ---------------------------------------------------------------------------------------------
    def serious_accessibility_violations(self) -> list[dict[str, Any]]:
        self.page.add_script_tag(path=str(AXE))
        result: dict[str, Any] = self.page.evaluate("async () => await axe.run(document)")
        return [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    def overflows_horizontally(self) -> bool:
        return bool(self.page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1"))
