"""The HTML finance report in a real headless Chromium, offline: every request that is not the
file itself or a data: URL is aborted and recorded; the page must make none, draw every Plotly
chart and show the headline figures. Saves tests/artifacts/finance-report.png (and
docs/finance-report.png when UPDATE_SCREENSHOT=1, for the README). Skipped only when Debian's
chromium is not installed. Dates pinned.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from report_demo import MONTH, TODAY, demo_stores

from costmodel.shells.cli import main

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"
SCREENSHOT = ARTIFACTS / "finance-report.png"
README_SCREENSHOT = ROOT / "docs" / "finance-report.png"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    batches, _ = demo_stores(tmp_path_factory.getbasetemp())
    folder = tmp_path_factory.mktemp("html")
    patch = pytest.MonkeyPatch()
    patch.setenv("COSTMODEL_DEMO_STORE", str(batches))
    patch.delenv("COSTMODEL_STORE", raising=False)
    try:
        out = {}
        for fmt in ("html", "json"):
            out[fmt] = folder / f"report.{fmt}"
            args = ["report", "--demo", "--today", TODAY.isoformat(), "--month", MONTH]
            args += ["--source", "all", "--scenario", "claims-triage"]
            result = CliRunner().invoke(
                main, [*args, "--format", fmt, "--output", str(out[fmt])], catch_exceptions=False
            )
            assert result.exit_code == 0, result.output
    finally:
        patch.undo()
    return out["html"], json.loads(out["json"].read_text())


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def test_the_html_report_renders_offline_with_every_chart(
    report: tuple[Path, dict[str, Any]], browser: Any
) -> None:
    path, data = report
    context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    requests: list[str] = []
    outside: list[str] = []

    def guard(route: Any) -> None:
        url = route.request.url
        requests.append(url)
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(path.as_uri())
    charts = 6  # cost by day, by model, by job, result types, prediction, organisation by day
    page.wait_for_function(
        f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {charts}",
        timeout=60_000,
    )
    page.wait_for_timeout(500)
    drawn = page.evaluate(
        "Array.from(document.querySelectorAll('.js-plotly-plot')).map(p => "
        "p.querySelectorAll('.bars path, .point path, .waterfall path').length)"
    )
    assert len(drawn) == charts and all(n > 0 for n in drawn), drawn
    text = page.inner_text("body")
    totals = data["batches"]["totals"]
    assert f"${totals['cost_billed']:,.2f}" in text
    assert f"${totals['cost_if_sync']:,.2f}" in text
    assert "Demo data" in text
    assert outside == []
    assert requests and requests[0].startswith("file:")
    assert errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=False)
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(SCREENSHOT, README_SCREENSHOT)
    context.close()
