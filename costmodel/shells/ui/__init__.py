"""The Streamlit dashboard, in layers (``streamlit run app.py``).

- ``services``: plain functions between the library and the pages; never imports Streamlit.
- ``cache``: Streamlit's caches around the library (bundled scenarios, catalogues, analyses).
- components, each owning its ``st.session_state`` keys: ``scenario_picker``,
  ``scenario_editor`` (the session's edited scenarios), ``share`` (the state in the page
  address), ``price_override``, ``usage_source``, ``metrics``, ``exports``, ``sidebar``;
  ``messages`` shows errors and user text as one plain line.
- pages, which wire components and charts and hold no arithmetic: ``explorer``, ``compare``,
  ``actual_usage``, ``prices``. Each is a script ``st.navigation`` runs, and a module whose
  ``render()`` tests can call.

Importing this package imports nothing heavy; the pages import what they draw with.
"""
