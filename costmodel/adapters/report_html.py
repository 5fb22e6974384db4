"""The finance report as one self-contained HTML file: its Plotly charts inline, plotly.js
embedded, no web font, no CDN, and a Content-Security-Policy that lets the page make no request
at all, so it opens offline and from an email attachment alike.

It lays out :func:`costmodel.adapters.report_layouts.report_tables` and ``headline`` from the report's
``costmodel.report/1`` contract; the charts plot the same rows.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any, Final

from costmodel.adapters.report_layouts import Table, _row_cell, headline, report_tables

__all__ = ["html_report"]

# Nothing but the page itself: inline scripts and styles, data: images (Plotly's own icons).
_CSP: Final = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; font-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'"
)
_FONT: Final = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"
_BILLED: Final = "#2563eb"
_SYNC: Final = "#cbd5e1"
_STYLE: Final = f"""
body {{ font-family: {_FONT}; color: #0f172a; margin: 0; background: #f8fafc; }}
main {{ max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }}
h1 {{ font-size: 26px; margin: 0 0 4px; }}
h2 {{ font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid #e2e8f0; padding-bottom: 4px; }}
p.period {{ color: #475569; margin: 0 0 16px; }}
.banner {{ background: #fef3c7; border: 1px solid #f59e0b; padding: 8px 12px; margin: 8px 0 16px; }}
.cards {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 10px; }}
.card {{ background: #fff; border: 1px solid #e2e8f0; border-radius: 6px; padding: 10px 12px; }}
.card .label {{ color: #475569; font-size: 12px; }}
.card .value {{ font-size: 19px; font-weight: 600; margin-top: 2px; font-variant-numeric: tabular-nums; }}
.card .value.long {{ font-size: 14px; font-weight: 600; }}
.charts {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 12px; }}
.chart {{ background: #fff; border: 1px solid #e2e8f0; border-radius: 6px; min-width: 0; }}
.scroll {{ overflow-x: auto; }}
table {{ border-collapse: collapse; background: #fff; font-size: 12px; margin: 4px 0; }}
th, td {{ border: 1px solid #e2e8f0; padding: 3px 6px; white-space: nowrap; }}
th {{ background: #f1f5f9; text-align: left; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
tr.total td {{ font-weight: 600; background: #f8fafc; }}
p.method, ul.notes {{ color: #334155; font-size: 13px; }}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _table(table: Table) -> str:
    head = "".join(f"<th>{_e(c.label)}</th>" for c in table.columns)
    body = []
    rows = [*table.rows, *([table.total] if table.total is not None else [])]
    for index, row in enumerate(rows):
        total = table.total is not None and index == len(rows) - 1
        cells = "".join(
            f'<td class="{"num" if c.kind != "text" else "text"}">{_e(_row_cell(table, c, row))}</td>'
            for c in table.columns
        )
        body.append(f'<tr class="{"total" if total else "row"}">{cells}</tr>')
    return (
        f'<h2 id="{_e(table.key)}">{_e(table.title)}</h2><div class="scroll"><table>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _labels(rows: Any, field: str = "key") -> list[str]:
    """Category labels for a chart: Plotly reads a few tags in labels (<a href>, <b>), so a
    name from the data (a custom_id prefix) must not carry one."""
    return [str(r[field]).replace("<", "\u2039").replace(">", "\u203a") for r in rows]


def _figures(data: Mapping[str, Any]) -> list[tuple[str, Any]]:
    import plotly.graph_objects as go

    figures: list[tuple[str, Any]] = []
    layout = {
        "font": {"family": _FONT, "size": 12},
        "margin": {"l": 60, "r": 20, "t": 48, "b": 48},
        "height": 340,
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "legend": {"orientation": "h", "y": -0.2},
        "yaxis": {"tickprefix": "$", "gridcolor": "#e2e8f0"},
    }
    batches = data["batches"]
    if batches is not None:
        days = batches["by_day"]
        figure = go.Figure(
            [
                go.Bar(
                    name="Had it run synchronously",
                    x=_labels(days),
                    y=[r["cost_if_sync"] for r in days],
                    marker_color=_SYNC,
                ),
                go.Bar(
                    name="Billed (batch)",
                    x=_labels(days),
                    y=[r["cost_billed"] for r in days],
                    marker_color=_BILLED,
                ),
            ]
        )
        figure.update_layout(title="Batch cost by day (USD)", barmode="overlay", **layout)
        figures.append(("chart-batch-day", figure))
        # Rows with no succeeded request (errored ones name no model) have nothing to draw.
        models = [r for r in batches["by_model"] if r["cost_billed"] is not None and r["succeeded"]]
        figure = go.Figure(
            [
                go.Bar(
                    name="Had it run synchronously",
                    x=_labels(models),
                    y=[r["cost_if_sync"] for r in models],
                    marker_color=_SYNC,
                ),
                go.Bar(
                    name="Billed (batch)",
                    x=_labels(models),
                    y=[r["cost_billed"] for r in models],
                    marker_color=_BILLED,
                ),
            ]
        )
        figure.update_layout(title="Batch cost by model (USD)", barmode="group", **layout)
        figures.append(("chart-batch-model", figure))
        jobs = [r for r in batches["by_job"] if r["cost_billed"] is not None and r["succeeded"]]
        figure = go.Figure(
            go.Bar(
                x=[r["cost_billed"] for r in jobs],
                y=_labels(jobs),
                orientation="h",
                marker_color=_BILLED,
            )
        )
        job_layout = {**layout, "xaxis": {"tickprefix": "$"}, "yaxis": {"automargin": True}}
        figure.update_layout(title="Billed by job (USD)", **job_layout)
        figures.append(("chart-batch-job", figure))
        ops = batches["operations"]
        figure = go.Figure(
            go.Bar(
                x=[r["type"] for r in ops["result_types"]],
                y=[r["requests"] for r in ops["result_types"]],
                marker_color=["#16a34a", "#dc2626", "#94a3b8", "#f59e0b"],
            )
        )
        counts = {**layout, "yaxis": {"gridcolor": "#e2e8f0", "type": "log", "dtick": 1}}
        figure.update_layout(
            title=f"Requests by result type (success rate {ops['success_rate_pct']}%)", **counts
        )
        figures.append(("chart-results", figure))
    prediction = data["prediction"]
    if prediction is not None:
        totals = prediction["totals"]
        start = totals["cost_actual"] - totals["decomposed_gap"]
        figure = go.Figure(
            go.Waterfall(
                x=["Modelled", "Volume", "Token mix", "Price", "Measured"],
                measure=["absolute", "relative", "relative", "relative", "total"],
                y=[start, totals["volume"], totals["mix"], totals["price"], totals["cost_actual"]],
                connector={"line": {"color": "#94a3b8"}},
            )
        )
        figure.update_layout(title="The scenario's prediction against measured (USD)", **layout)
        figures.append(("chart-prediction", figure))
    org = data["org"]
    if org is not None:
        days = org["by_day"]
        figure = go.Figure(
            [
                go.Bar(
                    name="Reported list",
                    x=_labels(days),
                    y=[r["reported_list_usd"] for r in days],
                    marker_color=_SYNC,
                ),
                go.Bar(
                    name="Reported",
                    x=_labels(days),
                    y=[r["reported_usd"] for r in days],
                    marker_color=_BILLED,
                ),
            ]
        )
        figure.update_layout(title="Organisation cost by day (USD)", barmode="overlay", **layout)
        figures.append(("chart-org-day", figure))
    return figures


def html_report(data: Mapping[str, Any]) -> str:
    """The report as one HTML document that needs nothing beyond itself."""
    from plotly.offline import get_plotlyjs

    period = data["period"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(data['title'])}</title><style>{_STYLE}</style>",
        f"<script>{get_plotlyjs()}</script></head><body><main>",
        f"<h1>{_e(data['title'])}</h1>",
        f'<p class="period">{_e(period["since"])} to {_e(period["last_day"])} '
        f"({period['days']} days), in {_e(data['currency'])}; prices from the catalogue "
        f"checked {_e(data['catalogue_checked'])}. Source: {_e(data['source'])}.</p>",
    ]
    if data["demo"]:
        parts.append('<p class="banner">Demo data: generated usage, not yours.</p>')
    if data["empty"]:
        parts.append(f'<p class="banner" id="empty">{_e(data["empty_message"])}</p>')
    else:
        cards = "".join(
            f'<div class="card"><div class="label">{_e(label)}</div>'
            f'<div class="value{" long" if len(value) > 18 else ""}">{_e(value)}</div></div>'
            for label, value in headline(data)
        )
        parts.append(f'<section class="cards" id="headline">{cards}</section>')
        charts = []
        for div_id, figure in _figures(data):
            charts.append(
                '<div class="chart">'
                + figure.to_html(
                    full_html=False,
                    include_plotlyjs=False,
                    div_id=div_id,
                    default_width="100%",
                    default_height="340px",
                    config={"displaylogo": False, "responsive": True},
                )
                + "</div>"
            )
        parts.append(f'<h2>Charts</h2><section class="charts">{"".join(charts)}</section>')
        for table in report_tables(data):
            parts.append(_table(table))
            if table.key == "prediction":
                parts.append(f'<p class="method">{_e(data["prediction"]["formula"])}</p>')
            if table.key == "result_types":
                parts.append(f'<p class="method">{_e(data["batches"]["operations"]["note"])}</p>')
            if table.key == "cache":
                parts.append(f'<p class="method">{_e(data["batches"]["cache"]["method"])}</p>')
    if data["notes"]:
        notes = "".join(f"<li>{_e(note)}</li>" for note in data["notes"])
        parts.append(f'<h2>Notes</h2><ul class="notes">{notes}</ul>')
    parts.append("</main></body></html>")
    return "\n".join(parts)
