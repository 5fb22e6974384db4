"""Page: several scenarios side by side, as a table and a chart, one per currency."""

from __future__ import annotations

import streamlit as st

from costmodel.adapters.render import render as render_result
from costmodel.errors import CostModelError
from costmodel.shells import charts
from costmodel.shells.ui import cache, messages, price_override, scenario_picker, services

__all__ = ["CHOSEN_KEY", "render"]

CHOSEN_KEY = "compare.chosen"
DEFAULT_COUNT = 4  # the four worked examples
# Shorter headers than the CLI's, so every column fits a laptop-width page.
SHORT_HEADERS = {
    "Requests/month": "Requests",
    "Sync cost": "Sync",
    "Batch plan cost": "Batch plan",
    "Gross margin sync": "Margin, sync",
    "Gross margin batch": "Margin, batch",
    "Change (pp)": "Change",
}


def render() -> None:
    st.title("Compare scenarios")
    st.caption(
        "Bundled scenarios, any you uploaded in the explorer this session, and every scenario "
        "you edited there (marked edited), at the prices set in the sidebar. Scenarios in "
        "different currencies are compared in separate tables."
    )
    offered = scenario_picker.options(edited=True)
    # The worked examples, and every scenario edited this session beside its file.
    default = list(offered)[:DEFAULT_COUNT] + [
        label for label in offered if label.endswith(scenario_picker.EDITED_SUFFIX)
    ]
    chosen = st.multiselect(
        "Scenarios", list(offered), default=list(dict.fromkeys(default)), key=CHOSEN_KEY
    )
    if not chosen:
        st.info("Pick one or more scenarios to compare.")
        return
    label = price_override.label()
    if label:
        st.info(label, icon=":material/sell:")
    percent, model = price_override.current()
    try:
        runs = [
            cache.run(
                offered[name].scenario, cache.catalogue(offered[name].scenario, percent, model)
            )
            for name in chosen
        ]
        comparisons = services.compare_by_currency(runs)
    except CostModelError as error:
        messages.error(error)
        return
    for index, comparison in enumerate(comparisons):
        section = comparison.sections()[0]
        currency = comparison.runs[0].currency
        st.subheader(section.title)
        shown = services.display_frame(section, currency)
        # The files go in a caption, so the figures fit a laptop-width page without scrolling.
        st.dataframe(
            shown.drop(columns=["File"]).rename(columns=SHORT_HEADERS),
            hide_index=True,
            column_config={
                "Scenario": st.column_config.TextColumn(width="medium"),
                "Requests": st.column_config.TextColumn(width="small"),
            },
        )
        messages.text("Assumptions from " + ", ".join(shown["File"]) + ".")
        st.plotly_chart(
            charts.compare_chart(comparison.frame(), currency),
            config={"displaylogo": False},
            key=f"compare.chart.{currency}",
        )
        csv_col, json_col, _ = st.columns([1, 1, 3])
        csv_col.download_button(
            "Comparison (CSV)",
            render_result(comparison, "csv"),
            file_name=f"comparison-{currency.lower()}.csv",
            mime="text/csv",
            on_click="ignore",
            key=f"compare.csv.{index}",
        )
        json_col.download_button(
            "Comparison (JSON)",
            render_result(comparison, "json"),
            file_name=f"comparison-{currency.lower()}.json",
            mime="application/json",
            on_click="ignore",
            key=f"compare.json.{index}",
        )


if __name__ == "__main__":
    render()
