"""Plotly figures for ranges and forecasts. No Streamlit, and no figures of their own.

- :func:`fan_chart`: a :class:`~costmodel.core.forecast.Forecast`'s months, the P10 to P90 band of
  each plan shaded round its P50, the point figures dashed, price changes and retirements
  marked on the months they fall in.
- :func:`distribution_chart`: a :class:`~costmodel.core.simulate.Simulation`'s draws of one figure
  (savings, or the batch plan's gross margin) as a histogram, with P10, P50 and P90 marked.

The tornado over the distributions' parameters is :func:`costmodel.shells.charts.tornado_chart` over
:func:`costmodel.core.simulate.parameter_tornado`'s frame.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import plotly.graph_objects as go

from costmodel.shells.charts import (
    BATCH_COLOUR,
    SYNC_COLOUR,
    _empty,
    _layout,
    money_axis,
    money_hover,
)

__all__ = ["DISTRIBUTION_FIGURES", "distribution_chart", "fan_chart"]

DISTRIBUTION_FIGURES: Final = {
    "savings": "Monthly savings",
    "cost_batch": "Batch-plan cost",
    "cost_sync": "Sync cost",
    "gross_margin_batch_pct": "Gross margin, batch plan",
    "delta_pp": "Change in gross margin",
}
_BINS: Final = 60
_FLAG_COLOUR: Final = "#b91c1c"
_CHANGE_COLOUR: Final = "#6b7280"


def _band(rgb: str) -> str:
    r, g, b = (int(rgb[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},0.18)"


def fan_chart(forecast: Any) -> go.Figure:
    """Cost by month, both plans: P10 to P90 shaded, P50 solid, the point figures dashed."""
    frame = forecast.frame
    currency = forecast.currency
    title = f"Monthly cost, {frame['month'].iloc[0]} to {frame['month'].iloc[-1]}"
    if frame.empty:
        return _empty(title, "No months to show")
    months = frame["month"].tolist()
    traces: list[dict[str, Any]] = []
    hover = money_hover(currency)
    for name, label, colour in (
        ("cost_sync", "Sync", SYNC_COLOUR),
        ("cost_batch", "Batch plan", BATCH_COLOUR),
    ):
        if forecast.draws:
            high, low = frame[f"{name}_p90"].tolist(), frame[f"{name}_p10"].tolist()
            traces.append(
                {
                    "type": "scatter",
                    "x": months + months[::-1],
                    "y": high + low[::-1],
                    "fill": "toself",
                    "fillcolor": _band(colour),
                    "line": {"width": 0},
                    "name": f"{label}, P10 to P90",
                    "hoverinfo": "skip",
                }
            )
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "x": months,
                    "y": frame[f"{name}_p50"].tolist(),
                    "line": {"color": colour, "width": 2},
                    "name": f"{label}, P50",
                    "hovertemplate": f"{label} P50 %{{x}}: {hover}<extra></extra>",
                }
            )
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": months,
                "y": frame[name].tolist(),
                "line": {
                    "color": colour,
                    "width": 1.5,
                    "dash": "dash" if forecast.draws else "solid",
                },
                "name": f"{label}, point" if forecast.draws else label,
                "hovertemplate": f"{label} point %{{x}}: {hover}<extra></extra>",
            }
        )
    shapes, annotations = [], []
    for day, model in forecast.price_changes:
        month = day.strftime("%Y-%m")
        shapes.append(_marker(month, _CHANGE_COLOUR))
        annotations.append(_note(month, f"{model}: new prices {day.isoformat()}", 1.0))
    for index, (month_day, model, what) in enumerate(
        [f for f in forecast.flags if f[2].startswith("retires")]
    ):
        month = month_day.strftime("%Y-%m")
        shapes.append(_marker(month, _FLAG_COLOUR))
        annotations.append(_note(month, f"{model} {what}", 0.9 - 0.08 * index, _FLAG_COLOUR))
    layout = _layout(
        title,
        xaxis={"title": {"text": "Month"}, "type": "category"},
        yaxis=money_axis(currency, f"Monthly cost ({currency})"),
        shapes=shapes,
        annotations=annotations,
    )
    return go.Figure(data=traces, layout=layout)


def _marker(month: str, colour: str) -> dict[str, Any]:
    return {
        "type": "line",
        "xref": "x",
        "yref": "paper",
        "x0": month,
        "x1": month,
        "y0": 0,
        "y1": 1,
        "line": {"color": colour, "width": 1, "dash": "dot"},
    }


def _note(month: str, text: str, y: float, colour: str = _CHANGE_COLOUR) -> dict[str, Any]:
    return {
        "xref": "x",
        "yref": "paper",
        "x": month,
        "y": y,
        "text": text,
        "showarrow": False,
        "xanchor": "left",
        "font": {"size": 11, "color": colour},
    }


def distribution_chart(simulation: Any, figure: str = "savings") -> go.Figure:
    """A histogram of one figure's simulated months, with its P10, P50 and P90 marked."""
    label = DISTRIBUTION_FIGURES.get(figure, figure)
    title = f"{label}: {simulation.draws:,} simulated months"
    values = simulation.samples.get(figure)
    if values is None:
        return _empty(title, "Needs a business block (revenue) for margins")
    values = np.asarray(values, dtype="float64")
    money = not figure.endswith(("_pct", "_pp")) and figure != "delta_pp"
    currency = simulation.currency
    quantiles = simulation.figures[figure]
    if money:
        axis = money_axis(currency, f"{label} ({currency})")
        axis.pop("rangemode")
        shown = money_hover(currency, "x")
    else:
        unit = " pp" if figure == "delta_pp" else "%"
        axis = {
            "title": {"text": f"{label} ({unit.strip()})"},
            "ticksuffix": unit,
            "automargin": True,
        }
        shown = f"%{{x:.2f}}{unit}"
    spread = float(np.ptp(values))
    if spread == 0:
        # Every draw the same (nothing uncertain): one bar, not a histogram of nothing.
        trace: dict[str, Any] = {
            "type": "bar",
            "x": [float(values[0])],
            "y": [len(values)],
            "width": [max(abs(float(values[0])) * 0.01, 0.01)],
        }
    else:
        trace = {"type": "histogram", "x": values.tolist(), "nbinsx": _BINS}
    trace.update(
        marker={"color": BATCH_COLOUR},
        name="Simulated months",
        hovertemplate=f"{shown}: %{{y}} months<extra></extra>",
    )
    shapes, annotations = [], []
    for key, text in (("p10", "P10"), ("p50", "P50"), ("p90", "P90")):
        x = float(quantiles[key])
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": x,
                "x1": x,
                "y0": 0,
                "y1": 1,
                "line": {
                    "color": "#111827",
                    "width": 1,
                    "dash": "dot" if key != "p50" else "solid",
                },
            }
        )
        annotations.append(
            {"xref": "x", "yref": "paper", "x": x, "y": 1.02, "text": text, "showarrow": False}
        )
    layout = _layout(
        title,
        xaxis=axis,
        yaxis={"title": {"text": "Months"}, "rangemode": "tozero"},
        shapes=shapes,
        annotations=annotations,
        showlegend=False,
        bargap=0.02,
    )
    return go.Figure(data=[trace], layout=layout)
