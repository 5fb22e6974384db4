"""The costmodel dashboard: ``streamlit run app.py`` (binds to 127.0.0.1, see .streamlit/).

Wiring only: page configuration, the shared sidebar, and navigation over the pages in
costmodel/ui. Every figure comes from the library the CLI uses.
"""

from pathlib import Path

import streamlit as st

from costmodel.ui import sidebar

UI = Path(__file__).parent / "costmodel" / "ui"

st.set_page_config(
    page_title="costmodel: sync or batch",
    page_icon=":material/savings:",
    layout="wide",
)
pages = [
    st.Page(UI / "explorer.py", title="Scenario explorer", icon=":material/tune:", default=True),
    st.Page(UI / "compare.py", title="Compare scenarios", icon=":material/compare_arrows:"),
    st.Page(UI / "actual_usage.py", title="Actual usage", icon=":material/receipt_long:"),
    st.Page(UI / "organisation.py", title="Organisation", icon=":material/domain:"),
    st.Page(UI / "assessment.py", title="Assessment", icon=":material/rule:"),
    st.Page(UI / "prices.py", title="Prices", icon=":material/sell:"),
]
navigation = st.navigation(pages)
sidebar.render()
navigation.run()
