"""Page: the scenario explorer. Pick or upload a scenario, adjust it, read what batch does.

Wiring only: the picker, the editor, the cached analysis, the metric cards, the charts and the
downloads. Library errors (an unpriced model after an edit, say) are shown in the page.
"""

from __future__ import annotations

import streamlit as st

from costmodel.errors import CostModelError
from costmodel.ui import (
    cache,
    exports,
    metrics,
    price_override,
    scenario_editor,
    scenario_picker,
    services,
)

__all__ = ["render"]

CHART_CONFIG = {"displaylogo": False}


def _provenance(notes: tuple[str, ...], edited: bool, contract_label: str | None) -> None:
    """What the figures rest on: the file (an assumption, not a measurement) and the prices."""
    text = " ".join(notes)
    if edited:
        text += " Edited in this page: the figures include your changes."
    st.caption(services.plain_text(text))
    if contract_label:
        st.info(contract_label, icon=":material/sell:")


def render() -> None:
    st.title("Scenario explorer")
    st.caption(
        "What your Claude inference costs synchronously and on a batch plan, and what "
        "moving work to the Message Batches API does to gross margin."
    )
    choice = scenario_picker.render()
    scenario = choice.scenario
    if scenario.description:
        st.caption(services.plain_text(scenario.description))
    catalogue = cache.catalogue(scenario, *price_override.current())
    headline = st.container()
    edited = scenario_editor.render(choice.key, scenario, catalogue)
    try:
        explored = cache.explore(edited, catalogue)
    except CostModelError as error:
        headline.error(f"These assumptions cannot be priced: {error}")
        return
    run = explored.run
    with headline:
        st.caption(f"Monthly figures in {run.currency} unless marked annual.")
        metrics.render(run)
        _provenance(run.notes, edited != scenario, price_override.label())

    figures = explored.figures
    left, right = st.columns(2)
    left.plotly_chart(figures["workloads"], config=CHART_CONFIG, key="chart.workloads")
    right.plotly_chart(figures["waterfall"], config=CHART_CONFIG, key="chart.waterfall")
    left, right = st.columns(2)
    left.plotly_chart(figures["volume"], config=CHART_CONFIG, key="chart.volume")
    right.plotly_chart(figures["shares"], config=CHART_CONFIG, key="chart.shares")
    st.plotly_chart(figures["tornado"], config=CHART_CONFIG, key="chart.tornado")
    exports.render(edited, run, choice.key)


if __name__ == "__main__":
    render()
