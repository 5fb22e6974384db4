"""The finance report's tables, read from its ``costmodel.report/1`` contract, and its markdown.

Every layout (HTML, xlsx, markdown) lays out the same :func:`report_tables` and
:func:`headline`, so no format has a figure of its own. A table's ``total`` is the contract's
total, which the rows foot to (each money column is rounded by the largest-remainder method).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from costmodel.core.money import format_money, format_percent

__all__ = ["Column", "Table", "headline", "markdown_report", "report_tables"]

_KINDS: Final = ("text", "count", "money", "percent", "decimal")


@dataclass(frozen=True)
class Column:
    field: str
    label: str
    kind: str = "text"  # one of _KINDS: how a layout formats it; money and count columns sum


@dataclass(frozen=True)
class Table:
    key: str  # a short name: the xlsx sheet, the HTML anchor
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Mapping[str, Any], ...]
    total: Mapping[str, Any] | None = None
    # A total that is a difference of two others (field: (minuend, subtrahend)), not a sum.
    differences: Mapping[str, tuple[str, str]] | None = None

    @property
    def summed(self) -> tuple[Column, ...]:
        """Columns whose total is the sum of the rows (a spreadsheet formula can check it)."""
        skip = self.differences or {}
        return tuple(
            c for c in self.columns if c.kind in ("money", "count") and c.field not in skip
        )


_BATCH_COLUMNS: Final = (
    Column("succeeded", "Succeeded", "count"),
    Column("errored", "Errored", "count"),
    Column("canceled", "Canceled", "count"),
    Column("expired", "Expired", "count"),
    Column("input_tokens", "Input tokens", "count"),
    Column("output_tokens", "Output tokens", "count"),
    Column("cache_creation_input_tokens", "Cache writes", "count"),
    Column("cache_read_input_tokens", "Cache reads", "count"),
    Column("cost_billed", "Billed (batch)", "money"),
    Column("cost_if_sync", "If sync", "money"),
    Column("savings", "Savings", "money"),
)
_ORG_COLUMNS: Final = (
    Column("requests", "Requests", "count"),
    Column("sync_requests", "Sync requests", "count"),
    Column("batch_requests", "Batch requests", "count"),
    Column("unpriced_requests", "Unpriced requests", "count"),
    Column("reported_usd", "Reported", "money"),
    Column("reported_list_usd", "Reported list", "money"),
    Column("catalogue_list_usd", "Catalogue list", "money"),
    Column("sync_as_batch_usd", "Sync through batch", "money"),
)


def _money(value: Any) -> str:
    return "unpriced" if value is None else format_money(value)


def headline(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The figures a reader looks at first, as (label, shown value)."""
    out: list[tuple[str, str]] = []
    batches, org = data["batches"], data["org"]
    if batches is not None:
        totals = batches["totals"]
        ops = batches["operations"]
        out += [
            ("Billed (batch)", _money(totals["cost_billed"])),
            ("Had it run synchronously", _money(totals["cost_if_sync"])),
            ("Saved by the Batches API", _money(totals["savings"])),
            ("Requests", f"{int(totals['requests']):,}"),
            ("Success rate", format_percent(ops["success_rate_pct"], 2)),
            (
                "Turnaround p50 / p95",
                "not recorded"
                if ops["turnaround"]["p50_hours"] is None
                else f"{ops['turnaround']['p50_hours']:.1f} h / {ops['turnaround']['p95_hours']:.1f} h",
            ),
            ("Saved by prompt caching", _money(batches["cache"]["totals"]["saved"])),
        ]
    if org is not None:
        totals = org["totals"]
        rec = org["reconciliation"]
        out += [
            ("Organisation: reported", _money(totals["reported_usd"])),
            ("Organisation: catalogue list", _money(totals["catalogue_list_usd"])),
            (
                "Reconciliation",
                f"{rec['status']} ({rec['beyond_tolerance']:,} of {rec['cells']:,} cells beyond "
                f"{rec['tolerance_pct']:g}%)",
            ),
        ]
    margin = data["margin"]
    if margin is not None:
        out.append(("Gross margin", format_percent(margin["gross_margin_pct"], 2)))
        if margin["gross_margin_if_sync_pct"] is not None:
            out.append(
                (
                    "Gross margin had it run synchronously",
                    format_percent(margin["gross_margin_if_sync_pct"], 2),
                )
            )
    prediction = data["prediction"]
    if prediction is not None:
        totals = prediction["totals"]
        out.append(
            (
                "Measured against the scenario",
                f"{_money(totals['cost_actual'])} against {_money(totals['cost_modelled'])} "
                f"modelled ({_signed(totals['difference'])})",
            )
        )
    return out


