"""Headline figures as st.metric cards, in rows that wrap to the page's width."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from costmodel.report import ScenarioRun
from costmodel.ui import services

__all__ = ["card_width_px", "render", "render_headlines"]


# A card wide enough for its figure in Streamlit's metric font (2.25rem: a digit is about
# 0.5em, 18 px; 19 leaves room), plus the card's padding and border. Cards flow in a wrapping row: as many per
# row as the page has room for, so a narrow window puts fewer in a row instead of cutting the
# figures to "$41…".
CHAR_PX = 19
PADDING_PX = 40
MIN_CARD_PX = 180


def card_width_px(figures: Sequence[services.Headline]) -> int:
    """One width for every card of a group: room for the longest figure and its label."""
    longest = max((len(f.value) for f in figures), default=0)
    return max(MIN_CARD_PX, CHAR_PX * longest + PADDING_PX)


def render_headlines(figures: Sequence[services.Headline]) -> None:
    width = card_width_px(figures)
    with st.container(horizontal=True, wrap=True, gap="small"):
        for figure in figures:
            st.metric(
                figure.label,
                figure.value,
                delta=figure.delta,
                delta_color=figure.delta_color,  # type: ignore[arg-type]
                help=figure.help,
                delta_arrow=figure.delta_arrow,  # type: ignore[arg-type]
                border=True,
                width=width,
            )


def render(run: ScenarioRun) -> None:
    """The explorer's eight figures for a scenario run."""
    render_headlines(services.headlines(run))
