"""Budgets on the Actual usage page's cost-by-day chart (AppTest): the bundled example, an
upload, and an upload with problems shown with their lines."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from costmodel.shells.ui import budget_picker
from costmodel.shells.ui.services import WORD_JOINER

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
USAGE_PAGE = "costmodel/shells/ui/actual_usage.py"


@pytest.fixture(autouse=True, scope="module")
def _stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("stores")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COSTMODEL_STORE", str(folder / "no-user-store.duckdb"))
        patch.setenv("COSTMODEL_DEMO_STORE", str(folder / "demo-usage.duckdb"))
        yield folder


def _page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(USAGE_PAGE).run()
    assert not at.exception
    return at


def _day_chart(at: AppTest) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(at.get("plotly_chart")[0].proto.spec)
    return spec


def _pace(at: AppTest) -> dict[str, float]:
    return {
        trace["name"]: trace["y"][0]
        for trace in _day_chart(at)["data"]
        if trace["name"].startswith("Budget pace")
    }


def test_no_budgets_by_default() -> None:
    assert _pace(_page()) == {}


def test_the_bundled_example_draws_its_pace() -> None:
    at = _page()
    at.sidebar.radio(key=budget_picker.CHOICE_KEY).set_value(budget_picker.EXAMPLE).run()
    assert not at.exception
    pace = _pace(at)
    total = pace["Budget pace: All Claude usage"]
    # $1,000 a month over the month's days (30 or 31, by the day the demo was built).
    assert float(Decimal(1000) / 31) - 1e-9 <= total <= float(Decimal(1000) / 28) + 1e-9
    assert "Budget pace: model claude-haiku-4-5" in pace  # grouped by model: model budgets
    assert not any("job" in name for name in pace)
    at.radio(key="usage.by").set_value("job").run()
    pace = _pace(at)
    assert {"Budget pace: job contract-summary", "Budget pace: job claim-classification"} <= set(
        pace
    )
    assert not any("claude-haiku" in name for name in pace)


def test_an_uploaded_file_and_one_with_problems() -> None:
    at = _page()
    at.sidebar.radio(key=budget_picker.CHOICE_KEY).set_value(budget_picker.UPLOAD).run()
    at.sidebar.file_uploader(key=budget_picker.UPLOAD_KEY).set_value(
        ("mine.yaml", b"budgets:\n  - {total: true, monthly: 3100}\n", "application/x-yaml")
    ).run()
    assert not at.exception
    (value,) = _pace(at).values()
    assert 100 <= value <= 3100 / 28
    at.sidebar.file_uploader(key=budget_picker.UPLOAD_KEY).set_value(
        (
            "bad.yaml",
            b"budgets:\n  - {total: true, monthly: -1}\n  - {job: a}\n",
            "application/x-yaml",
        )
    ).run()
    assert not at.exception
    errors = [re.sub(r"\\(.)", r"\1", e.value).replace(WORD_JOINER, "") for e in at.error]
    assert len(errors) == 1
    assert "bad.yaml:2: budgets[0].monthly: got -1" in errors[0]
    assert "bad.yaml:3: budgets[1].monthly: missing" in errors[0]
    assert _pace(at) == {}
