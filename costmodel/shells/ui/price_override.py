"""The what-if price override: a negotiated discount on one model or all, from the sidebar.

The component owns the ``what_if.*`` session-state keys. Pages read the current choice with
:func:`current` and get the catalogue to price with from :func:`costmodel.shells.ui.cache.catalogue`;
the figures then carry the contract's name, so they are labelled as contracted, not list.
"""

from __future__ import annotations

import streamlit as st

from costmodel.shells.ui import services

__all__ = ["MODEL_KEY", "PERCENT_KEY", "current", "label", "render"]

PERCENT_KEY = "what_if.percent"
MODEL_KEY = "what_if.model"


def current() -> tuple[float, str]:
    """(discount %, model or 'All models') as last chosen; (0, all) before the first choice."""
    percent = float(st.session_state.get(PERCENT_KEY, 0))
    model = str(st.session_state.get(MODEL_KEY, services.ALL_MODELS))
    return percent, model


def label() -> str | None:
    """A sentence saying the figures use what-if contracted prices, or None at list prices."""
    percent, model = current()
    if not percent:
        return None
    scope = "every model" if model == services.ALL_MODELS else model
    return (
        f"What-if: contracted prices, {percent:g}% off the list price of {scope} "
        "(set in the sidebar)."
    )


def render(models: list[str]) -> None:
    """The discount slider and the model it applies to, with a caption when one is active."""
    st.subheader("What-if prices")
    st.slider(
        "Negotiated discount",
        min_value=0,
        max_value=90,
        step=1,
        format="%d%%",
        key=PERCENT_KEY,
        help="A discount off the list price, as a contract would give. The figures are then "
        "labelled as contracted prices.",
    )
    st.selectbox("Applies to", [services.ALL_MODELS, *models], key=MODEL_KEY)
    text = label()
    if text:
        st.caption(text)
