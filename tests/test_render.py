"""Renderers and money formatting: the same result as table, JSON, CSV and markdown."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.adapters.render import FORMATS, format_count, render
from costmodel.adapters.scenario_files import load_scenario
from costmodel.core.money import format_money, format_percent, format_points, round_cents
from costmodel.core.report import run_scenario

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        (1234.5, "USD", "$1,234.50"),
        (-12, "EUR", "-€12.00"),
        (0.125, "USD", "$0.13"),  # half away from zero, as a finance reader expects
        (2.675, "GBP", "£2.68"),  # 2.675 is 2.67499... in binary; still rounds up
        (1234.5, "CHF", "1,234.50 CHF"),
        (-0.001, "USD", "$0.00"),  # no "-$0.00"
    ],
)
def test_format_money(value: float, currency: str, text: str) -> None:
    assert format_money(value, currency) == text


def test_round_cents_and_other_formats() -> None:
    assert round_cents(0.005) == 0.01 and round_cents(None) is None
    assert format_percent(89.594) == "89.6%" and format_points(0.2063) == "+0.21 pp"
    assert format_count(432_000_000) == "432.0M" and format_count(999_999) == "999,999"
    assert format_count(1.5) == "1.50"


@pytest.fixture(scope="module")
def run():  # type: ignore[no-untyped-def]
    return run_scenario(
        load_scenario(ROOT / "scenarios" / "document-summarisation.yaml"),
        bundled_catalogue(),
        on=date(2026, 11, 24),
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_the_golden_figures(run, fmt: str) -> None:  # type: ignore[no-untyped-def]
    text = render(run, fmt, width=200)
    if fmt == "json":
        assert json.loads(text)["totals"]["cost_sync"] == 855.0
    elif fmt == "csv":
        assert "855.0" in text and "427.5" in text
    else:
        assert "$855.00" in text and "$427.50" in text


def test_markdown_escapes_pipes_and_bolds_the_total(run) -> None:  # type: ignore[no-untyped-def]
    text = render(run, "markdown")
    assert text.splitlines()[0].startswith("### ")
    assert "| **Total** |" in text


def test_unknown_format_is_refused(run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="unknown format"):
        render(run, "xml")
