"""Budgets on the cost-by-day chart in a real browser (headless Chromium): the bundled example
picked in the sidebar draws its dashed pace lines. The server and browser are test_browser's."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_browser import ARTIFACTS, _full_page_screenshot, _open, browser, server_url

__all__ = ["browser", "server_url"]  # the fixtures, imported for pytest

pytestmark = pytest.mark.browser


def test_budget_pace_on_the_cost_by_day_chart_in_chromium(browser: Any, server_url: str) -> None:
    page = _open(browser, f"{server_url}/actual_usage", charts=4)
    page.get_by_text("The bundled example").click()
    page.wait_for_function(
        "document.body.innerText.includes('Budget pace: All Claude usage')", timeout=90_000
    )
    text = page.inner_text("body")
    assert "Budget pace for" in text and "Traceback" not in text
    # The dashed level lines are drawn in the first chart, the cost by day.
    first = page.locator(".js-plotly-plot").first
    assert first.locator(".scatterlayer .trace").count() >= 3  # sync line + 2 budget paces
    _full_page_screenshot(page, ARTIFACTS / "actual-usage-budgets.png")
    page.close()
