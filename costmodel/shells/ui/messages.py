"""Errors and user text in the page: one line each, and never markup.

Every message a page shows for an error goes through :func:`error`: the library's one-line
message (as the CLI prints it), or one "internal error" line for a bug, escaped so that a file
name or a value quoted from a file is shown as written. :func:`text` shows any other string
that came from a file or the store as a caption, as written.
"""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from costmodel.shells.ui import services

__all__ = ["error", "text"]


def error(
    problem: BaseException | str, *, prefix: str = "", where: DeltaGenerator | None = None
) -> None:
    """``problem`` in one escaped line as an st.error (in ``where`` when given)."""
    line = problem if isinstance(problem, str) else services.error_line(problem)
    (where or st).error(services.plain_text(prefix + line), icon=":material/error:")


def text(value: str, *, where: DeltaGenerator | None = None) -> None:
    """A caption holding ``value`` exactly as written: no link, image, maths or list."""
    (where or st).caption(services.plain_text(value))
