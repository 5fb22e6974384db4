"""Edit a scenario's assumptions: per workload, and the business around them.

The component owns its widgets' session-state keys, all under ``edit.<scenario key>.``: a new
scenario has new keys, so switching scenarios starts from that file's values and leaves no edit
behind. A field the user has not touched keeps the file's exact value (a share of 0.333 is not
rounded to the slider's 33%).
"""

from __future__ import annotations

import streamlit as st

from costmodel.catalogue import Catalogue
from costmodel.errors import CostModelError
from costmodel.scenario import PERIODS, Business, Scenario, Workload
from costmodel.ui import services

__all__ = ["render", "widget_key"]


def widget_key(scenario_key: str, field: str, index: int | None = None) -> str:
    """The session-state key of one editor widget (tests drive the widgets by it)."""
    where = f"w{index}." if index is not None else "business."
    return f"edit.{scenario_key}.{where}{field}"


def _count_format(value: float) -> str:
    return "%.0f" if float(value).is_integer() else "%.2f"


def _model_options(catalogue: Catalogue, current: str) -> tuple[list[str], str]:
    try:
        resolved = catalogue.resolve(current)
    except CostModelError:
        resolved = current
    models = sorted(catalogue.models)
    if resolved not in models:
        models.insert(0, resolved)
    return models, resolved


def _workload(key: str, index: int, w: Workload, catalogue: Catalogue) -> services.WorkloadEdit:
    def k(field: str) -> str:
        return widget_key(key, field, index)

    volume, period, model, share = st.columns([3, 2, 4, 3])
    count = volume.number_input(
        "Requests",
        min_value=0.0,
        value=float(w.requests.count),
        step=100.0,
        format=_count_format(w.requests.count),
        key=k("count"),
    )
    per = period.selectbox(
        "per",
        PERIODS,
        index=PERIODS.index(w.requests.per),
        key=k("per"),
        help="A week is 52/12 of a month; a day counts the scenario's days per month.",
    )
    models, resolved = _model_options(catalogue, w.model)
    chosen = model.selectbox("Model", models, index=models.index(resolved), key=k("model"))
    shown_share = round(w.batch_share * 100)
    share_pct = share.slider(
        "Batch share",
        min_value=0,
        max_value=100,
        value=shown_share,
        step=1,
        format="%d%%",
        key=k("batch_share"),
        help="The share of this workload the batch plan sends through "
        "the Message Batches API (0 keeps it synchronous in both plans).",
    )
    tokens = st.columns(4)
    values = {}
    for column, field, title in zip(
        tokens,
        ("input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens"),
        (
            "Input tokens (uncached)",
            "Output tokens",
            "Cache-write tokens (5 min)",
            "Cache-read tokens",
        ),
        strict=True,
    ):
        current = float(getattr(w, field))
        values[field] = column.number_input(
            f"{title} per request",
            min_value=0.0,
            value=current,
            step=100.0,
            format=_count_format(current),
            key=k(field),
        )
    return services.WorkloadEdit(
        count=count,
        per=per,
        model=None if chosen == resolved else chosen,
        batch_share=None if share_pct == shown_share else share_pct / 100,
        **values,
    )


def _business(
    key: str, business: Business | None, currency: str = "USD"
) -> dict[str, float | None]:
    def k(field: str) -> str:
        return widget_key(key, field)

    if business is None:
        st.caption(
            "This scenario has no business block: enter a monthly revenue to see gross margin."
        )
    revenue, cogs, customers = st.columns(3)
    return {
        "revenue": revenue.number_input(
            f"Revenue per month ({currency})",
            min_value=0.0,
            value=float(business.revenue) if business else 0.0,
            step=1000.0,
            format="%.2f",
            key=k("revenue"),
            help="0 means no business block (no gross margin).",
        ),
        "other_cogs": cogs.number_input(
            f"Other COGS per month ({currency})",
            min_value=0.0,
            value=float(business.other_cogs) if business else 0.0,
            step=1000.0,
            format="%.2f",
            key=k("other_cogs"),
            help="Costs of goods sold other than Claude inference: hosting, data, support.",
        ),
        "customers": customers.number_input(
            "Customers",
            min_value=0.0,
            value=float(business.customers or 0) if business else 0.0,
            step=1.0,
            format="%.0f",
            key=k("customers"),
            help="0 means not known.",
        ),
    }


def render(key: str, scenario: Scenario, catalogue: Catalogue) -> Scenario:
    """The editor in an expander, one tab per workload and one for the business."""
    with st.expander("Adjust the assumptions", expanded=False, icon=":material/tune:"):
        tabs = st.tabs([f"Workload: {w.name}" for w in scenario.workloads] + ["Business"])
        edits = []
        for index, (tab, w) in enumerate(zip(tabs, scenario.workloads, strict=False)):
            with tab:
                edits.append(_workload(key, index, w, catalogue))
        with tabs[-1]:
            # The business block is in the scenario's own currency (USD when it names none).
            code = scenario.currency.code if scenario.currency else "USD"
            business = _business(key, scenario.business, code)
    return services.edited_scenario(scenario, edits, business)