def _signed(value: float) -> str:
    return ("+" if value >= 0 else "-") + format_money(abs(value))


def report_tables(data: Mapping[str, Any]) -> list[Table]:
    """Every table of the report, in reading order; none for a period with no data."""
    tables: list[Table] = []
    batches, org = data["batches"], data["org"]
    if batches is not None:
        totals = batches["totals"]
        for key, by, label in (
            ("by_model", "Model", "Batch cost by model"),
            ("by_job", "Job", "Batch cost by job"),
            ("by_day", "Day", "Batch cost by day"),
        ):
            tables.append(
                Table(
                    f"batch_{key}",
                    label,
                    (Column("key", by), *_BATCH_COLUMNS),
                    tuple(batches[key]),
                    {"key": "Total", **totals},
                )
            )
        ops = batches["operations"]
        tables.append(
            Table(
                "result_types",
                "Batch requests by result type",
                (
                    Column("type", "Result"),
                    Column("requests", "Requests", "count"),
                    Column("share_pct", "Share", "percent"),
                ),
                tuple(ops["result_types"]),
                {"type": "Total", "requests": ops["requests"], "share_pct": 100.0},
            )
        )
        spans = ops["turnaround"]
        if spans["batches"]:
            tables.append(
                Table(
                    "turnaround",
                    "Batch turnaround, creation to end (hours)",
                    (
                        Column("batches", "Batches timed", "count"),
                        Column("p50_hours", "p50", "decimal"),
                        Column("p95_hours", "p95", "decimal"),
                        Column("max_hours", "Max", "decimal"),
                        Column("unknown_batches", "Not timed", "count"),
                    ),
                    (spans,),
                )
            )
        if ops["errors_by_type"]:
            tables.append(
                Table(
                    "error_types",
                    "Errored requests by error type",
                    (
                        Column("type", "Error type"),
                        Column("requests", "Requests", "count"),
                        Column("share_pct", "Share", "percent"),
                    ),
                    tuple(ops["errors_by_type"]),
                    {
                        "type": "Total",
                        "requests": sum(e["requests"] for e in ops["errors_by_type"]),
                        "share_pct": 100.0,
                    },
                )
            )
        cache = batches["cache"]
        tables.append(
            Table(
                "cache",
                "Prompt caching by model",
                (
                    Column("key", "Model"),
                    Column("prompt_tokens", "Prompt tokens", "count"),
                    Column("input_tokens", "Uncached input", "count"),
                    Column("cache_write_tokens", "Cache writes", "count"),
                    Column("cache_read_tokens", "Cache reads", "count"),
                    Column("cache_read_share_pct", "Read from cache", "percent"),
                    Column("saved", "Saved by caching", "money"),
                ),
                tuple(cache["by_model"]),
                {"key": "Total", **cache["totals"]},
            )
        )
    prediction = data["prediction"]
    if prediction is not None:
        tables.append(
            Table(
                "prediction",
                f"The scenario's prediction against measured: {prediction['scenario']}",
                (
                    Column("workload", "Workload"),
                    Column("status", "Status"),
                    Column("requests_modelled", "Requests modelled", "decimal"),
                    Column("requests_actual", "Requests measured", "count"),
                    Column("cost_modelled", "Modelled", "money"),
                    Column("cost_actual", "Measured", "money"),
                    Column("difference", "Gap", "money"),
                    Column("volume", "Volume", "money"),
                    Column("mix", "Token mix", "money"),
                    Column("price", "Price", "money"),
                ),
                tuple(prediction["lines"]),
                {
                    "workload": "Total",
                    "status": "",
                    **prediction["totals"],
                },
                # measured - modelled, as the contract's total (an unpriced line has no gap)
                differences={"difference": ("cost_actual", "cost_modelled")},
            )
        )
    if org is not None:
        for key, by, label in (
            ("by_model", "Model", "Organisation cost by model"),
            ("by_workspace", "Workspace", "Organisation cost by workspace"),
            ("by_tier", "Service tier", "Organisation cost by service tier"),
            ("by_day", "Day", "Organisation cost by day"),
        ):
            tables.append(
                Table(
                    f"org_{key}",
                    label,
                    (Column("key", by), *_ORG_COLUMNS),
                    tuple(org[key]),
                    {"key": "Total", **org["totals"]},
                )
            )
    margin = data["margin"]
    if margin is not None:
        rows = [
            ("Revenue", "revenue", "revenue"),
            ("Other costs of goods sold", "other_cogs", "other_cogs"),
            ("Inference", "inference", "inference_if_sync"),
            ("Costs of goods sold", "cogs", "cogs_if_sync"),
            ("Gross profit", "gross_profit", "gross_profit_if_sync"),
        ]
        sync = margin["inference_if_sync"] is not None
        records = [
            {"figure": label, "billed": margin[a], **({"if_sync": margin.get(b)} if sync else {})}
            for label, a, b in rows
        ]
        columns = [Column("figure", "Figure"), Column("billed", "As billed", "money")]
        if sync:
            columns.append(Column("if_sync", "Had it run synchronously", "money"))
        margin_rows = [
            *records,
            {
                "figure": "Gross margin %",
                "billed": margin["gross_margin_pct"],
                **({"if_sync": margin["gross_margin_if_sync_pct"]} if sync else {}),
            },
        ]
        tables.append(
            Table(
                "margin",
                f"Gross margin, inference from the {margin['inference_source']}",
                tuple(columns),
                tuple(margin_rows),
            )
        )
    return tables


