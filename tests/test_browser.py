"""The dashboard in a real browser: `streamlit run` on a free local port, headless Chromium.

Reads a headline figure from the explorer and saves a full-page screenshot to
tests/artifacts/dashboard.png (and to docs/dashboard.png when UPDATE_SCREENSHOT=1, for the
README); then opens the actual-usage page on the demo store and saves
tests/artifacts/actual-usage.png. Skipped only when Debian's chromium is not installed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"
SCREENSHOT = ARTIFACTS / "dashboard.png"
USAGE_SCREENSHOT = ARTIFACTS / "actual-usage.png"
USAGE_SCREENSHOT = ARTIFACTS / "actual-usage.png"
README_SCREENSHOT = ROOT / "docs" / "dashboard.png"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The bundled default scenario (claims triage, worked example 2).
DEFAULT_SYNC = "$412.50"
DEFAULT_BATCH = "$206.25"
# Set in the server's environment: the app needs no key and must never show one.
FAKE_KEY = "sk-ant-test-never-show-this-0000"

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited early with status {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"streamlit did not answer {url}/_stcore/health within {timeout:.0f}s")


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (scripts/test.sh does)")
    port = _free_port()
    stores = tmp_path_factory.mktemp("stores")
    env = {
        **os.environ,
        "ANTHROPIC_API_KEY": FAKE_KEY,
        "COSTMODEL_STORE": str(stores / "none.duckdb"),  # no user store: the demo is shown
        "COSTMODEL_DEMO_STORE": str(stores / "demo-usage.duckdb"),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, server)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)


@pytest.fixture(scope="module")
def browser(server_url: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _open(browser: Any, url: str, charts: int) -> Any:
    """A 1280x900 page at ``url`` once Streamlit has drawn ``charts`` Plotly charts."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector(".js-plotly-plot", timeout=90_000)
    page.wait_for_function(
        f"document.querySelectorAll('.js-plotly-plot').length >= {charts}", timeout=90_000
    )
    return page


def _full_page_screenshot(page: Any, path: Path) -> None:
    # Streamlit scrolls inside its main element, so a full-page screenshot needs a window as
    # tall as the page; the width stays at a laptop's 1280 px.
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1280, "height": int(height)})
    page.wait_for_timeout(1500)  # let the charts lay out again at the new size
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


def test_dashboard_renders_the_default_scenario_in_chromium(browser: Any, server_url: str) -> None:
    page = _open(browser, server_url, charts=5)
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert values[0].strip() == DEFAULT_SYNC
    assert values[1].strip() == DEFAULT_BATCH
    text = page.inner_text("body")
    assert "catalogue checked" in text
    assert "Traceback" not in text
    assert FAKE_KEY not in page.content()
    _full_page_screenshot(page, SCREENSHOT)
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        _full_page_screenshot(page, README_SCREENSHOT)
    page.close()
    assert SCREENSHOT.stat().st_size > 10_000


def test_actual_usage_shows_labelled_demo_data_in_chromium(browser: Any, server_url: str) -> None:
    page = _open(browser, f"{server_url}/actual_usage", charts=4)
    text = page.inner_text("body")
    assert "Demo data" in text
    assert "Traceback" not in text
    assert FAKE_KEY not in page.content()
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert values[0].strip().startswith("$")
    _full_page_screenshot(page, USAGE_SCREENSHOT)
    page.close()


def test_ranges_page_draws_its_fan_chart_in_chromium(browser: Any, server_url: str) -> None:
    page = _open(browser, f"{server_url}/ranges", charts=3)
    text = page.inner_text("body")
    assert "Ranges and forecast" in text and "P10" in text
    assert "Traceback" not in text
    assert page.locator(".js-plotly-plot .scatterlayer .trace").count() >= 2  # the fan
    _full_page_screenshot(page, SCREENSHOT.with_name("ranges.png"))
    page.close()
