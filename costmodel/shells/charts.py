"""Plotly figures for the dashboard and the notebooks. No Streamlit, and no figures of its own.

Each builder takes a result (a :class:`~costmodel.core.results.ScenarioRun`, a frame from
:mod:`costmodel.core.analysis` or from the usage store) and returns a ``plotly.graph_objects.Figure``
with a title, labelled axes, money formatted in the result's currency (``$,.2f`` for dollars,
the currency's symbol or code otherwise) on the axes and in the hover text, and the legend
below the plot where it cannot cover the title or the data.

Figures are built from plain dicts in one ``go.Figure`` call: it validates once, which keeps
building all the explorer's charts within a few milliseconds.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from costmodel.core.money import format_money

__all__ = [
    "BATCH_COLOUR",
    "SYNC_COLOUR",
    "actual_cost_by_day",
    "actual_cost_by_key",
    "batch_share_chart",
    "compare_chart",
    "cost_by_workload",
    "margin_waterfall",
    "money_axis",
    "money_hover",
    "plain",
    "prediction_vs_actual",
    "result_types_chart",
    "tornado_chart",
    "volume_chart",
]

SYNC_COLOUR: Final = "#5b6ee1"
BATCH_COLOUR: Final = "#0f9d77"
MARGIN_SYNC_COLOUR: Final = "#9aa5ee"
MARGIN_BATCH_COLOUR: Final = "#e07b39"
LOW_COLOUR: Final = "#c2410c"
HIGH_COLOUR: Final = "#0f766e"
RESULT_COLOURS: Final = {
    "succeeded": "#0f9d77",
    "errored": "#d62728",
    "expired": "#f59e0b",
    "canceled": "#7f7f7f",
}
NOT_BILLED: Final = ("errored", "expired", "canceled")
HEIGHT: Final = 400
# A few lines of plotly_white: naming a stock template costs ~20 ms per figure to validate.
_TEMPLATE: Final = {
    "layout": {
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "font": {"size": 13},
        "xaxis": {"gridcolor": "#e5e7eb", "zerolinecolor": "#d1d5db", "linecolor": "#d1d5db"},
        "yaxis": {"gridcolor": "#e5e7eb", "zerolinecolor": "#d1d5db", "linecolor": "#d1d5db"},
    }
}


# -- formatting -----------------------------------------------------------------------------
def plain(text: object) -> str:
    """``text`` as Plotly should show it: its pseudo-HTML (links, images, tags) escaped.

    Plotly renders a subset of HTML in names, labels and hover text (``<a href>`` becomes a
    live link), so every string that comes from a file or the store goes through this.

    >>> plain('<a href="http://x">job</a> & co')
    '&lt;a href="http://x"&gt;job&lt;/a&gt; &amp; co'
    """
    return html.escape(str(text), quote=False)


def _plain_all(texts: Any) -> list[str]:
    return [plain(text) for text in texts]


def _affixes(currency: str) -> tuple[str, str]:
    """What goes before and after an amount: ('$', '') or ('', ' CHF'), as format_money does."""
    prefix, _, suffix = format_money(1.0, currency).partition("1.00")
    return prefix, suffix


def money_axis(currency: str, title: str) -> dict[str, Any]:
    """Axis settings for amounts in ``currency``: ticks and hover like ``$1,234.56``."""
    axis: dict[str, Any] = {"title": {"text": title}, "rangemode": "tozero", "automargin": True}
    if currency == "USD":
        return {**axis, "tickformat": "$,.2f", "hoverformat": "$,.2f"}
    prefix, suffix = _affixes(currency)
    return {
        **axis,
        "tickformat": ",.2f",
        "hoverformat": ",.2f",
        "tickprefix": prefix,
        "ticksuffix": suffix,
    }


def money_hover(currency: str, field: str = "y") -> str:
    """A hovertemplate fragment showing ``%{field}`` as money in ``currency``."""
    if currency == "USD":
        return f"%{{{field}:$,.2f}}"
    prefix, suffix = _affixes(currency)
    return f"{prefix}%{{{field}:,.2f}}{suffix}"


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 16}},
        "template": _TEMPLATE,
        "height": HEIGHT,
        "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
        # At the foot of the figure (container coordinates), so it never sits on the title,
        # the data or the x-axis title, whatever the width.
        "legend": {
            "orientation": "h",
            "yref": "container",
            "y": 0,
            "yanchor": "bottom",
            "x": 0,
            "xanchor": "left",
        },
        "hoverlabel": {"namelength": -1},
    }
    layout.update(extra)
    return layout


def _empty(title: str, message: str) -> go.Figure:
    return go.Figure(
        layout=_layout(
            title,
            xaxis={"visible": False},
            yaxis={"visible": False},
            annotations=[
                {
                    "text": message,
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                    "showarrow": False,
                    "font": {"size": 14},
                }
            ],
        )
    )


# -- a scenario -----------------------------------------------------------------------------
def cost_by_workload(run: Any) -> go.Figure:
    """Grouped bars: each workload's monthly cost on the sync plan against the batch plan."""
    frame: pd.DataFrame = run.workloads
    currency: str = run.currency
    names = _plain_all(frame["name"])
    savings = frame["savings"].to_numpy()
    hover = (
        "<b>%{x}</b><br>%{fullData.name}: "
        + money_hover(currency)
        + "<br>Saved by batch: "
        + money_hover(currency, "customdata")
        + "<extra></extra>"
    )
    title = "Monthly cost by workload" + (" (contracted prices)" if run.contract else "")
    return go.Figure(
        data=[
            {
                "type": "bar",
                "name": "Sync",
                "x": names,
                "y": frame["cost_sync"].tolist(),
                "marker": {"color": SYNC_COLOUR},
                "customdata": savings.tolist(),
                "hovertemplate": hover,
            },
            {
                "type": "bar",
                "name": "Batch plan",
                "x": names,
                "y": frame["cost_batch"].tolist(),
                "marker": {"color": BATCH_COLOUR},
                "customdata": savings.tolist(),
                "hovertemplate": hover,
            },
        ],
        layout=_layout(
            title,
            barmode="group",
            xaxis={"title": {"text": "Workload"}, "automargin": True},
            yaxis=money_axis(currency, f"Monthly cost ({currency})"),
        ),
    )