def unpriced(row: Mapping[str, Any]) -> bool:
    """Whether a missing money figure of ``row`` means unpriced usage (else: not applicable,
    such as the batch tier's "sync through batch")."""
    return (
        row.get("priced") is False
        or row.get("status") == "unpriced"
        or bool(row.get("unpriced_requests"))
    )


def shown(column: Column, value: Any, row: Mapping[str, Any] | None = None) -> str:
    """A cell as the text layouts show it."""
    if value is None:
        if column.kind == "money" and (row is None or unpriced(row)):
            return "unpriced"
        return ""
    if isinstance(value, str):
        return value
    if column.kind == "money":
        return format_money(value)
    if column.kind == "percent":
        return format_percent(float(value), 2)
    if column.kind == "count":
        return f"{int(value):,}"
    if column.kind == "decimal":
        return f"{float(value):,.2f}"
    return str(value)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(table: Table) -> list[str]:
    lines = [
        "| " + " | ".join(_md(c.label) for c in table.columns) + " |",
        "|" + "|".join("---:" if c.kind != "text" else "---" for c in table.columns) + "|",
    ]
    rows = list(table.rows) + ([table.total] if table.total is not None else [])
    for index, row in enumerate(rows):
        cells = [_md(_row_cell(table, c, row)) for c in table.columns]
        if table.total is not None and index == len(rows) - 1:
            cells = [f"**{cell}**" if cell else cell for cell in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _row_cell(table: Table, column: Column, row: Mapping[str, Any]) -> str:
    value = row.get(column.field)
    if table.key == "margin" and row.get("figure") == "Gross margin %" and column.kind == "money":
        return format_percent(float(value), 2) if value is not None else ""
    return shown(column, value, row)


def markdown_report(data: Mapping[str, Any]) -> str:
    """The report as markdown that pastes into a memo."""
    period = data["period"]
    lines = [f"# {_md(data['title'])}", ""]
    lines.append(
        f"{period['since']} to {period['last_day']} ({period['days']} days), in "
        f"{data['currency']}; prices from the catalogue checked {data['catalogue_checked']}."
    )
    if data["demo"]:
        lines += ["", "**Demo data: generated usage, not yours.**"]
    lines.append("")
    if data["empty"]:
        lines += [str(data["empty_message"]), ""]
    else:
        lines += [f"- **{_md(label)}:** {_md(value)}" for label, value in headline(data)]
        lines.append("")
        for table in report_tables(data):
            lines += [f"## {_md(table.title)}", "", *_md_table(table), ""]
            if table.key == "prediction":
                lines += [f"_{_md(data['prediction']['formula'])}_", ""]
            if table.key == "result_types":
                lines += [f"_{_md(data['batches']['operations']['note'])}_", ""]
            if table.key == "cache":
                lines += [f"_{_md(data['batches']['cache']['method'])}_", ""]
    if data["notes"]:
        lines += ["## Notes", "", *[f"- {_md(note)}" for note in data["notes"]], ""]
    return "\n".join(lines)
