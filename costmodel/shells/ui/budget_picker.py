"""Sidebar: a budgets file for the cost-by-day chart (none, the bundled example, or an upload).

Wiring only: the file is parsed by :func:`costmodel.adapters.budget_files.parse_budgets`, and its problems are
shown in the page, each with its line, as the CLI prints them.
"""

from __future__ import annotations

import streamlit as st

from costmodel.adapters.budget_files import example_budgets_path, parse_budgets
from costmodel.core.budgets import Budget, BudgetError
from costmodel.shells.ui import services

__all__ = ["CHOICE_KEY", "UPLOAD_KEY", "chosen"]

CHOICE_KEY = "budgets.choice"
UPLOAD_KEY = "budgets.upload"
NONE, EXAMPLE, UPLOAD = "No budgets", "The bundled example", "Upload a budgets file"


def chosen() -> tuple[Budget, ...]:
    """The budgets the user picked in the sidebar (empty: none, or a file with problems)."""
    choice = st.sidebar.radio(
        "Budgets on the cost-by-day chart",
        [NONE, EXAMPLE, UPLOAD],
        key=CHOICE_KEY,
        help="Monthly budgets (YAML, as `costmodel budget check` reads them); the chart draws "
        "each one's pace: the monthly amount spread over the month's days.",
    )
    if choice == EXAMPLE:
        path = example_budgets_path()
        return parse_budgets(path.read_text(encoding="utf-8"), path.name)
    if choice != UPLOAD:
        return ()
    file = st.sidebar.file_uploader(
        f"Budgets file (YAML, up to {services.MAX_UPLOAD_LABEL})",
        type=["yaml", "yml"],
        max_upload_size=services.MAX_UPLOAD_MB,
        key=UPLOAD_KEY,
    )
    if file is None:
        return ()
    try:
        return parse_budgets(file.getvalue().decode("utf-8", errors="replace"), file.name)
    except BudgetError as error:
        lines = "\n".join(f"- {services.plain_text(problem)}" for problem in error.problems)
        st.error(
            f"**{services.plain_text(file.name)} was not loaded:**\n\n{lines}",
            icon=":material/error:",
        )
        return ()
