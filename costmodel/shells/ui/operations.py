"""Page: batch operations. Is the batch pipeline healthy, and which deadlines does it meet?

Wiring only: the store chooser (demo data when the user has no store, labelled as such), the
period, and the figures and charts of :func:`costmodel.core.ops.operations_summary` (by day and by
hour of submission) drawn by :mod:`costmodel.shells.charts_ops`. No arithmetic here.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import streamlit as st

from costmodel.adapters.render import render as render_result
from costmodel.adapters.store import open_store
from costmodel.core.ops import SUCCESS_TARGET, OperationsSummary, operations_summary
from costmodel.errors import CostModelError
from costmodel.shells import charts_ops
from costmodel.shells.ui import cache, messages, metrics, services, usage_source

__all__ = ["render", "summaries"]

CHART_CONFIG = {"displaylogo": False}


@st.cache_resource(show_spinner=False, max_entries=32)
def _summaries(
    path: str, stamp: tuple[int, int], since: date, until: date
) -> tuple[OperationsSummary, OperationsSummary]:
    with open_store(path, read_only=True) as store:
        return (
            operations_summary(store, by="day", since=since, until=until),
            operations_summary(store, by="hour", since=since, until=until),
        )


def summaries(path: Path, since: date, until: date) -> tuple[OperationsSummary, OperationsSummary]:
    """Operations by day and by hour of submission for ``since`` to ``until`` (exclusive)."""
    return _summaries(str(path), cache.store_stamp(path), since, until)


def render() -> None:
    st.title("Operations")
    st.caption(
        "Is the batch pipeline healthy? Success rate, turnaround from creation to end, "
        "expiries, errors by type and tokens per request, from the stored batches. "
        "Times are UTC."
    )
    source = usage_source.render()
    try:
        first, last, _ = cache.store_span(source.path)
    except CostModelError as error:
        messages.error(error)
        return
    if first is None or last is None:
        st.info(
            "The store holds no batches yet. Import saved batch results or pull them through "
            "the API with the `costmodel usage` commands (see the README)."
        )
        return
    picked = st.date_input(
        "Period",
        value=(first, last),
        min_value=first,
        max_value=last,
        key=f"ops.period.{source.key}",
    )
    since, until = services.period_bounds(picked, first, last)
    try:
        by_day, by_hour = summaries(source.path, since, until)
    except CostModelError as error:
        messages.error(error)
        return
    demo = " (demo data)" if source.is_demo else ""
    st.caption(f"{by_day.total.batches:,} stored batch(es){demo}, {since} to {until} (exclusive).")
    metrics.render_headlines(
        [
            services.Headline(label, value, help=meaning)
            for label, value, meaning in by_day.headlines()
        ]
    )
    if by_day.total.below_target:
        st.warning(
            f"The success rate is below the {SUCCESS_TARGET:.0%} target for this period: "
            "see the days in red and the errors by type below.",
            icon=":material/warning:",
        )
    days, hours = by_day.frame(), by_hour.frame()
    st.plotly_chart(
        charts_ops.success_rate_chart(days, by="day", target=SUCCESS_TARGET),
        config=CHART_CONFIG,
        key="ops.chart.success",
    )
    st.caption(
        "The shaded bands are what is said of the Batches API (most batches in 1-4 hours in "
        "business hours, 12-24 hours at peak): claims to check against these batches, not data."
    )
    left, right = st.columns(2)
    left.plotly_chart(
        charts_ops.turnaround_chart(days, by="day"), config=CHART_CONFIG, key="ops.chart.day"
    )
    right.plotly_chart(
        charts_ops.turnaround_chart(hours, by="hour"), config=CHART_CONFIG, key="ops.chart.hour"
    )
    left, right = st.columns(2)
    left.plotly_chart(
        charts_ops.expired_share_chart(days, by="day"), config=CHART_CONFIG, key="ops.chart.expired"
    )
    right.plotly_chart(
        charts_ops.errors_chart(by_day.errors), config=CHART_CONFIG, key="ops.chart.errors"
    )
    st.plotly_chart(
        charts_ops.tokens_per_request_chart(days, by="day"),
        config=CHART_CONFIG,
        key="ops.chart.tokens",
    )
    with st.expander("By day and by hour of submission (tables)"):
        for summary in (by_day, by_hour):
            section = summary.sections()[0]
            st.dataframe(services.display_frame(section, "USD"), hide_index=True)
    for note in by_day.notes:
        messages.text(note)
    csv_col, json_col, _ = st.columns([1, 1, 3])
    name = f"operations-by-day{'-demo' if source.is_demo else ''}"
    csv_col.download_button(
        "Operations (CSV)",
        render_result(by_day, "csv"),
        file_name=f"{name}.csv",
        mime="text/csv",
        on_click="ignore",
        key="ops.csv",
    )
    json_col.download_button(
        "Operations (JSON)",
        render_result(by_day, "json"),
        file_name=f"{name}.json",
        mime="application/json",
        on_click="ignore",
        key="ops.json",
    )


if __name__ == "__main__":
    render()
