"""The console in a real browser (headless Chromium), as its people use it, against the whole platform."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from prometeo_dev.demo import MARKETING_KEY
from prometeo_dev.living import DEMO_CAMPAIGN as LIVING_CAMPAIGN
from tests.browser.conftest import DEMO_CAMPAIGN, SETUP_TIMEOUT_S, Demo, new_page
from tests.browser.pages.console import ROLES, Console
from tests.bus_helpers import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(SETUP_TIMEOUT_S)]

HOMES = {"advisor": "/today", "manager": "/today", "dpo": "/today", "marketing": "/dashboard", "analyst": "/dashboard"}
HOMES["admin"] = "/dashboard"


def _console(browser: Any, demo: Demo, shots: Path, prefix: str, **kw: Any) -> Console:
    return Console(new_page(browser, **kw), demo.console, shots, prefix)


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_signs_in_and_lands_on_its_screen(role: str, browser: Any, demo: Demo, shots: Path) -> None:
    c = _console(browser, demo, shots, f"signin-{role}")
    c.sign_in_as(role)
    assert c.page.url.endswith(HOMES[role]) or HOMES[role] + "?" in c.page.url, c.page.url
    expect(c.page.get_by_test_id("who")).to_contain_text(role if role not in ("manager",) else "branch_manager")
    c.shot("home")
    c.page.context.close()


def test_the_advisor_calls_the_top_customer_and_the_kpi_moves(browser: Any, demo: Demo, shots: Path) -> None:
    def accepted() -> int:
        r = httpx.get(f"{demo.gateway}/v1/kpis", headers={"X-API-Key": MARKETING_KEY}, timeout=10)
        return int(r.json()["outcomes"].get("accepted", 0))

    before = accepted()
    ana = _console(browser, demo, shots, "advisor")
    ana.sign_in_as("advisor")
    ana.open_today_when_ranked()
    ana.shot("1-today")
    ana.open_first_customer()
    ana.shot("2-customer")
    ana.record_outcome("accepted")
    ana.shot("3-outcome-recorded")

    carla = _console(browser, demo, shots, "advisor-kpi")
    carla.sign_in_as("marketing")

    def moved() -> bool:
        carla.open_dashboard()
        return int(re.sub(r"\D", "", carla.kpi("accepted"))) > before

    wait_until(moved, timeout=20)
    assert accepted() > before
    carla.shot("4-dashboard-after-outcome")
    ana.page.context.close()
    carla.page.context.close()


def test_the_advisor_filters_and_pages_the_list(browser: Any, demo: Demo, shots: Path) -> None:
    ana = _console(browser, demo, shots, "today-filter")
    ana.sign_in_as("advisor")
    ana.open_today_when_ranked()
    ana.page.select_option("#f-channel", "advisor")
    expect(ana.page).to_have_url(re.compile(r"channel=advisor"))
    ana.shot("filtered")
    ana.page.context.close()


def test_an_advisor_cannot_open_a_customer_outside_her_portfolio(browser: Any, demo: Demo, shots: Path) -> None:
    ana = _console(browser, demo, shots, "scope")
    ana.sign_in_as("advisor")
    ana.open_customer(demo.others[0])
    expect(ana.page.get_by_test_id("error")).to_be_visible()
    expect(ana.page.get_by_role("alert")).to_contain_text("cartera")
    ana.shot("outside-portfolio")
    ana.page.context.close()


def test_the_marketer_filters_the_dashboard_and_drills_into_a_bar(browser: Any, demo: Demo, shots: Path) -> None:
    carla = _console(browser, demo, shots, "marketing")
    carla.sign_in_as("marketing")
    carla.open_dashboard()
    # KPIs over time: both line charts drawn; the period filter redraws them for the last 7 days.
    for chart in ("#over-rates", "#over-volumes", "#breakdown"):
        expect(carla.page.locator(chart)).to_have_attribute("data-drawn", "1")
    carla.page.select_option("[data-testid=period]", "7")
    expect(carla.page).to_have_url(re.compile(r"period=7"))
    expect(carla.page.locator("#h-over-rates")).to_contain_text("7")
    expect(carla.page.locator("#over-rates")).to_have_attribute("data-drawn", "1")
    carla.shot("1-dashboard")
    carla.page.select_option("[data-testid=dimension]", "channel")
    expect(carla.page).to_have_url(re.compile(r"dimension=channel"))
    expect(carla.page.locator("#h-breakdown")).to_contain_text("canal")
    carla.page.get_by_test_id("drill-links").get_by_role("button").first.click()
    expect(carla.page.get_by_test_id("drill")).to_be_visible()
    expect(carla.page.get_by_test_id("drill-customers").locator("code").first).to_contain_text("ck_")
    carla.shot("2-drill-down")
    carla.open_dashboard(campaign=DEMO_CAMPAIGN)
    expect(carla.page.get_by_test_id("funnel-rates")).to_be_visible()
    carla.shot("3-funnel")
    carla.open_dashboard(campaign=LIVING_CAMPAIGN)  # weeks of history: a holdout with a real lift
    expect(carla.page.get_by_test_id("funnel-rates")).to_be_visible()
    expect(carla.page.get_by_test_id("experiment")).to_be_visible()
    carla.shot("3-funnel-and-experiment")
    carla.page.context.close()


def test_the_marketer_creates_launches_pauses_and_resumes_a_campaign(browser: Any, demo: Demo, shots: Path) -> None:
    carla = _console(browser, demo, shots, "campaigns")
    carla.sign_in_as("marketing")
    carla.open_campaigns()
    form = carla.page.get_by_test_id("campaign-form")
    form.locator("#c-id").fill("browser-card-push")
    form.locator("#c-name").fill("Cartão para quem viaja")
    form.locator("#c-product").select_option("credit_card")
    form.locator("#r1f").select_option("segment.digital_archetype")
    form.locator("#r1o").select_option("eq")
    form.locator("#r1v").fill("activated")
    form.locator("#c-holdout").fill("20")
    form.get_by_test_id("preview").click()  # audience and expected conversions before launch
    expect(carla.page.get_by_test_id("preview-contactable")).to_be_visible()
    carla.shot("1-form")
    form.get_by_test_id("launch").click()
    expect(carla.page.get_by_test_id("launched")).to_contain_text("browser-card-push")
    row = carla.page.get_by_test_id("campaign-browser-card-push")
    expect(row.get_by_test_id("status")).to_have_text("activa")
    carla.shot("2-launched")
    row.get_by_test_id("toggle").click()
    expect(carla.page.get_by_test_id("campaign-browser-card-push").get_by_test_id("status")).to_have_text("pausada")
    carla.page.get_by_test_id("campaign-browser-card-push").get_by_test_id("toggle").click()
    expect(carla.page.get_by_test_id("campaign-browser-card-push").get_by_test_id("status")).to_have_text("activa")
    carla.shot("3-resumed")
    carla.page.context.close()


def test_the_language_follows_the_browser_then_the_persons_choice(browser: Any, demo: Demo, shots: Path) -> None:
    carla = _console(browser, demo, shots, "language", accept_language="pt-BR,pt;q=0.9")
    carla.sign_in_as("marketing")
    carla.open_dashboard()
    expect(carla.page.locator("h1")).to_have_text("Painel de marketing")
    assert carla.kpi("revenue").startswith("R$ ") and "," in carla.kpi("revenue")[-3:]
    carla.shot("1-pt-BR")
    carla.switch_language("en")
    expect(carla.page.locator("h1")).to_have_text("Marketing dashboard")
    assert re.fullmatch(r"R\$[\d,]+\.\d\d", carla.kpi("revenue")), carla.kpi("revenue")
    carla.shot("2-en")
    carla.page.context.close()


PAGES = ("signin", "today", "customer", "dashboard", "campaigns")


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_every_page_fits_the_screen_and_has_no_serious_accessibility_violation(
    width: int, height: int, browser: Any, demo: Demo, shots: Path
) -> None:
    found: dict[str, list[dict[str, Any]]] = {}
    overflow: list[str] = []
    admin = _console(browser, demo, shots, f"a11y-{width}", width=width, height=height, bypass_csp=True)

    def check(name: str) -> None:
        admin.page.wait_for_load_state("load")
        found[name] = admin.serious_accessibility_violations()
        if admin.overflows_horizontally():
            overflow.append(name)
        admin.shot(name)

    admin.page.goto(f"{demo.console}/signin")
    check("signin")
    admin.sign_in_as("admin")
    admin.open_today_when_ranked(portfolio="adv-sp-01")
    check("today")
    admin.open_first_customer()
    check("customer")
    admin.open_dashboard(campaign=DEMO_CAMPAIGN)
    check("dashboard")
    admin.open_campaigns()
    check("campaigns")
    admin.page.context.close()
    assert not {k: v for k, v in found.items() if v}, found
    assert not overflow, f"pages wider than {width}px: {overflow}"
