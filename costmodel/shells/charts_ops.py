"""Plotly figures for the Operations page (batch operations, :mod:`costmodel.core.ops`). No
Streamlit, and no figures of their own: each builder draws the columns of
:meth:`costmodel.core.ops.OperationsSummary.frame` (or its error counts) as they are.

The turnaround charts draw what is said of the Batches API (most batches in 1 to 4 hours in
business hours, 12 to 24 hours at peak) as shaded reference bands: claims to check the team's
own p50, p95 and max against, not data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import pandas as pd
import plotly.graph_objects as go

from costmodel.shells.charts import BATCH_COLOUR, RESULT_COLOURS, _empty, _layout, plain

__all__ = [
    "CLAIMS",
    "errors_chart",
    "expired_share_chart",
    "success_rate_chart",
    "tokens_per_request_chart",
    "turnaround_chart",
]

SUCCESS_COLOUR: Final = BATCH_COLOUR
FLAG_COLOUR: Final = RESULT_COLOURS["errored"]
# (label, low hours, high hours, colour): what the source article says, to be checked.
CLAIMS: Final = (
    ("Claim: 1-4 h in business hours", 1.0, 4.0, "rgba(15, 157, 119, 0.13)"),
    ("Claim: 12-24 h at peak", 12.0, 24.0, "rgba(245, 158, 11, 0.13)"),
)
_SPANS: Final = (
    ("turnaround_p50_hours", "p50", "#1f4e79", "solid"),
    ("turnaround_p95_hours", "p95", "#5b6ee1", "dash"),
    ("turnaround_max_hours", "max", "#c2410c", "dot"),
)
_TOKENS: Final = (
    ("input_tokens_per_request", "Input (uncached)", "#1f4e79"),
    ("output_tokens_per_request", "Output", "#0f9d77"),
    ("cache_write_tokens_per_request", "Cache writes", "#e07b39"),
    ("cache_read_tokens_per_request", "Cache reads", "#9aa5ee"),
)
_AXIS_TITLES: Final = {
    "day": "Day",
    "hour": "Hour of submission (UTC)",
    "job": "Job",
    "batch": "Batch",
}


def _keys(frame: pd.DataFrame, by: str = "day") -> list[str]:
    keys = [plain(key) for key in frame["key"].astype(str)]
    # "09:00" -> "09": 24 hours fit across half a page without turning on their side.
    return [key.removesuffix(":00") for key in keys] if by == "hour" else keys


def _values(series: pd.Series) -> list[float | None]:
    return [None if pd.isna(v) else float(v) for v in series]


def _x_axis(by: str) -> dict[str, Any]:
    axis: dict[str, Any] = {"title": {"text": _AXIS_TITLES.get(by, by)}, "automargin": True}
    if by in ("hour", "batch", "job"):
        axis["type"] = "category"
    return axis


def success_rate_chart(frame: pd.DataFrame, *, by: str = "day", target: float = 0.99) -> go.Figure:
    """Success rate per group as bars (below ``target`` in red), the target as a line."""
    title = f"Success rate by {by} (target {target:.0%})"
    if frame.empty:
        return _empty(title, "No batches in this period")
    rates = _values(frame["success_rate"])
    flagged = [bool(v) for v in frame["below_target"]]
    known = [r for r in rates if r is not None]
    floor = min([*known, target]) if known else target
    return go.Figure(
        data=[
            {
                "type": "bar",
                "x": _keys(frame, by),
                "y": rates,
                "marker": {"color": [FLAG_COLOUR if f else SUCCESS_COLOUR for f in flagged]},
                "customdata": [
                    [int(r), int(s), "below target" if f else "on target"]
                    for r, s, f in zip(frame["requests"], frame["succeeded"], flagged, strict=True)
                ],
                "hovertemplate": "<b>%{x}</b><br>%{y:.2%} succeeded (%{customdata[1]:,} of "
                "%{customdata[0]:,})<br>%{customdata[2]}<extra></extra>",
                "showlegend": False,
            }
        ],
        layout=_layout(
            title,
            xaxis=_x_axis(by),
            yaxis={
                "title": {"text": "Succeeded / all requests"},
                "tickformat": ".1%",
                # Zoomed to where the rates are: a 98% bar beside a 99.6% one must look apart.
                "range": [max(0.0, floor - (1 - floor) * 0.5 - 0.002), 1.0005],
                "automargin": True,
            },
            # The target as a dashed line (the title names it; a label would sit on the bars).
            shapes=[
                {
                    "type": "line",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "y0": target,
                    "y1": target,
                    "line": {"color": "#374151", "dash": "dash", "width": 1.5},
                }
            ],
        ),
    )


def turnaround_chart(
    frame: pd.DataFrame,
    *,
    by: str = "day",
    claims: Sequence[tuple[str, float, float, str]] = CLAIMS,
) -> go.Figure:
    """p50, p95 and max turnaround (hours) per group, over the claims as shaded bands."""
    title = f"Turnaround by {'hour of submission (UTC)' if by == 'hour' else by}"
    timed = frame[frame["timed_batches"] > 0] if not frame.empty else frame
    if timed.empty:
        return _empty(title, "No batch in this period has both its creation and end times")
    keys = _keys(timed, by)
    mode = "lines+markers" if by == "day" else "markers"
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": mode,
            "name": name,
            "x": keys,
            "y": _values(timed[column]),
            "line": {"color": colour, "dash": dash, "width": 2},
            "marker": {"color": colour, "size": 8 if by != "day" else 6},
            "customdata": [[int(n)] for n in timed["timed_batches"]],
            "hovertemplate": f"<b>%{{x}}</b><br>{name}: %{{y:.1f}} h "
            "(%{customdata[0]} batch(es))<extra></extra>",
        }
        for column, name, colour, dash in _SPANS
    ]
    # Each claim as a legend entry too (a square of its colour), so the bands are named.
    traces += [
        {
            "type": "scatter",
            "mode": "markers",
            "name": label,
            "x": [keys[0]],
            "y": [None],
            "marker": {"symbol": "square", "size": 12, "color": colour.replace("0.13", "0.5")},
            "hoverinfo": "skip",
        }
        for label, _, _, colour in claims
    ]
    highest = max([v for v in _values(timed["turnaround_max_hours"]) if v is not None] + [0.0])
    top = max(highest, *(high for _, _, high, _ in claims)) * 1.08
    return go.Figure(
        data=traces,
        layout=_layout(
            title,
            xaxis=_x_axis(by),
            yaxis={
                "title": {"text": "Hours, creation to end"},
                "range": [0, top],
                "rangemode": "tozero",
                "automargin": True,
            },
            shapes=[
                {
                    "type": "rect",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "y0": low,
                    "y1": high,
                    "fillcolor": colour,
                    "line": {"width": 0},
                    "layer": "below",
                }
                for _, low, high, colour in claims
            ],  # named in the legend: a label inside a band would sit on the points
        ),
    )


def expired_share_chart(frame: pd.DataFrame, *, by: str = "day") -> go.Figure:
    """The share of requests that expired per group (bars), with the expired batches in hover."""
    title = f"Expired requests by {by}"
    if frame.empty:
        return _empty(title, "No batches in this period")
    return go.Figure(
        data=[
            {
                "type": "bar",
                "x": _keys(frame, by),
                "y": _values(frame["expired_share"]),
                "marker": {"color": RESULT_COLOURS["expired"]},
                "customdata": [
                    [int(e), int(b), int(n)]
                    for e, b, n in zip(
                        frame["expired_batches"], frame["batches"], frame["expired"], strict=True
                    )
                ],
                "hovertemplate": "<b>%{x}</b><br>%{y:.2%} of requests expired "
                "(%{customdata[2]:,})<br>%{customdata[0]} of %{customdata[1]} batch(es) ran "
                "out of time<extra></extra>",
                "showlegend": False,
            }
        ],
        layout=_layout(
            title,
            xaxis=_x_axis(by),
            yaxis={
                "title": {"text": "Expired / all requests"},
                "tickformat": ".1%",
                "rangemode": "tozero",
                "automargin": True,
            },
        ),
    )


def errors_chart(errors: Mapping[str, int]) -> go.Figure:
    """Errored requests by the results' error type, most common on top."""
    title = "Errored requests by error type"
    if not errors:
        return _empty(title, "No errored requests in this period")
    ordered = sorted(errors.items(), key=lambda item: (item[1], item[0]))
    return go.Figure(
        data=[
            {
                "type": "bar",
                "orientation": "h",
                "y": [plain(kind) for kind, _ in ordered],
                "x": [n for _, n in ordered],
                "marker": {"color": RESULT_COLOURS["errored"]},
                "text": [f"{n:,}" for _, n in ordered],
                "textposition": "outside",
                "cliponaxis": False,
                "hovertemplate": "<b>%{y}</b><br>%{x:,} request(s)<extra></extra>",
                "showlegend": False,
            }
        ],
        layout=_layout(
            title,
            xaxis={"title": {"text": "Requests"}, "tickformat": ",d", "rangemode": "tozero"},
            yaxis={"automargin": True},
        ),
    )


def tokens_per_request_chart(frame: pd.DataFrame, *, by: str = "day") -> go.Figure:
    """Tokens per succeeded request over time, by kind: token efficiency."""
    title = "Tokens per succeeded request"
    if frame.empty or not (frame["succeeded"] > 0).any():
        return _empty(title, "No succeeded requests in this period")
    shown = frame[frame["succeeded"] > 0]
    keys = _keys(shown, by)
    return go.Figure(
        data=[
            {
                "type": "scatter",
                "mode": "lines+markers" if by == "day" else "markers",
                "name": name,
                "x": keys,
                "y": _values(shown[column]),
                "line": {"color": colour, "width": 2},
                "marker": {"color": colour, "size": 6},
                "hovertemplate": f"<b>%{{x}}</b><br>{name}: %{{y:,.0f}} tokens per request"
                "<extra></extra>",
            }
            for column, name, colour in _TOKENS
        ],
        layout=_layout(
            title,
            xaxis=_x_axis(by),
            yaxis={
                "title": {"text": "Tokens per request"},
                "tickformat": ",d",
                "rangemode": "tozero",
                "automargin": True,
            },
        ),
    )
