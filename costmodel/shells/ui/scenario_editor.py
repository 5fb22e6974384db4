"""Edit a scenario's assumptions: per workload, the business around them, and the month.

The component owns two kinds of session state:

- ``editor.scenarios``: the edited scenario of every source the user has changed, by the
  source's key, for the whole session. Streamlit forgets a widget's value as soon as a page
  without it runs, so this, not the widgets, is what survives a visit to another page; the
  compare page offers these edited scenarios too.
- its widgets' keys, all under ``edit.<scenario key>.``, seeded from the edited scenario
  whenever Streamlit has forgotten them.

A field the user has not touched keeps its exact value (a share of 0.333 is not rounded to the
slider's 33%). Every user-supplied string (workload names) is shown as plain text.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from costmodel.core.catalogue import Catalogue
from costmodel.core.scenario import INFERENCE_GEOS, PERIODS, Business, Scenario, Workload
from costmodel.errors import CostModelError
from costmodel.shells.ui import services

__all__ = [
    "EDITS_KEY",
    "current",
    "edited_scenarios",
    "forget",
    "remember",
    "render",
    "selected_key",
    "widget_key",
]

EDITS_KEY = "editor.scenarios"  # scenario key -> edited Scenario, for the session
TOKEN_FIELDS = (
    ("input_tokens", "Input tokens (uncached)"),
    ("output_tokens", "Output tokens"),
    ("cache_write_tokens", "Cache writes, 5 min"),
    ("cache_write_1h_tokens", "Cache writes, 1 hour"),
    ("cache_read_tokens", "Cache reads"),
    ("web_search_requests", "Web searches"),
)


def widget_key(scenario_key: str, field: str, index: int | None = None) -> str:
    """The session-state key of one editor widget (tests drive the widgets by it)."""
    where = f"w{index}." if index is not None else "business."
    return f"edit.{scenario_key}.{where}{field}"


def selected_key(scenario_key: str) -> str:
    """The key of the chooser of which workload the editor shows."""
    return f"edit.{scenario_key}.selected"


def days_key(scenario_key: str) -> str:
    return f"edit.{scenario_key}.scenario.days_per_month"


# -- the edited scenarios, kept for the session ------------------------------------------------
def edited_scenarios() -> dict[str, Scenario]:
    """Every edited scenario of this session by its source's key (none before the first edit)."""
    edits: dict[str, Scenario] = st.session_state.setdefault(EDITS_KEY, {})
    return edits


def current(key: str, original: Scenario) -> Scenario:
    """The scenario as the user last left it: the edited one, or ``original``."""
    return edited_scenarios().get(key, original)


def remember(key: str, original: Scenario, edited: Scenario) -> Scenario:
    """Keep ``edited`` for the session (labelled as edited); forget it if it equals the file."""
    result = services.marked_edited(original, edited)
    if result is original:
        edited_scenarios().pop(key, None)
    else:
        edited_scenarios()[key] = result
    return result


def _forget_widgets(key: str) -> None:
    prefix = f"edit.{key}."
    for name in [k for k in st.session_state if str(k).startswith(prefix)]:
        del st.session_state[name]


def forget(key: str) -> None:
    """Drop the edits to one scenario: its widgets start again from the file's values."""
    edited_scenarios().pop(key, None)
    _forget_widgets(key)


def _add(key: str, original: Scenario, like: int) -> None:
    added = services.with_workload_added(current(key, original), like)
    remember(key, original, added)
    _forget_widgets(key)  # widgets are by position: seed them again from the new scenario
    st.session_state[selected_key(key)] = len(added.workloads) - 1


def _remove(key: str, original: Scenario, index: int) -> None:
    remember(key, original, services.with_workload_removed(current(key, original), index))
    _forget_widgets(key)
    st.session_state[selected_key(key)] = max(0, index - 1)


# -- widgets -----------------------------------------------------------------------------------
def _seed(key: str, value: Any) -> str:
    """Give a widget its value from the scenario when Streamlit holds none (first view, or back
    from another page); returns the key for the widget call."""
    if key not in st.session_state:
        st.session_state[key] = value
    return key


def _count_format(value: float) -> str:
    return "%.0f" if float(value).is_integer() else "%.2f"


def _model_options(catalogue: Catalogue, model: str) -> tuple[list[str], str]:
    try:
        resolved = catalogue.resolve(model)
    except CostModelError:
        resolved = model
    models = sorted(catalogue.models)
    if resolved not in models:
        models.insert(0, resolved)
    return models, resolved


