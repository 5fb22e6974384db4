"""Page: what the stored batches actually cost, against sync, with a scenario's prediction.

Wiring only: the store chooser (demo data when the user has no store, labelled as such), the
period and grouping, the measured figures and charts from :mod:`costmodel.core.measured`, and a
scenario's batch plan beside them. Store errors (a store another process is writing, say) are
shown in the page.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from costmodel.adapters.render import render as render_result
from costmodel.errors import CostModelError
from costmodel.shells import charts
from costmodel.shells.ui import (
    budget_picker,
    cache,
    messages,
    metrics,
    price_override,
    scenario_picker,
    services,
    usage_source,
)

__all__ = ["BY_KEY", "SCENARIO_KEY", "render"]

BY_KEY = "usage.by"
SCENARIO_KEY = "usage.scenario"
CHART_CONFIG = {"displaylogo": False}
# The figures a reader compares, narrow enough for a laptop; token counts sit in an expander.
USAGE_COLUMNS = (
    "Succeeded",
    "Errored",
    "Canceled",
    "Expired",
    "Billed (batch)",
    "If sync",
    "Savings",
)
TOKEN_COLUMNS = ("Input tokens", "Output tokens", "Cache writes", "Cache reads")
PREDICTION_HEADERS = {
    "Requests modelled": "Req. modelled",
    "Requests measured": "Req. measured",
    "Modelled (batch plan)": "Modelled",
    "Measured (billed)": "Measured",
    "Difference %": "Diff. %",
}


def _pace(by: str, summary: object) -> list[tuple[str, float]]:
    """The chosen budgets' pace for the month of the period's last day (sidebar choice)."""
    from costmodel.adapters.catalogue_files import bundled_catalogue
    from costmodel.core.budgets import pace_lines

    budgets = budget_picker.chosen()
    last = getattr(summary, "last_day", None)
    if not budgets or last is None:
        return []
    catalogue = bundled_catalogue()

    def resolve(name: str) -> str:
        return catalogue.resolve(name) if catalogue.knows(name) else name

    lines = pace_lines(budgets, by, last, resolve)
    st.caption(
        f"Budget pace for {last:%Y-%m}: each budget's monthly amount over the month's days "
        "(dashed). `costmodel budget check` gives month to date and the projection."
    )
    return [(label, float(per_day)) for label, per_day in lines]


def _prediction(source: usage_source.UsageSource, since: date, until: date) -> None:
    st.subheader("The scenario's prediction beside the actuals")
    st.caption(
        "The scenario's batch plan scaled to the same days, workload by workload, beside what "
        "the store measured for the job of the same name."
    )
    offered = scenario_picker.options(edited=True)
    labels = list(offered)
    percent, model = price_override.current()
    jobs, _ = cache.usage(source.path, "job", since, until, percent, model)
    default = services.best_match(offered, jobs.rows["key"].astype(str).tolist())
    chosen = st.selectbox(
        "Scenario",
        labels,
        index=labels.index(default) if default in labels else 0,
        key=f"{SCENARIO_KEY}.{source.key}",
    )
    try:
        comparison = cache.actual_comparison(
            source.path, offered[chosen].scenario, since, until, percent, model
        )
    except CostModelError as error:
        messages.error(error)
        return
    lines = comparison.lines
    currency = comparison.run.currency
    st.plotly_chart(
        charts.prediction_vs_actual(
            lines["workload"].tolist(),
            lines["cost_modelled"].tolist(),
            lines["cost_actual"].tolist(),
            currency,
        ),
        config=CHART_CONFIG,
        key="usage.chart.prediction",
    )
    section = comparison.sections()[-1]
    shown = services.display_frame(section, currency).rename(columns=PREDICTION_HEADERS)
    st.dataframe(shown, hide_index=True)
    for note in comparison.notes:
        st.caption(services.plain_text(note))


def render() -> None:
    st.title("Actual usage")
    source = usage_source.render()
    try:
        first, last, _ = cache.store_span(source.path)
    except CostModelError as error:
        messages.error(error)
        return
    if first is None or last is None:
        st.info(
            "The store holds no usage yet. Import saved batch results or pull them through the "
            "API with the `costmodel usage` commands (see the README)."
        )
        return
    by_col, period_col = st.columns([1, 2])
    by = by_col.radio("Group by", ["model", "job"], key=BY_KEY, horizontal=True)
    picked = period_col.date_input(
        "Period",
        value=(first, last),
        min_value=first,
        max_value=last,
        key=f"usage.period.{source.key}",
    )
    since, until = services.period_bounds(picked, first, last)
    percent, model = price_override.current()
    try:
        summary, daily = cache.usage(source.path, by, since, until, percent, model)
    except CostModelError as error:
        messages.error(error)
        return
    label = price_override.label()
    if label:
        st.info(label, icon=":material/sell:")

    demo = " (demo data)" if source.is_demo else ""
    st.caption(
        f"Measured from {summary.batches:,} stored batch(es){demo}, usage from "
        f"{summary.first_day} to {summary.last_day}."
    )
    metrics.render_headlines(services.usage_headlines(summary))
    st.plotly_chart(
        charts.actual_cost_by_day(daily, summary.currency, by=by, budgets=_pace(by, summary)),
        config=CHART_CONFIG,
        key="usage.chart.day",
    )
    left, right = st.columns(2)
    left.plotly_chart(
        charts.actual_cost_by_key(summary.rows, summary.currency, by=by),
        config=CHART_CONFIG,
        key="usage.chart.key",
    )
    right.plotly_chart(
        charts.result_types_chart(summary.rows, by=by),
        config=CHART_CONFIG,
        key="usage.chart.results",
    )
    section = summary.sections()[0]
    table = services.display_frame(section, summary.currency)
    key_column = table.columns[0]
    st.dataframe(table[[key_column, *USAGE_COLUMNS]], hide_index=True)
    with st.expander("Token counts"):
        st.dataframe(table[[key_column, *TOKEN_COLUMNS]], hide_index=True)
    for note in summary.notes:
        st.caption(services.plain_text(note))
    csv_col, json_col, _ = st.columns([1, 1, 3])
    name = f"usage-by-{by}{'-demo' if source.is_demo else ''}"
    csv_col.download_button(
        "Usage (CSV)",
        render_result(summary, "csv"),
        file_name=f"{name}.csv",
        mime="text/csv",
        on_click="ignore",
        key="usage.csv",
    )
    json_col.download_button(
        "Usage (JSON)",
        render_result(summary, "json"),
        file_name=f"{name}.json",
        mime="application/json",
        on_click="ignore",
        key="usage.json",
    )
    _prediction(source, since, until)


if __name__ == "__main__":
    render()
