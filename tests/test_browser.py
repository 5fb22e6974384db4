"""The dashboard in a real browser: `streamlit run` on a free local port, headless Chromium.

Reads a headline figure from the explorer and saves a full-page screenshot to
tests/artifacts/dashboard.png (and to docs/dashboard.png when UPDATE_SCREENSHOT=1, for the
README); opens the actual-usage page on the demo store and saves
tests/artifacts/actual-usage.png. Then what a user's browser must never see (issue 8, items
13-18): a traceback, markup from a file (a local listener counts every request a file's
content could cause), a request beyond this computer, two upload limits, edits lost on a page
change, and headline figures cut short at 800, 1024 or 1280 px with the sidebar open.
Skipped only when Debian's chromium is not installed.
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


# -- issue 8, items 13-18: what a user's browser sees ------------------------------------------
class _Listener:
    """A local HTTP server that counts every request: nothing in a file may make the page call."""

    def __init__(self) -> None:
        import http.server
        import threading

        self.paths: list[str] = []
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                listener.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[_Listener]:
    opened = _Listener()
    try:
        yield opened
    finally:
        opened.close()


def _wait_for_metric(page: Any, index: int, value: str, timeout: int = 60_000) -> None:
    page.wait_for_function(
        "([i, v]) => { const m = document.querySelectorAll('[data-testid=\"stMetricValue\"]');"
        " return m.length > i && m[i].innerText.trim() === v; }",
        arg=[index, value],
        timeout=timeout,
    )


def _upload_in_browser(page: Any, path: Path) -> None:
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))


def _wait_idle(page: Any) -> None:
    # Streamlit shows a "running" status widget while a rerun is in flight.
    page.wait_for_timeout(500)
    page.wait_for_function(
        "!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )


def _hostile_scenario(port: int) -> str:
    base = f"http://127.0.0.1:{port}"
    return f"""name: "Mine ![name]({base}/name.png) <img src='{base}/name-tag.png'>"
description: >-
  ![desc]({base}/description.png) <img src="{base}/desc-tag.png"> [a link]({base}/link)
  $5 and $6 <a href="{base}/a-tag">click</a> {base}/bare
workloads:
  - name: "<a href='{base}/workload-a'>live</a> ![w]({base}/workload.png)"
    model: claude-3-5-sonnet
    requests: 1000
    input_tokens: 100
    output_tokens: 10
  - name: "<img src='{base}/workload-img.png'>"
    model: claude-haiku-4-5
    requests: 1000
    input_tokens: 100
    output_tokens: 10