def _workload(key: str, index: int, w: Workload, catalogue: Catalogue) -> services.WorkloadEdit:
    def k(field: str, value: Any) -> str:
        return _seed(widget_key(key, field, index), value)

    name = st.text_input("Name", key=k("name", w.name), max_chars=200)
    volume, period, model, share = st.columns([3, 2, 4, 3])
    count = volume.number_input(
        "Requests",
        min_value=0.0,
        step=100.0,
        format=_count_format(w.requests.count),
        key=k("count", float(w.requests.count)),
    )
    per = period.selectbox(
        "per",
        PERIODS,
        key=k("per", w.requests.per),
        help="A week is 52/12 of a month; a day counts the scenario's days per month.",
    )
    models, resolved = _model_options(catalogue, w.model)
    chosen = model.selectbox("Model", models, key=k("model", resolved))
    shown_share = round(w.batch_share * 100)
    share_pct = share.slider(
        "Batch share",
        min_value=0,
        max_value=100,
        step=1,
        format="%d%%",
        key=k("batch_share", shown_share),
        help="The share of this workload the batch plan sends through "
        "the Message Batches API (0 keeps it synchronous in both plans).",
    )
    values: dict[str, float] = {}
    for row in (TOKEN_FIELDS[:3], TOKEN_FIELDS[3:]):
        for column, (field, title) in zip(st.columns(3), row, strict=True):
            value = float(getattr(w, field))
            values[field] = column.number_input(
                f"{title} per request",
                min_value=0.0,
                step=1.0 if field == "web_search_requests" else 100.0,
                format=_count_format(value),
                key=k(field, value),
            )
    geo = st.selectbox(
        "Inference region",
        INFERENCE_GEOS,
        key=k("inference_geo", w.inference_geo),
        help="global, or us for US-only inference (a surcharge on the models that offer it).",
    )
    return services.WorkloadEdit(
        name=name,
        count=count,
        per=per,
        model=None if chosen == resolved else chosen,
        batch_share=None if share_pct == shown_share else share_pct / 100,
        inference_geo=geo,
        **values,
    )


def _workloads(
    key: str, original: Scenario, scenario: Scenario, catalogue: Catalogue
) -> list[services.WorkloadEdit]:
    n = len(scenario.workloads)
    if st.session_state.get(selected_key(key), 0) >= n:
        st.session_state[selected_key(key)] = 0
    pick, add, remove = st.columns([6, 2, 2], vertical_alignment="bottom")
    index = pick.selectbox(
        "Workload",
        range(n),
        format_func=lambda i: scenario.workloads[i].name,
        key=_seed(selected_key(key), 0),
    )
    add.button(
        "Add a workload",
        key=f"edit.{key}.add",
        on_click=_add,
        args=(key, original, index),
        disabled=n >= services.MAX_WORKLOADS,
        help="A copy of the workload shown, under a new name, to adjust.",
        icon=":material/add:",
        width="stretch",
    )
    remove.button(
        "Remove it",
        key=f"edit.{key}.remove",
        on_click=_remove,
        args=(key, original, index),
        disabled=n <= 1,
        help="Remove the workload shown (a scenario keeps at least one).",
        icon=":material/delete:",
        width="stretch",
    )
    edits = [services.WorkloadEdit()] * n
    edits[index] = _workload(key, index, scenario.workloads[index], catalogue)
    return edits


def _business(
    key: str, business: Business | None, currency: str = "USD"
) -> dict[str, float | None]:
    def k(field: str, value: float) -> str:
        return _seed(widget_key(key, field), value)

    if business is None:
        st.caption(
            "This scenario has no business block: enter a monthly revenue to see gross margin."
        )
    revenue, cogs, customers = st.columns(3)
    return {
        "revenue": revenue.number_input(
            f"Revenue per month ({currency})",
            min_value=0.0,
            step=1000.0,
            format="%.2f",
            key=k("revenue", float(business.revenue) if business else 0.0),
            help="0 means no business block (no gross margin).",
        ),
        "other_cogs": cogs.number_input(
            f"Other COGS per month ({currency})",
            min_value=0.0,
            step=1000.0,
            format="%.2f",
            key=k("other_cogs", float(business.other_cogs) if business else 0.0),
            help="Costs of goods sold other than Claude inference: hosting, data, support.",
        ),
        "customers": customers.number_input(
            "Customers",
            min_value=0.0,
            step=1.0,
            format="%.0f",
            key=k("customers", float(business.customers or 0) if business else 0.0),
            help="0 means not known.",
        ),
    }


def _month(key: str, scenario: Scenario) -> float:
    return float(
        st.number_input(
            "Days per month",
            min_value=1.0,
            max_value=31.0,
            step=1.0,
            format=_count_format(scenario.days_per_month),
            key=_seed(days_key(key), float(scenario.days_per_month)),
            help="How a volume per day becomes a monthly one (30 unless the file says).",
        )
    )


def render(key: str, original: Scenario, catalogue: Catalogue) -> Scenario:
    """The editor in an expander; returns the scenario as edited (``original`` if unchanged).

    Raises :class:`~costmodel.errors.ScenarioError` for a value the file format refuses (an
    empty or duplicate workload name); the page shows it.
    """
    scenario = current(key, original)
    with st.expander("Adjust the assumptions", expanded=False, icon=":material/tune:"):
        workloads_tab, business_tab, month_tab = st.tabs(["Workloads", "Business", "The month"])
        with workloads_tab:
            edits = _workloads(key, original, scenario, catalogue)
        with business_tab:
            # The business block is in the scenario's own currency (USD when it names none).
            code = scenario.currency.code if scenario.currency else "USD"
            business = _business(key, scenario.business, code)
        with month_tab:
            days = _month(key, scenario)
        if scenario is not original:
            st.button(
                "Undo every edit",
                key=f"edit.{key}.reset",
                on_click=forget,
                args=(key,),
                icon=":material/undo:",
                help="Back to the file's values.",
            )
    edited = services.edited_scenario(scenario, edits, business, days)
    return remember(key, original, edited)
