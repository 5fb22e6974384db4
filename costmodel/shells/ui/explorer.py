"""Page: the scenario explorer. Pick or upload a scenario, adjust it, read what batch does.

Wiring only: the picker, the editor, the cached analysis, the metric cards, the charts and the
downloads. Library errors (an unpriced model after an edit, say) are shown in the page.
"""

from __future__ import annotations

import streamlit as st

from costmodel.errors import CostModelError
from costmodel.shells.ui import (
    cache,
    exports,
    messages,
    metrics,
    price_override,
    scenario_editor,
    scenario_picker,
    services,
    share,
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
        messages.text(scenario.description)
    catalogue = cache.catalogue(scenario, *price_override.current())
    headline = st.container()
    try:
        edited = scenario_editor.render(choice.key, scenario, catalogue)
    except CostModelError as error:
        messages.error(error, prefix="This edit was not applied: ", where=headline)
        edited = scenario_editor.current(choice.key, scenario)
    params = share.publish(choice, edited)
    try:
        explored = cache.explore(edited, catalogue)
    except CostModelError as error:
        messages.error(error, prefix="These assumptions cannot be priced: ", where=headline)
        return
    run = explored.run
    with headline:
        st.caption(f"Monthly figures in {run.currency} unless marked annual.")
        metrics.render(run)
        _provenance(run.notes, edited is not scenario, price_override.label())

    figures = explored.figures
    left, right = st.columns(2)
    left.plotly_chart(figures["workloads"], config=CHART_CONFIG, key="chart.workloads")
    right.plotly_chart(figures["waterfall"], config=CHART_CONFIG, key="chart.waterfall")
    left, right = st.columns(2)
    left.plotly_chart(figures["volume"], config=CHART_CONFIG, key="chart.volume")
    right.plotly_chart(figures["shares"], config=CHART_CONFIG, key="chart.shares")
    st.plotly_chart(figures["tornado"], config=CHART_CONFIG, key="chart.tornado")
    exports.render(edited, run, choice.key)
    _share(share.link(params))


def _share(address: str | None) -> None:
    st.subheader("Share")
    if address is None:
        st.caption(
            "This scenario is too large for a link: share its YAML export (Scenario, above), "
            "which the explorer's upload reads back."
        )
        return
    st.caption(
        "The page address holds the scenario shown and your edits: this link opens the same "
        "figures in another browser on this computer."
    )
    st.code(address, language=None, wrap_lines=True)


if __name__ == "__main__":
    render()
