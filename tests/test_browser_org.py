"""The Organisation and Assessment pages in a real browser (headless Chromium), on the labelled
demo report: the server and browser fixtures are test_browser's."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_browser import (
    ARTIFACTS,
    FAKE_KEY,
    _full_page_screenshot,
    _open,
    browser,
    server_url,
)

__all__ = ["browser", "server_url"]  # the fixtures, imported for pytest

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("path", "charts", "figure"),
    [("organisation", 2, "Reported (USD)"), ("assessment", 1, "Monthly savings (USD)")],
)
def test_org_pages_show_labelled_demo_figures_in_chromium(
    browser: Any, server_url: str, path: str, charts: int, figure: str
) -> None:
    page = _open(browser, f"{server_url}/{path}", charts=charts)
    text = page.inner_text("body")
    assert "Demo data" in text and figure in text
    assert "Traceback" not in text and FAKE_KEY not in page.content()
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert values and all(v.strip().startswith("$") for v in values[:3])
    _full_page_screenshot(page, ARTIFACTS / f"{path}.png")
    page.close()
