"""Page: the price catalogue the figures rest on, with its as-of date and any what-if."""

from __future__ import annotations

from datetime import date

import streamlit as st

from costmodel.core.report import price_list
from costmodel.shells.ui import cache, price_override, services

__all__ = ["render"]


def render() -> None:
    st.title("Prices")
    catalogue = cache.catalogue(None, *price_override.current())
    prices = price_list(catalogue, on=date.today())  # the shell reads the clock
    st.markdown(
        f"**Catalogue checked {catalogue.checked.isoformat()}** · list prices in force on "
        f"{prices.on.isoformat()}, in USD per million tokens. Every rate names its source."
    )
    label = price_override.label()
    if label:
        st.info(
            label + " The table shows list prices; the explorer and compare pages apply the "
            "discount.",
            icon=":material/sell:",
        )
    section = prices.sections()[0]
    st.dataframe(
        services.display_frame(section, "USD"),
        hide_index=True,
        column_config={"Source": st.column_config.LinkColumn("Source")},
    )
    for note in prices.notes:
        st.caption(services.plain_text(note))


if __name__ == "__main__":
    render()
