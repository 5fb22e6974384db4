"""The Operations page in a real browser (headless Chromium), on the labelled demo store: the
server and browser fixtures are test_browser's. Saves tests/artifacts/operations.png."""

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


def test_operations_page_draws_its_charts_and_the_claims_in_chromium(
    browser: Any, server_url: str
) -> None:
    page = _open(browser, f"{server_url}/operations", charts=6)
    text = page.inner_text("body")
    assert "Demo data" in text and "Operations" in text
    assert "Traceback" not in text and FAKE_KEY not in page.content()
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert values[0].strip().endswith("%") and values[1].strip().endswith(" h")
    # The claims are drawn as bands and named in the legend of both turnaround charts.
    page.wait_for_function(
        "document.body.innerText.split('Claim: 12-24 h at peak').length > 2", timeout=30_000
    )
    assert page.locator(".js-plotly-plot .shapelayer path").count() >= 4
    _full_page_screenshot(page, ARTIFACTS / "operations.png")
    page.close()
