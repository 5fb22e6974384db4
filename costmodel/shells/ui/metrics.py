"""Headline figures as st.metric cards, in rows that wrap to the page's width."""

from __future__ import annotations

import math
from collections.abc import Sequence

import streamlit as st

from costmodel.core.results import ScenarioRun
from costmodel.shells.ui import services

__all__ = ["card_width_px", "render", "render_headlines"]


# A card wide enough for its figure in Streamlit's metric font (2.25rem, 36 px: a digit is
# about 0.5em), plus the card's padding and border, rounded up. Cards flow in a wrapping row: as
# many per row as the page has room for (four on a laptop), so a narrow window puts fewer in a
# row instead of cutting the figures to "$41…".
NARROW_PX = 9.5  # , . : ' and spaces
WIDE_PX = 29.0  # % and W-wide letters
CHAR_PX = 18.5  # digits, currency signs and the rest
PADDING_PX = 40
MIN_CARD_PX = 180


def _text_px(text: str) -> float:
    return sum(NARROW_PX if c in ",.:' " else WIDE_PX if c in "%MW—" else CHAR_PX for c in text)


def card_width_px(figures: Sequence[services.Headline]) -> int:
    """One width for every card of a group: room for the longest figure."""
    widest = max((_text_px(f.value) for f in figures), default=0.0)
    return max(MIN_CARD_PX, math.ceil(widest + PADDING_PX))


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
