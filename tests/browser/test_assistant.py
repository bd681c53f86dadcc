"""The assistant panel in the console: a person asks in plain words and sees the answer with its sources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SETUP_TIMEOUT_S, Demo, new_page
from tests.browser.pages.console import Console

# The session's platform may be built by this module's first test (when it runs alone).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(SETUP_TIMEOUT_S)]


def _ask(c: Console, question: str) -> Any:
    c.page.get_by_test_id("assistant-question").fill(question)
    c.page.get_by_test_id("assistant-send").click()
    answer = c.page.get_by_test_id("assistant-answer")
    expect(answer).to_be_visible()
    return answer


def test_the_advisor_asks_about_the_customer_on_screen_and_sees_the_sources(
    browser: Any, demo: Demo, shots: Path
) -> None:
    ana = Console(new_page(browser), demo.console, shots, "assistant-advisor")
    ana.sign_in_as("advisor")
    ana.open_today_when_ranked()
    key = ana.open_first_customer()
    answer = _ask(ana, "¿Qué le ofrezco a este cliente?")
    expect(answer).to_have_attribute("data-status", "answered")
    expect(answer).to_contain_text("valor esperado")
    sources = ana.page.get_by_test_id("assistant-sources")
    expect(sources).to_contain_text(f"/v1/customers/{key}/recommendations")
    expect(sources.get_by_role("link").first).to_have_attribute("href", f"/customers/{key}")
    ana.shot("answer")


def test_the_marketer_asks_the_dashboard_panel_in_portuguese(browser: Any, demo: Demo, shots: Path) -> None:
    carla = Console(new_page(browser), demo.console, shots, "assistant-marketing")
    carla.sign_in_as("marketing")
    carla.page.goto(f"{demo.console}/dashboard")
    answer = _ask(carla, "Qual é a taxa de aceitação?")
    expect(answer).to_have_attribute("data-status", "answered")
    expect(answer).to_have_attribute("lang", "pt-BR")
    expect(carla.page.get_by_test_id("assistant-sources")).to_contain_text("/v1/kpis")
    refused = _ask(carla, "O que ofereço para 123.456.789-09?")
    expect(refused).to_have_attribute("data-status", "refused")
    carla.shot("answers")
