"""Headline figures as st.metric cards, in rows of four."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from costmodel.report import ScenarioRun
from costmodel.ui import services

__all__ = ["render", "render_headlines"]


def render_headlines(figures: Sequence[services.Headline]) -> None:
    for start in range(0, len(figures), 4):
        for column, figure in zip(st.columns(4), figures[start : start + 4], strict=False):
            column.metric(
                figure.label,
                figure.value,
                delta=figure.delta,
                delta_color=figure.delta_color,  # type: ignore[arg-type]
                help=figure.help,
                delta_arrow=figure.delta_arrow,  # type: ignore[arg-type]
                border=True,
            )


def render(run: ScenarioRun) -> None:
    """The explorer's eight figures for a scenario run."""
    render_headlines(services.headlines(run))