def margin_waterfall(steps: pd.DataFrame, currency: str) -> go.Figure:
    """Revenue, less other COGS, less inference, to gross profit: sync and batch side by side.

    ``steps`` is :func:`costmodel.core.analysis.waterfall_steps`; without a business block the figure
    says how to get one.
    """
    title = "Gross margin: revenue to gross profit"
    if steps.empty:
        return _empty(title, "Add revenue under 'Business' to see the margin waterfall")
    traces = []
    for plan, colour in (("Sync", SYNC_COLOUR), ("Batch plan", BATCH_COLOUR)):
        rows = steps[steps["plan"] == plan]
        traces.append(
            {
                "type": "waterfall",
                "name": plan,
                "x": rows["step"].tolist(),
                "y": rows["amount"].tolist(),
                "measure": rows["measure"].tolist(),
                "offsetgroup": plan,
                "increasing": {"marker": {"color": colour}},
                "decreasing": {"marker": {"color": "#d97706"}},
                "totals": {"marker": {"color": colour}},
                "connector": {"line": {"color": "#9ca3af", "width": 1}},
                "hovertemplate": "<b>%{x}</b> (%{fullData.name})<br>"
                + money_hover(currency)
                + "<extra></extra>",
            }
        )
    return go.Figure(
        data=traces,
        layout=_layout(
            title,
            waterfallmode="group",
            xaxis={"title": {"text": "Monthly"}, "automargin": True},
            yaxis=money_axis(currency, f"Amount per month ({currency})"),
        ),
    )


_FACTOR_TICKS: Final = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


def _factor_label(factor: float) -> str:
    return "today" if factor == 1 else f"{factor * 100:g}%" if factor < 1 else f"{factor:g}×"


