"""The sidebar every page shares: where the prices come from, and the what-if discount."""

from __future__ import annotations

import streamlit as st

from costmodel.shells.ui import cache, price_override

__all__ = ["render"]


def render() -> None:
    base = cache.catalogue(None)
    with st.sidebar:
        st.caption(
            f"Prices: Anthropic list prices, catalogue checked {base.checked.isoformat()} "
            "(USD per million tokens; batch at "
            f"{base.batch_multiplier * 100:.0f}% of every token rate)."
        )
        price_override.render(sorted(base.models))
        st.caption("Runs on this computer only; it needs no API key.")
