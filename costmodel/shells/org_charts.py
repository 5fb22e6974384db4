"""Plotly figures for the Organisation and Assessment pages. No Streamlit, no figures of their own.

Each builder takes a library result (:class:`~costmodel.core.org_summary.OrgSummary`,
:class:`~costmodel.core.assess.Assessment`) and plots the amounts it shows, rounded to the cent as
its tables are, with money on the axes and in the hover text (``$,.2f``).
"""

from __future__ import annotations

from typing import Any, Final

import plotly.graph_objects as go

from costmodel.shells.charts import BATCH_COLOUR, SYNC_COLOUR, money_axis, money_hover

__all__ = ["assessment_savings_chart", "org_spend_chart", "request_mix_chart"]

REPORTED_COLOUR: Final = "#334155"
OTHER_COLOUR: Final = "#a3a3a3"
HEIGHT: Final = 400


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 16}},
        "template": {"layout": {"paper_bgcolor": "white", "plot_bgcolor": "white"}},
        "height": HEIGHT,
        "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
        "legend": {"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom"},
        "hoverlabel": {"namelength": -1},
    }
    layout.update(extra)
    return layout


def _bars(name: str, x: list[str], y: list[Any], colour: str) -> dict[str, Any]:
    return {
        "type": "bar",
        "name": name,
        "x": x,
        "y": y,
        "marker": {"color": colour},
        "hovertemplate": "<b>%{x}</b><br>%{fullData.name}: "
        + money_hover("USD")
        + "<extra></extra>",
    }


def org_spend_chart(summary: Any) -> go.Figure:
    """Reported spend, the catalogue's list cost of the same usage, and the synchronous part
    through the Batches API, per key of an :class:`~costmodel.core.org_summary.OrgSummary`."""
    rows = summary.shown()[:-1]
    keys = [str(r["key"]) for r in rows]

    def column(name: str) -> list[Any]:
        return [None if r[name] is None else float(r[name]) for r in rows]

    by = summary.by.replace("_", " ")
    return go.Figure(
        data=[
            _bars("Reported (amount)", keys, column("reported_usd"), REPORTED_COLOUR),
            _bars("Catalogue list", keys, column("catalogue_list_usd"), SYNC_COLOUR),
            _bars("Sync part through batch", keys, column("sync_as_batch_usd"), BATCH_COLOUR),
        ],
        layout=_layout(
            f"Spend by {by}",
            barmode="group",
            xaxis={"title": {"text": by.capitalize()}, "automargin": True},
            yaxis=money_axis("USD", "Cost (USD)"),
        ),
    )


def request_mix_chart(mix: dict[str, int]) -> go.Figure:
    """Requests served synchronously against through the Batches API (a donut)."""
    labels = [label for label, count in mix.items() if count]
    colours = {"Synchronous": SYNC_COLOUR, "Batch": BATCH_COLOUR}
    return go.Figure(
        data=[
            {
                "type": "pie",
                "hole": 0.5,
                "labels": labels,
                "values": [mix[label] for label in labels],
                "marker": {"colors": [colours.get(label, OTHER_COLOUR) for label in labels]},
                "sort": False,
                "hovertemplate": "%{label}: %{value:,} requests (%{percent})<extra></extra>",
            }
        ],
        layout=_layout("Requests: synchronous against batch"),
    )


def assessment_savings_chart(assessment: Any) -> go.Figure:
    """Monthly spend now and after the verdict, per workload of an assessment."""
    records = assessment.to_dict()["workloads"]
    names = [w["workload"] for w in records]
    return go.Figure(
        data=[
            _bars("Now (all synchronous)", names, [w["now_usd"] for w in records], SYNC_COLOUR),
            _bars("After the verdict", names, [w["after_usd"] for w in records], BATCH_COLOUR),
        ],
        layout=_layout(
            "Monthly spend by workload, now and after",
            barmode="group",
            xaxis={"title": {"text": "Workload"}, "automargin": True},
            yaxis=money_axis("USD", "Monthly cost (USD)"),
        ),
    )