def volume_chart(curve: pd.DataFrame) -> go.Figure:
    """Monthly cost against volume (10% to 10x today's), gross margin on the right-hand axis.

    ``curve`` is :func:`costmodel.core.analysis.volume_curve`.
    """
    currency = curve.attrs.get("currency", "USD")
    factors = curve["factor"].tolist()
    requests = curve["requests"].to_numpy()
    money = money_hover(currency)
    point = "<b>%{x:.2f}× today's volume</b> (%{customdata:,.0f} requests/month)<br>"
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Cost, sync",
            "x": factors,
            "y": curve["cost_sync"].tolist(),
            "line": {"color": SYNC_COLOUR, "width": 2.5},
            "customdata": requests.tolist(),
            "hovertemplate": point + "Sync: " + money + "<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Cost, batch plan",
            "x": factors,
            "y": curve["cost_batch"].tolist(),
            "line": {"color": BATCH_COLOUR, "width": 2.5},
            "customdata": requests.tolist(),
            "hovertemplate": point + "Batch plan: " + money + "<extra></extra>",
        },
    ]
    has_margin = bool(curve["gross_margin_sync_pct"].notna().any())
    extra: dict[str, Any] = {}
    if has_margin:
        for column, name, colour in (
            ("gross_margin_sync_pct", "Gross margin, sync", MARGIN_SYNC_COLOUR),
            ("gross_margin_batch_pct", "Gross margin, batch plan", MARGIN_BATCH_COLOUR),
        ):
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": name,
                    "x": factors,
                    "y": curve[column].tolist(),
                    "yaxis": "y2",
                    "line": {"color": colour, "width": 2, "dash": "dot"},
                    "hovertemplate": f"{name}: %{{y:.2f}}%<extra></extra>",
                }
            )
        extra["yaxis2"] = {
            "title": {"text": "Gross margin (%)"},
            "overlaying": "y",
            "side": "right",
            "ticksuffix": "%",
            "tickformat": ".1f",
            "showgrid": False,
            "automargin": True,
        }
    return go.Figure(
        data=traces,
        layout=_layout(
            "Cost against volume" + (" and gross margin" if has_margin else ""),
            hovermode="x unified",
            xaxis={
                "title": {"text": "Monthly volume against today's (log scale)"},
                "type": "log",
                "tickvals": list(_FACTOR_TICKS),
                "ticktext": [_factor_label(f) for f in _FACTOR_TICKS],
                "automargin": True,
            },
            yaxis=money_axis(currency, f"Monthly cost ({currency})"),
            shapes=[_vertical_line(1.0)],
            **extra,
        ),
    )


def _vertical_line(x: float) -> dict[str, Any]:
    return {
        "type": "line",
        "xref": "x",
        "yref": "paper",
        "x0": x,
        "x1": x,
        "y0": 0,
        "y1": 1,
        "line": {"color": "#6b7280", "width": 1, "dash": "dash"},
    }


