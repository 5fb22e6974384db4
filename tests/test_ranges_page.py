"""The ranges page through AppTest, and its figure builders (costmodel/shells/charts_ranges.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from shared_demo import copy_demo_store
from streamlit.testing.v1 import AppTest

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.adapters.scenario_files import load_scenario, parse_scenario
from costmodel.core.forecast import forecast_scenario
from costmodel.core.simulate import parameter_tornado, simulate_scenario
from costmodel.shells.charts_ranges import distribution_chart, fan_chart
from costmodel.shells.ui.ranges import widget_key
from tests.acme_prices import acme_catalogue

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGE = "costmodel/shells/ui/ranges.py"
KEY = "bundled:claims-triage"
CATALOGUE = bundled_catalogue()
ON = date(2026, 11, 24)


@pytest.fixture(autouse=True, scope="module")
def _stores(tmp_path_factory: pytest.TempPathFactory, demo_store: Path) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("stores")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COSTMODEL_STORE", str(folder / "no-user-store.duckdb"))
        patch.setenv(
            "COSTMODEL_DEMO_STORE", str(copy_demo_store(demo_store, folder / "demo-usage.duckdb"))
        )
        yield folder


def _page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_a_certain_scenario_shows_its_point_figures_as_every_quantile() -> None:
    at = _page()
    assert at.title[0].value == "Ranges and forecast"
    metrics = _metrics(at)
    assert metrics["Savings, P50 (USD)"] == "$206.25"
    assert metrics["Batch plan, P50 (USD)"] == "$206.25"
    assert metrics["Margin, batch plan, P50"] == "89.79%"
    assert any("P10 $206.25 to P90 $206.25" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 3  # nothing to vary: no tornado, a note instead
    assert any("No distribution to vary" in i.value for i in at.info)
    assert not at.error


def test_a_spread_in_tokens_gives_a_range_and_an_edit_recomputes() -> None:
    at = _page()
    at.number_input(key=widget_key(KEY, 0, "input_tokens.p95")).set_value(6000.0).run()
    assert not at.exception and not at.error
    captions = " ".join(c.value for c in at.caption)
    assert "A draw is one month" in captions
    assert len(at.get("plotly_chart")) == 4  # the tornado over the distribution's parameters
    savings = next(c.value for c in at.caption if c.value.startswith("P10 $"))  # first column
    low, high = savings.removeprefix("P10 ").split(" to P90 ")
    assert low != high


def test_a_p95_below_the_mean_is_explained_in_the_page() -> None:
    at = _page()
    at.number_input(key=widget_key(KEY, 0, "input_tokens.p95")).set_value(1000.0).run()
    assert not at.exception
    message = at.error[0].value
    assert "workloads[0].input_tokens.p95: got 1000, below the mean 2000" in message


def test_growth_and_misses_change_the_forecast_and_the_month() -> None:
    at = _page()
    at.number_input(key=widget_key(KEY, 0, "growth")).set_value(10.0).run()
    table = at.dataframe[0].value
    assert table["Requests"].iloc[-1] == pytest.approx(50_000 * 1.1**11)
    at.number_input(key=widget_key(KEY, 0, "miss")).set_value(20.0).run()
    assert not at.error
    # 20% of the batch run at sync rates: 0.8 * 206.25 + 0.2 * 412.50 = 247.50
    assert _metrics(at)["Batch plan, P50 (USD)"] == "$247.50"


def test_a_scenario_drawing_from_a_missing_store_says_so(tmp_path: Path) -> None:
    at = _page()
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: Store drawn\nworkloads:\n  - {name: claims, model: claude-haiku-4-5, "
        "requests: 100, input_tokens: {from_store: {job: claims}}, output_tokens: 10}\n"
    )
    at.file_uploader(key="picker.file").set_value(
        (path.name, path.read_bytes(), "application/x-yaml")
    ).run()
    assert not at.exception
    assert any("no usage store yet" in e.value for e in at.error)


# -- the figure builders ------------------------------------------------------------------------
def test_fan_chart_shades_bands_and_marks_changes_and_retirements(tmp_path: Path) -> None:
    catalogue = acme_catalogue(tmp_path)
    s = parse_scenario(
        "name: s\nworkloads:\n  - {name: w, model: acme-model, requests: 1000, "
        "input_tokens: {mean: 1000, p95: 3000}, output_tokens: 10}\n",
        catalogue=catalogue,
    )
    forecast = forecast_scenario(
        s, catalogue, months=6, first_month=date(2026, 12, 1), draws=500, seed=1
    )
    figure = fan_chart(forecast)
    names = [trace.name for trace in figure.data]
    assert "Sync, P10 to P90" in names and "Batch plan, P50" in names
    assert "Batch plan, point" in names
    texts = [a.text for a in figure.layout.annotations]
    assert "acme-model: new prices 2027-01-16" in texts
    assert "acme-model retires 2027-03-10" in texts
    point_only = fan_chart(forecast_scenario(s, catalogue, months=2, first_month=date(2026, 12, 1)))
    assert [t.name for t in point_only.data] == ["Sync", "Batch plan"]


def test_distribution_chart_marks_the_quantiles() -> None:
    s = parse_scenario(
        "name: s\nbusiness: {revenue: 5000}\nworkloads:\n  - {name: w, model: claude-haiku-4-5, "
        "requests: 300, input_tokens: {mean: 2000, p95: 6000}, output_tokens: 100}\n"
    )
    simulation = simulate_scenario(s, CATALOGUE, draws=2000, seed=1, on=ON)
    figure = distribution_chart(simulation, "savings")
    assert figure.data[0].type == "histogram" and len(figure.data[0].x) == 2000
    xs = [shape.x0 for shape in figure.layout.shapes]
    q = simulation.figures["savings"]
    assert xs == [q["p10"], q["p50"], q["p90"]]
    margin = distribution_chart(simulation, "gross_margin_batch_pct")
    assert margin.layout.xaxis.ticksuffix == "%"
    certain = simulate_scenario(
        load_scenario(ROOT / "scenarios" / "claims-triage.yaml"),
        CATALOGUE,
        draws=100,
        seed=1,
        on=ON,
    )
    assert distribution_chart(certain, "savings").data[0].type == "bar"


def test_parameter_tornado_ranks_the_parameter_that_matters() -> None:
    s = parse_scenario(
        "name: s\nbusiness: {revenue: 50000}\nworkloads:\n"
        "  - {name: big, model: claude-sonnet-4-6, requests: 20000, "
        "input_tokens: {mean: 40000, p95: 120000}, output_tokens: 500, deadline_hours: 24, "
        "miss_share: 0.1}\n"
        "  - {name: small, model: claude-haiku-4-5, requests: 100, "
        "input_tokens: {mean: 500, p95: 1500}, output_tokens: 50}\n"
    )
    frame = parameter_tornado(s, CATALOGUE, on=ON, draws=500, seed=3)
    assert frame["input"].iloc[0] == "big: input tokens, level"
    assert set(frame["input"]) >= {"big: deadline miss share", "small: input tokens, spread"}
    assert frame["swing"].is_monotonic_decreasing
    assert frame.attrs["unit"] == "percent"
    # More tokens cost more: the higher level lowers the margin.
    top = frame.iloc[0]
    assert top["high_result"] < frame.attrs["base_result"] < top["low_result"]
