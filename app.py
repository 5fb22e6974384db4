"""The costmodel dashboard: ``streamlit run app.py`` (binds to 127.0.0.1, see .streamlit/).

Wiring only: page configuration, the shared sidebar, and navigation over the pages in
costmodel/shells/ui. Every figure comes from the library the CLI uses.

No error reaches the page as a traceback: a library error is shown as its one-line message,
anything else as one "internal error" line, with the traceback in the server's log only
(``client.showErrorDetails`` is off in .streamlit/config.toml as a second guard).
"""

import logging
from pathlib import Path

import streamlit as st

from costmodel.shells.ui import services, share, sidebar

UI = Path(sidebar.__file__).parent  # also where the package installed it (costmodel dashboard)
# Shipped with the app: an icon named ":material/...:" would make the browser fetch the
# favicon from Google's font host, and the page makes no request beyond this computer.
ICON = UI / "static" / "icon.png"

st.set_page_config(page_title="costmodel: sync or batch", page_icon=str(ICON), layout="wide")
pages = [
    st.Page(UI / "explorer.py", title="Scenario explorer", icon=":material/tune:", default=True),
    st.Page(UI / "compare.py", title="Compare scenarios", icon=":material/compare_arrows:"),
    st.Page(UI / "ranges.py", title="Ranges and forecast", icon=":material/stacked_line_chart:"),
    st.Page(UI / "actual_usage.py", title="Actual usage", icon=":material/receipt_long:"),
    st.Page(UI / "operations.py", title="Operations", icon=":material/monitor_heart:"),
    st.Page(UI / "organisation.py", title="Organisation", icon=":material/domain:"),
    st.Page(UI / "assessment.py", title="Assessment", icon=":material/rule:"),
    st.Page(UI / "prices.py", title="Prices", icon=":material/sell:"),
]
navigation = st.navigation(pages)
try:
    share.restore()  # a shared link's scenario and discount, before anything is drawn
    sidebar.render()
    navigation.run()
except Exception as error:  # Streamlit's own stop and rerun are BaseExceptions: they pass
    logging.getLogger("costmodel.dashboard").exception("the page failed")
    st.error(services.plain_text(services.error_line(error)), icon=":material/error:")