def batch_share_chart(curve: pd.DataFrame, current_share: float | None = None) -> go.Figure:
    """Savings and batch-plan cost as the workloads the plan batches go from 0 to 100% batch.

    ``curve`` is :func:`costmodel.core.analysis.batch_share_curve`: workloads the plan keeps
    synchronous (``attrs["fixed"]``) stay so at every point, and the x-axis says which moved.
    The modelled plan is marked where it lies on the curve (``attrs["plan_share"]``, or
    ``current_share`` when given), with what it saves.
    """
    currency = curve.attrs.get("currency", "USD")
    shares = (curve["share"] * 100).tolist()
    money = money_hover(currency)
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Cost, batch plan",
            "x": shares,
            "y": curve["cost_batch"].tolist(),
            "line": {"color": BATCH_COLOUR, "width": 2.5},
            "hovertemplate": "Batch plan: " + money + "<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Savings",
            "x": shares,
            "y": curve["savings"].tolist(),
            "line": {"color": SYNC_COLOUR, "width": 2.5},
            "fill": "tozeroy",
            "fillcolor": "rgba(91, 110, 225, 0.12)",
            "hovertemplate": "Savings: " + money + "<extra></extra>",
        },
    ]
    extra: dict[str, Any] = {}
    has_margin = bool(curve["gross_margin_batch_pct"].notna().any())
    if has_margin:
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "Gross margin, batch plan",
                "x": shares,
                "y": curve["gross_margin_batch_pct"].tolist(),
                "yaxis": "y2",
                "line": {"color": MARGIN_BATCH_COLOUR, "width": 2, "dash": "dot"},
                "hovertemplate": "Gross margin: %{y:.2f}%<extra></extra>",
            }
        )
        extra["yaxis2"] = {
            "title": {"text": "Gross margin (%)"},
            "overlaying": "y",
            "side": "right",
            "ticksuffix": "%",
            "tickformat": ".2f",
            "showgrid": False,
            "automargin": True,
        }
    plan_share = curve.attrs.get("plan_share") if current_share is None else current_share
    if plan_share is not None:
        x = float(plan_share) * 100
        extra["shapes"] = [_vertical_line(x)]
        saved = float(np.interp(plan_share, curve["share"], curve["savings"]))
        extra["annotations"] = [
            {
                "text": f"Modelled plan: saves {plain(format_money(saved, currency))}",
                "x": x,
                "xref": "x",
                "y": 1,
                "yref": "paper",
                "xanchor": "right" if x > 50 else "left",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 12, "color": "#374151"},
            }
        ]
    fixed = curve.attrs.get("fixed", ())
    if curve.attrs.get("batches_nothing"):
        axis_title = "Share of every workload sent to batch (the plan batches none)"
    elif fixed:
        axis_title = (
            "Share of the batched workloads sent to batch; "
            + _listed(fixed)
            + (" stays" if len(fixed) == 1 else " stay")
            + " sync"
        )
    else:
        axis_title = "Share of every workload sent to batch"
    return go.Figure(
        data=traces,
        layout=_layout(
            "Savings as the batch share grows",
            hovermode="x unified",
            xaxis={
                "title": {"text": axis_title},
                "ticksuffix": "%",
                "range": [0, 100],
                "hoverformat": ".0f",
                "automargin": True,
            },
            yaxis=money_axis(currency, f"Per month ({currency})"),
            **extra,
        ),
    )


def _listed(names: Sequence[str], most: int = 2) -> str:
    """``a, b and 3 more``: workload names for an axis title, escaped, never too long."""
    shown = [plain(textwrap.shorten(str(name), 30, placeholder="…")) for name in names[:most]]
    rest = len(names) - len(shown)
    return ", ".join(shown) + (f" and {rest} more" if rest else "")


def tornado_chart(frame: pd.DataFrame, *, top: int = 10) -> go.Figure:
    """Which inputs move the studied figure most, each moved down and up alone (bars from base).

    ``frame`` is :func:`costmodel.core.analysis.tornado`; the ``top`` largest swings are shown,
    largest at the top.
    """
    measure = frame.attrs.get("measure", "Result")
    step = frame.attrs.get("step", 0.2)
    title = f"What moves the {measure.lower()} most (each input ±{step * 100:g}%)"
    if frame.empty:
        return _empty(title, "No inputs to vary")
    shown = frame.head(top).iloc[::-1]  # Plotly draws the first category at the bottom
    base = float(frame.attrs.get("base_result", 0.0))
    currency = frame.attrs.get("currency", "USD")
    is_money = frame.attrs.get("unit") == "money"
    if is_money:
        axis = money_axis(currency, f"{measure} ({currency})")
        axis.pop("rangemode")
        value = money_hover(currency, "customdata")
    else:
        axis = {
            "title": {"text": f"{measure} (%)"},
            "ticksuffix": "%",
            "tickformat": ".2f",
            "automargin": True,
        }
        value = "%{customdata:.2f}%"
    labels = [plain(label.replace("_", " ")) for label in shown["input"]]
    traces = []
    for side, colour, sign in (("low", LOW_COLOUR, "−"), ("high", HIGH_COLOUR, "+")):
        results = shown[f"{side}_result"].to_numpy()
        traces.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": f"Input {sign}{step * 100:g}%",
                "y": labels,
                "x": (results - base).tolist(),
                "base": base,
                "marker": {"color": colour},
                "customdata": results.tolist(),
                "hovertemplate": f"<b>%{{y}}</b> {sign}{step * 100:g}%<br>"
                + value
                + "<extra></extra>",
            }
        )
    return go.Figure(
        data=traces,
        layout=_layout(
            title,
            barmode="overlay",
            height=max(HEIGHT, 120 + 28 * len(labels)),
            xaxis=axis,
            yaxis={"automargin": True, "title": {"text": ""}},
            shapes=[
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": base,
                    "x1": base,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": "#111827", "width": 1},
                }
            ],
        ),
    )


