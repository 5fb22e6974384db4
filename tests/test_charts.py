"""Figure builders: the traces, titles, axis labels and money formats each chart promises."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.adapters.scenario_files import load_scenario
from costmodel.core.analysis import analyse
from costmodel.core.report import compare_runs, run_scenario
from costmodel.shells import charts

FOLDER = Path(__file__).resolve().parents[1] / "scenarios"
DAY = date(2026, 12, 1)  # pinned: the library never reads the clock


@pytest.fixture(scope="module")
def triage():  # type: ignore[no-untyped-def]
    return analyse(load_scenario(FOLDER / "claims-triage.yaml"), bundled_catalogue(), on=DAY)


@pytest.fixture(scope="module")
def summaries():  # type: ignore[no-untyped-def]
    return analyse(
        load_scenario(FOLDER / "document-summarisation.yaml"), bundled_catalogue(), on=DAY
    )


@pytest.fixture(scope="module")
def in_euros():  # type: ignore[no-untyped-def]
    return analyse(load_scenario(FOLDER / "reference.yaml"), bundled_catalogue(), on=DAY)


def _names(figure: go.Figure) -> list[str]:
    return [trace.name for trace in figure.data]


def _title(figure: go.Figure) -> str:
    return figure.layout.title.text


# -- money formats ------------------------------------------------------------------------------
def test_money_axis_in_dollars_and_other_currencies() -> None:
    assert charts.money_axis("USD", "Cost")["tickformat"] == "$,.2f"
    euro = charts.money_axis("EUR", "Cost")
    assert (euro["tickprefix"], euro["tickformat"], euro["ticksuffix"]) == ("€", ",.2f", "")
    franc = charts.money_axis("CHF", "Cost")
    assert (franc["tickprefix"], franc["ticksuffix"]) == ("", " CHF")
    assert charts.money_hover("USD") == "%{y:$,.2f}"
    assert charts.money_hover("EUR", "x") == "€%{x:,.2f}"


# -- a scenario's charts ------------------------------------------------------------------------
def test_cost_by_workload_is_grouped_bars_sync_against_batch(summaries) -> None:  # type: ignore[no-untyped-def]
    figure = charts.cost_by_workload(summaries.run)
    assert isinstance(figure, go.Figure)
    assert _names(figure) == ["Sync", "Batch plan"]
    assert figure.layout.barmode == "group"
    assert _title(figure) == "Monthly cost by workload"
    assert figure.layout.yaxis.tickformat == "$,.2f"
    assert figure.layout.yaxis.title.text == "Monthly cost (USD)"
    assert list(figure.data[0].y) == [855.0]
    assert list(figure.data[1].y) == [427.5]
    assert "%{y:$,.2f}" in figure.data[0].hovertemplate


def test_cost_by_workload_says_when_prices_are_contracted() -> None:
    from costmodel.core.catalogue import Contract

    catalogue = bundled_catalogue().with_contract(Contract("deal", "test", None, {}))
    run = run_scenario(load_scenario(FOLDER / "claims-triage.yaml"), catalogue, on=DAY)
    assert "contracted" in _title(charts.cost_by_workload(run))


def test_margin_waterfall_both_plans(triage) -> None:  # type: ignore[no-untyped-def]
    figure = charts.margin_waterfall(triage.waterfall, triage.currency)
    assert [trace.type for trace in figure.data] == ["waterfall", "waterfall"]
    assert _names(figure) == ["Sync", "Batch plan"]
    assert list(figure.data[0].x) == ["Revenue", "Other COGS", "Inference", "Gross profit"]
    assert list(figure.data[0].measure) == ["absolute", "relative", "relative", "total"]
    assert figure.layout.waterfallmode == "group"
    assert figure.layout.yaxis.tickformat == "$,.2f"
    assert _title(figure) == "Gross margin: revenue to gross profit"


def test_margin_waterfall_without_business_explains_itself(summaries) -> None:  # type: ignore[no-untyped-def]
    figure = charts.margin_waterfall(summaries.waterfall, summaries.currency)
    assert len(figure.data) == 0
    assert "revenue" in figure.layout.annotations[0].text


def test_volume_chart_has_margin_on_a_second_axis(triage) -> None:  # type: ignore[no-untyped-def]
    figure = charts.volume_chart(triage.volume)
    assert _names(figure) == [
        "Cost, sync",
        "Cost, batch plan",
        "Gross margin, sync",
        "Gross margin, batch plan",
    ]
    assert [trace.yaxis or "y" for trace in figure.data] == ["y", "y", "y2", "y2"]
    assert figure.layout.xaxis.type == "log"
    assert "today" in figure.layout.xaxis.ticktext
    assert figure.layout.yaxis.tickformat == "$,.2f"
    assert figure.layout["yaxis2"].ticksuffix == "%"
    assert figure.layout["yaxis2"].side == "right"
    assert _title(figure) == "Cost against volume and gross margin"


def test_volume_chart_without_business_has_costs_only(summaries) -> None:  # type: ignore[no-untyped-def]
    figure = charts.volume_chart(summaries.volume)
    assert _names(figure) == ["Cost, sync", "Cost, batch plan"]
    assert "yaxis2" not in figure.layout


def test_batch_share_chart(triage) -> None:  # type: ignore[no-untyped-def]
    figure = charts.batch_share_chart(triage.shares, current_share=1.0)
    assert _names(figure) == ["Cost, batch plan", "Savings", "Gross margin, batch plan"]
    assert figure.layout.xaxis.ticksuffix == "%"
    assert list(figure.layout.xaxis.range) == [0, 100]
    assert figure.layout.yaxis.tickformat == "$,.2f"
    assert figure.data[1].y[0] == 0.0
    assert figure.data[1].y[-1] == pytest.approx(206.25)
    assert figure.layout.shapes[0].x0 == 100


def test_tornado_chart_puts_the_largest_swing_on_top(triage) -> None:  # type: ignore[no-untyped-def]
    figure = charts.tornado_chart(triage.tornado)
    assert _names(figure) == ["Input −20%", "Input +20%"]
    assert all(trace.orientation == "h" for trace in figure.data)
    labels = list(figure.data[0].y)
    assert labels[-1] == triage.tornado["input"].iloc[0].replace("_", " ")  # drawn at the top
    assert figure.layout.xaxis.ticksuffix == "%"
    assert "batch-plan gross margin" in _title(figure)
    base = triage.tornado.attrs["base_result"]
    assert figure.data[0].base == base


def test_tornado_chart_in_money_without_business(in_euros, summaries) -> None:  # type: ignore[no-untyped-def]
    figure = charts.tornado_chart(summaries.tornado)
    assert figure.layout.xaxis.tickformat == "$,.2f"
    assert "monthly cost" in _title(figure)


def test_charts_follow_the_scenarios_currency(in_euros) -> None:  # type: ignore[no-untyped-def]
    assert in_euros.currency == "EUR"
    for figure in (
        charts.cost_by_workload(in_euros.run),
        charts.margin_waterfall(in_euros.waterfall, in_euros.currency),
        charts.volume_chart(in_euros.volume),
        charts.batch_share_chart(in_euros.shares),
    ):
        assert figure.layout.yaxis.tickprefix == "€"
        assert "(EUR)" in figure.layout.yaxis.title.text


def test_legends_sit_below_the_plot_where_they_cannot_cover_it(triage) -> None:  # type: ignore[no-untyped-def]
    for figure in (
        charts.cost_by_workload(triage.run),
        charts.volume_chart(triage.volume),
        charts.tornado_chart(triage.tornado),
    ):
        assert figure.layout.legend.orientation == "h"
        assert figure.layout.legend.yref == "container"
        assert figure.layout.legend.yanchor == "bottom"


def test_compare_chart() -> None:
    runs = [
        run_scenario(load_scenario(FOLDER / f"{stem}.yaml"), bundled_catalogue(), on=DAY)
        for stem in ("document-summarisation", "claims-triage")
    ]
    figure = charts.compare_chart(compare_runs(runs).frame(), "USD")
    assert _names(figure) == ["Sync", "Batch plan"]
    assert list(figure.data[0].y) == [855.0, 412.5]
    assert figure.layout.yaxis.tickformat == "$,.2f"


# -- measured usage -----------------------------------------------------------------------------
DAILY = pd.DataFrame(
    {
        "day": pd.to_datetime(["2026-11-01", "2026-11-01", "2026-11-02"]),
        "key": ["claude-haiku-4-5", "claude-sonnet-4-5", "claude-sonnet-4-5"],
        "cost_billed": [1.0, 2.0, 3.0],
        "cost_if_sync": [2.0, 4.0, 6.0],
    }
)
SUMMARY = pd.DataFrame(
    {
        "key": ["claude-haiku-4-5", "claude-sonnet-4-5"],
        "succeeded": [90, 40],
        "errored": [3, 0],
        "canceled": [0, 1],
        "expired": [2, 0],
        "cost_billed": [1.0, 5.0],
        "cost_if_sync": [2.0, 10.0],
        "savings": [1.0, 5.0],
    }
)


def test_actual_cost_by_day_stacks_billed_with_the_sync_line() -> None:
    figure = charts.actual_cost_by_day(DAILY, "USD", by="model")
    assert _names(figure) == [
        "Billed: claude-haiku-4-5",
        "Billed: claude-sonnet-4-5",
        "Had it all been sync",
    ]
    assert figure.layout.barmode == "stack"
    assert list(figure.data[-1].y) == [6.0, 6.0]
    assert figure.layout.yaxis.tickformat == "$,.2f"


def test_actual_cost_by_key() -> None:
    figure = charts.actual_cost_by_key(SUMMARY, "USD", by="job")
    assert _names(figure) == ["If all sync", "Billed"]
    assert figure.layout.xaxis.title.text == "Job"
    assert figure.layout.yaxis.tickformat == "$,.2f"


def test_result_types_show_errors_and_expiries_on_their_own_scale() -> None:
    figure = charts.result_types_chart(SUMMARY)
    assert _names(figure) == ["errored", "expired", "canceled"]
    errored = figure.data[0]
    assert list(errored.x) == ["claude-haiku-4-5", "claude-sonnet-4-5"]
    assert list(errored.y) == [3, 0]
    assert errored.marker.color == charts.RESULT_COLOURS["errored"]
    assert figure.layout.title.text == "Requests not billed, by model"


def test_result_types_say_when_nothing_failed() -> None:
    clean = SUMMARY.assign(errored=0, canceled=0, expired=0)
    figure = charts.result_types_chart(clean, by="job")
    assert "No errored, expired or canceled" in figure.layout.annotations[0].text


def test_empty_usage_charts_say_so() -> None:
    empty = SUMMARY.iloc[0:0]
    for figure in (
        charts.actual_cost_by_day(DAILY.iloc[0:0]),
        charts.actual_cost_by_key(empty),
        charts.result_types_chart(empty),
    ):
        assert "No usage" in figure.layout.annotations[0].text


def test_prediction_vs_actual() -> None:
    figure = charts.prediction_vs_actual(["November"], [100.0], [80.0], "EUR")
    assert _names(figure) == ["Predicted (scenario)", "Measured (store)"]
    assert figure.layout.yaxis.tickprefix == "€"


def test_charts_analysis_and_services_never_import_streamlit() -> None:
    import subprocess
    import sys

    code = (
        "import sys, costmodel.shells.charts, costmodel.core.analysis, costmodel.shells.ui.services; "
        "assert 'streamlit' not in sys.modules, 'streamlit was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- issue 8, items 14 and 19 ---------------------------------------------------------------------
def test_batch_share_chart_marks_the_modelled_plan_and_what_stays_sync() -> None:
    from costmodel.adapters.scenario_files import load_scenario
    from costmodel.core.analysis import batch_share_curve

    s = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "support-platform.yaml")
    figure = charts.batch_share_chart(batch_share_curve(s, bundled_catalogue(), on=DAY))
    assert "live-chat stays sync" in figure.layout.xaxis.title.text
    assert figure.layout.shapes[0].x0 == 100
    assert figure.layout.annotations[0].text == "Modelled plan: saves $155.25"


def test_user_names_are_escaped_in_every_chart() -> None:
    hostile = "<a href='http://127.0.0.1:9/x'>live</a> & <img src=y>"
    frame = pd.DataFrame(
        {
            "key": [hostile],
            "cost_billed": [1.0],
            "cost_if_sync": [2.0],
            "savings": [1.0],
            "errored": [1],
            "expired": [0],
            "canceled": [0],
        }
    )
    daily = pd.DataFrame(
        {"day": ["2026-11-01"], "key": [hostile], "cost_billed": [1.0], "cost_if_sync": [2.0]}
    )
    figures = [
        charts.actual_cost_by_key(frame),
        charts.result_types_chart(frame),
        charts.actual_cost_by_day(daily),
        charts.prediction_vs_actual([hostile], [1.0], [2.0], "USD"),
        charts.compare_chart(
            pd.DataFrame({"Scenario": [hostile], "Sync cost": [1.0], "Batch plan cost": [0.5]}),
            "USD",
        ),
    ]
    for figure in figures:
        shown = figure.to_json()
        assert "<a " not in shown and "<img" not in shown
        assert "&lt;a href=" in shown