"""


def test_user_text_loads_nothing_and_links_nowhere(
    browser: Any, server_url: str, listener: _Listener, tmp_path: Path
) -> None:
    # Item 14: names, descriptions, file names and errors are plain text in the page and in
    # the Plotly charts; the local listener proves no request left because of a file.
    base = f"http://127.0.0.1:{listener.port}"
    # A file name cannot hold a slash: its markup points at the dashboard's own host, which
    # the request recorder watches.
    good = tmp_path / "![file](file-marker.png) <img src=file-tag.png> mine.yaml"
    good.write_text(_hostile_scenario(listener.port))
    bad = tmp_path / "<img src=bad-file.png>.yaml"
    bad.write_text(f"name: x\nworkloads: []\n'![key]({base}/key.png)': 1\n")
    page = _open(browser, server_url, charts=5)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    _upload_in_browser(page, good)
    page.wait_for_function("document.body.innerText.includes('<a href=')", timeout=60_000)
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    _wait_idle(page)
    page.get_by_text("Adjust the assumptions").click()
    page.wait_for_timeout(1000)
    shown = page.inner_text("body").replace("\u2060", "")  # the word joiners that stop autolinks
    assert f"![desc]({base}/description.png)" in shown  # the description, as written
    assert "$5 and $6" in shown
    _full_page_screenshot(page, ARTIFACTS / "user-text-as-written.png")
    # An invalid file whose name and keys carry markup: the errors are plain text too.
    _upload_in_browser(page, bad)
    page.wait_for_function("document.body.innerText.includes('was not loaded')", timeout=60_000)
    _wait_idle(page)
    assert "bad-file.png" in page.inner_text("body")
    page.wait_for_timeout(1500)  # time for any image or font the page might fetch
    assert listener.paths == []
    assert not [url for url in requested if "marker" in url or "tag" in url or "bad-file" in url]
    linked = page.evaluate(
        "(port) => [...document.querySelectorAll('a[href], img[src], image')]"
        ".map(e => e.getAttribute('href') || e.getAttribute('src') ||"
        " e.getAttribute('xlink:href') || '').filter(u => u.includes(':' + port))",
        listener.port,
    )
    assert linked == []
    page.close()


def test_the_page_makes_no_request_beyond_this_computer(browser: Any, server_url: str) -> None:
    # Item 15: every asset is shipped (the favicon was fetched from fonts.gstatic.com).
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(server_url, wait_until="domcontentloaded")
    page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot').length >= 5", timeout=90_000
    )
    for title, charts in (("Compare scenarios", 1), ("Actual usage", 4), ("Prices", 0)):
        page.get_by_role("link", name=title).click()
        page.wait_for_function(
            f"document.querySelectorAll('.js-plotly-plot').length >= {charts}"
            f" && document.body.innerText.includes({title!r})",
            timeout=90_000,
        )
        _wait_idle(page)
    page.get_by_role("link", name="Scenario explorer").click()
    page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot').length >= 5", timeout=90_000
    )
    page.wait_for_timeout(1500)
    icon = page.evaluate("document.querySelector('link[rel~=\"icon\"]')?.href || ''")
    page.close()
    outside = [
        url
        for url in requests
        if not url.startswith((server_url, "data:", "blob:", "ws://127.0.0.1"))
    ]
    assert outside == []
    assert icon.startswith(server_url)
    assert len(requests) > 10  # the recorder saw the page load


def test_an_upload_that_breaks_shows_one_line_never_a_traceback(
    browser: Any, server_url: str, tmp_path: Path
) -> None:
    # Item 13: requests: 1e30 used to put a server traceback (and an "Ask ChatGPT" link) in
    # the page.
    huge = tmp_path / "huge-volume.yaml"
    huge.write_text(
        (ROOT / "scenarios" / "claims-triage.yaml")
        .read_text()
        .replace("requests: 50000", "requests: 1e30")
    )
    page = _open(browser, server_url, charts=5)
    _upload_in_browser(page, huge)
    page.wait_for_function(
        "document.querySelector('[data-testid=\"stAlertContentError\"]')"
        " || document.body.innerText.includes('uploaded: huge-volume.yaml')",
        timeout=60_000,
    )
    _wait_idle(page)
    text = page.inner_text("body")
    _full_page_screenshot(page, ARTIFACTS / "error-in-one-line.png")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "Traceback" not in text and "ChatGPT" not in text and ".py" not in text
    alerts = page.locator(
        '[data-testid="stAlertContentError"] [data-testid="stMarkdownContainer"]'
    ).all_inner_texts()
    # The loader's located message: the field and its bound, as the CLI prints it.
    assert any(
        "huge-volume.yaml:" in alert and "workloads[0].requests" in alert and "1e12" in alert
        for alert in alerts
    ), alerts
    page.close()


def test_the_upload_limit_is_one_limit(browser: Any, server_url: str, tmp_path: Path) -> None:
    # Item 16: the browser and the server refuse at the same byte count, with one message.
    from costmodel.shells.ui.services import MAX_UPLOAD_BYTES

    at_limit = tmp_path / "at-limit.yaml"
    at_limit.write_bytes(b"#" * (MAX_UPLOAD_BYTES - 1) + b"\n")
    over = tmp_path / "over-limit.yaml"
    over.write_bytes(b"#" * MAX_UPLOAD_BYTES + b"\n")
    page = _open(browser, server_url, charts=5)
    _upload_in_browser(page, at_limit)
    page.wait_for_function(
        "document.body.innerText.includes('at-limit.yaml was not')", timeout=60_000
    )
    text = page.inner_text("body")
    assert "bytes" not in text.split("at-limit.yaml was not", 1)[1][:300]  # read, not refused
    _upload_in_browser(page, over)
    page.wait_for_function(
        "document.body.innerText.includes('1.0MB or smaller')"
        " || document.body.innerText.includes('at most 1,000,000 bytes')",
        timeout=60_000,
    )
    page.close()


def test_edits_survive_page_changes_and_a_link_restores_them(browser: Any, server_url: str) -> None:
    # Item 17: requests to 100,000, visit Prices, come back: the edit is still there; the
    # page's address then opens the same figures in a new session.
    page = _open(browser, server_url, charts=5)
    page.get_by_text("Adjust the assumptions").click()
    requests = page.get_by_label("Requests", exact=True)
    requests.fill("100000")
    requests.press("Enter")
    _wait_for_metric(page, 0, "$825.00")
    page.get_by_role("link", name="Prices").click()
    page.wait_for_function("document.body.innerText.includes('Catalogue checked')")
    page.get_by_role("link", name="Scenario explorer").click()
    page.wait_for_selector(".js-plotly-plot", timeout=90_000)
    _wait_for_metric(page, 0, "$825.00")
    _wait_idle(page)
    address = page.url
    assert "state=" in address
    page.get_by_role("link", name="Compare scenarios").click()
    page.wait_for_function(
        "document.body.innerText.includes('Claims triage (classification) (edited)')",
        timeout=60_000,
    )
    page.close()
    fresh = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        shared = fresh.new_page()
        shared.goto(address, wait_until="domcontentloaded")
        shared.wait_for_selector(".js-plotly-plot", timeout=90_000)
        _wait_for_metric(shared, 0, "$825.00")
    finally:
        fresh.close()


@pytest.mark.parametrize("width", [800, 1024, 1280])
def test_headline_figures_are_whole_at_every_width(
    browser: Any, server_url: str, width: int
) -> None:
    # Item 18: with the sidebar open, every headline figure is shown whole (it was "$…" at
    # 900 px and "$41…" at 1024 px).
    from costmodel.adapters.catalogue_files import bundled_catalogue
    from costmodel.adapters.scenario_files import load_scenario
    from costmodel.core.report import run_scenario
    from costmodel.shells.ui.services import headlines, pricing_day

    s = load_scenario(ROOT / "scenarios" / "claims-triage.yaml")
    expected = [h.value for h in headlines(run_scenario(s, bundled_catalogue(), on=pricing_day(s)))]
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(server_url, wait_until="domcontentloaded")
    page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot').length >= 5", timeout=90_000
    )
    _wait_idle(page)
    assert page.locator('[data-testid="stSidebar"][data-collapsed="false"]').count() == 1
    cards = page.evaluate(
        "[...document.querySelectorAll('[data-testid=\"stMetricValue\"]')].map(e => {"
        " const inner = [e, ...e.querySelectorAll('*')];"
        " return {text: e.innerText.trim(),"
        " clipped: inner.some(n => n.scrollWidth > n.clientWidth + 1)}; })"
    )
    page.screenshot(path=str(ARTIFACTS / f"headlines-{width}px.png"))
    page.close()
    assert [card["text"] for card in cards] == expected
    assert not [card for card in cards if card["clipped"]]