def compare_chart(frame: pd.DataFrame, currency: str) -> go.Figure:
    """Grouped bars per scenario, sync against batch plan; ``frame`` is Comparison.frame()."""
    # Long names wrap onto lines instead of tilting across the plot.
    names = ["<br>".join(_plain_all(textwrap.wrap(str(name), 22))) for name in frame["Scenario"]]
    hover = "<b>%{x}</b><br>%{fullData.name}: " + money_hover(currency) + "<extra></extra>"
    return go.Figure(
        data=[
            {
                "type": "bar",
                "name": name,
                "x": names,
                "y": frame[column].tolist(),
                "marker": {"color": colour},
                "hovertemplate": hover,
            }
            for name, column, colour in (
                ("Sync", "Sync cost", SYNC_COLOUR),
                ("Batch plan", "Batch plan cost", BATCH_COLOUR),
            )
        ],
        layout=_layout(
            f"Monthly cost by scenario ({currency})",
            barmode="group",
            xaxis={"title": {"text": "Scenario"}, "automargin": True, "tickangle": 0},
            yaxis=money_axis(currency, f"Monthly cost ({currency})"),
        ),
    )


# -- measured usage -------------------------------------------------------------------------
def actual_cost_by_day(
    daily: pd.DataFrame,
    currency: str = "USD",
    by: str = "model",
    budgets: Sequence[tuple[str, float]] = (),
) -> go.Figure:
    """Billed cost per day, stacked by model or job, with what sync would have cost as a line.

    ``daily`` has columns day, key, cost_billed, cost_if_sync (``costmodel.core.measured.daily_costs``).
    ``budgets``: (label, amount a day) for each budget to draw as its pace, a dashed level line
    (``costmodel.core.budgets.pace_lines``).
    """
    title = f"Cost by day, billed against sync, by {by}"
    if daily.empty:
        return _empty(title, "No usage in the store for this period")
    money = money_hover(currency)
    traces: list[dict[str, Any]] = []
    for key, rows in daily.groupby("key", sort=True):
        traces.append(
            {
                "type": "bar",
                "name": f"Billed: {plain(key)}",
                "x": pd.to_datetime(rows["day"]).tolist(),
                "y": rows["cost_billed"].tolist(),
                # The key through %{...}: text from the store is never part of a template.
                "customdata": [plain(key)] * len(rows),
                "hovertemplate": "%{customdata}: " + money + "<extra></extra>",
            }
        )
    totals = daily.groupby("day", sort=True)[["cost_billed", "cost_if_sync"]].sum()
    traces.append(
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "Had it all been sync",
            "x": pd.to_datetime(totals.index.to_series()).tolist(),
            "y": totals["cost_if_sync"].tolist(),
            "line": {"color": "#111827", "width": 2, "dash": "dot"},
            "hovertemplate": "If sync: " + money + "<extra></extra>",
        }
    )
    days = pd.to_datetime(totals.index.to_series()).tolist()
    # The first line (the total budget, when the file lists it first) red; the rest dash-dot.
    for index, (label, per_day) in enumerate(budgets):
        style = ("#b91c1c", "dash") if index == 0 else ("#7c2d12", "dashdot")
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"Budget pace: {plain(label)}",
                "x": [days[0], days[-1]],
                "y": [float(per_day)] * 2,
                "line": {"color": style[0], "width": 2, "dash": style[1]},
                "customdata": [plain(label)] * 2,
                "hovertemplate": "Budget pace, %{customdata}: " + money + "<extra></extra>",
            }
        )
    return go.Figure(
        data=traces,
        layout=_layout(
            title,
            barmode="stack",
            hovermode="x unified",
            xaxis={"title": {"text": "Day"}, "automargin": True},
            yaxis=money_axis(currency, f"Cost per day ({currency})"),
        ),
    )


def actual_cost_by_key(rows: pd.DataFrame, currency: str = "USD", by: str = "model") -> go.Figure:
    """Grouped bars per model or job: billed cost against what sync would have cost.

    ``rows`` is ``UsageSummary.rows`` (key, cost_billed, cost_if_sync, savings, ...).
    """
    title = f"Billed against sync, by {by}"
    if rows.empty:
        return _empty(title, "No usage in the store for this period")
    keys = _plain_all(rows["key"].astype(str))
    hover = "<b>%{x}</b><br>%{fullData.name}: " + money_hover(currency) + "<extra></extra>"
    return go.Figure(
        data=[
            {
                "type": "bar",
                "name": "If all sync",
                "x": keys,
                "y": rows["cost_if_sync"].tolist(),
                "marker": {"color": SYNC_COLOUR},
                "hovertemplate": hover,
            },
            {
                "type": "bar",
                "name": "Billed",
                "x": keys,
                "y": rows["cost_billed"].tolist(),
                "marker": {"color": BATCH_COLOUR},
                "hovertemplate": hover,
            },
        ],
        layout=_layout(
            title,
            barmode="group",
            xaxis={"title": {"text": by.capitalize()}, "automargin": True},
            yaxis=money_axis(currency, f"Cost ({currency})"),
        ),
    )


def result_types_chart(rows: pd.DataFrame, by: str = "model") -> go.Figure:
    """Requests that were not billed, per model or job: errored, expired and canceled.

    Drawn on their own scale, apart from the succeeded requests (which the page counts), so a
    handful of failures among thousands of successes is plain to see, never a sliver.
    """
    title = f"Requests not billed, by {by}"
    if rows.empty:
        return _empty(title, "No usage in the store for this period")
    kinds = [kind for kind in NOT_BILLED if kind in rows.columns]
    failed = rows[rows[kinds].sum(axis=1) > 0] if kinds else rows.iloc[0:0]
    if failed.empty:
        return _empty(title, "No errored, expired or canceled requests in this period")
    keys = _plain_all(failed["key"].astype(str))
    return go.Figure(
        data=[
            {
                "type": "bar",
                "name": kind,
                "x": keys,
                "y": failed[kind].tolist(),
                "marker": {"color": RESULT_COLOURS[kind]},
                "text": [f"{int(v):,}" if v else "" for v in failed[kind]],
                "textposition": "outside",
                "cliponaxis": False,
                "hovertemplate": f"<b>%{{x}}</b><br>{kind}: %{{y:,}}<extra></extra>",
            }
            for kind in kinds
        ],
        layout=_layout(
            title,
            barmode="group",
            xaxis={"title": {"text": by.capitalize()}, "automargin": True},
            yaxis={
                "title": {"text": "Requests"},
                "tickformat": ",d",
                "rangemode": "tozero",
                "automargin": True,
            },
        ),
    )


def prediction_vs_actual(
    labels: Sequence[str], predicted: Sequence[float], actual: Sequence[float], currency: str
) -> go.Figure:
    """The scenario's predicted cost beside the measured one, each for the same span of days."""
    hover = "<b>%{x}</b><br>%{fullData.name}: " + money_hover(currency) + "<extra></extra>"
    return go.Figure(
        data=[
            {
                "type": "bar",
                "name": "Predicted (scenario)",
                "x": _plain_all(labels),
                "y": np.asarray(predicted, dtype=float).tolist(),
                "marker": {"color": "#9ca3af"},
                "hovertemplate": hover,
            },
            {
                "type": "bar",
                "name": "Measured (store)",
                "x": _plain_all(labels),
                "y": np.asarray(actual, dtype=float).tolist(),
                "marker": {"color": BATCH_COLOUR},
                "hovertemplate": hover,
            },
        ],
        layout=_layout(
            "Scenario prediction beside the actuals",
            barmode="group",
            xaxis={"automargin": True},
            yaxis=money_axis(currency, f"Cost ({currency})"),
        ),
    )
