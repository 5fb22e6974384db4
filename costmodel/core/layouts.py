"""Layouts: each result as titled tables (:class:`Section`) for the table, CSV and markdown
renderers; formatted text, never new figures."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import pandas as pd

from costmodel.core.catalogue import RATE_FIELDS
from costmodel.core.frames import object_column, with_total
from costmodel.core.margin import MarginImpact
from costmodel.core.money import (
    PERCENT,
    format_money,
    format_percent,
    format_points,
)
from costmodel.core.results import PLAN_COSTS, common_currency

if TYPE_CHECKING:
    from costmodel.core.results import (
        Comparison,
        PriceList,
        Records,
        ScenarioDiff,
        ScenarioRun,
        ValidationReport,
    )


@dataclass(frozen=True)
class Section:
    """A titled table for the renderers. Column kinds drive formatting: money, percent, count."""

    title: str
    frame: pd.DataFrame
    money: tuple[str, ...] = ()
    percent: tuple[str, ...] = ()
    points: tuple[str, ...] = ()
    counts: tuple[str, ...] = ()
    figures: tuple[str, ...] = ()  # already formatted as text, aligned as numbers


def _margin_section(m: MarginImpact, currency: str, a: dict[str, Decimal]) -> Section:
    rows: list[tuple[str, object, object]] = [
        ("Revenue", a["revenue"], a["revenue"]),
        ("Other COGS", a["other_cogs"], a["other_cogs"]),
        ("Inference", a["inference_sync"], a["inference_batch"]),
        ("COGS", a["cogs_sync"], a["cogs_batch"]),
        ("Gross profit", a["gross_profit_sync"], a["gross_profit_batch"]),
    ]
    frame = pd.DataFrame(rows, columns=["Figure (monthly)", "Sync", "Batch plan"])
    summary = [
        (
            "Gross margin",
            format_percent(m.gross_margin_sync_pct, 2),
            format_percent(m.gross_margin_batch_pct, 2),
        ),
        ("Change in gross margin", "", format_points(m.delta_pp)),
        ("Annual savings", "", format_money(m.annual_savings, currency)),
    ]
    if m.savings_per_customer is not None:
        summary.append(
            ("Savings per customer (monthly)", "", format_money(m.savings_per_customer, currency))
        )
    if m.equivalent_revenue is not None:
        summary.append(
            (
                "Revenue earning the same gross profit",
                "",
                format_money(m.equivalent_revenue, currency),
            )
        )
    figures = frame.astype(object)
    for column in ("Sync", "Batch plan"):
        figures[column] = [format_money(v, currency) for v in frame[column]]
    full = pd.concat([figures, pd.DataFrame(summary, columns=frame.columns)], ignore_index=True)
    return Section("Gross margin", full, figures=("Sync", "Batch plan"))


def _rate(value: Decimal | None) -> str:
    """A published rate as people write prices: at least two decimals, no trailing noise."""
    if value is None:
        return "-"
    text = f"{value:,.4f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


def run_sections(run: ScenarioRun) -> list[Section]:
    frame = run.workloads[
        [
            "name",
            "model",
            "requests",
            "input_tokens",
            "output_tokens",
            "batch_share",
            "cost_sync",
            "cost_batch",
            "savings",
        ]
    ].copy()
    frame["batch_share"] = frame["batch_share"] * PERCENT
    shown = {column: run.shown(column) for column in PLAN_COSTS}
    frame["cost_sync"] = object_column(frame, shown["cost_sync"][0])
    frame["cost_batch"] = object_column(frame, shown["cost_batch"][0])
    frame["savings"] = object_column(
        frame, (a - b for a, b in zip(shown["cost_sync"][0], shown["cost_batch"][0], strict=True))
    )
    total = {
        "name": "Total",
        "model": "",
        "requests": run.requests,
        "input_tokens": frame["input_tokens"].sum(),
        "output_tokens": frame["output_tokens"].sum(),
        "batch_share": math.nan,
        "cost_sync": shown["cost_sync"][1],
        "cost_batch": shown["cost_batch"][1],
        "savings": shown["cost_sync"][1] - shown["cost_batch"][1],
    }
    frame = with_total(frame, total)
    frame.columns = [
        "Workload",
        "Model",
        "Requests",
        "Input tokens",
        "Output tokens",
        "Batch share",
        "Sync",
        "Batch plan",
        "Savings",
    ]
    money: tuple[str, ...] = ("Sync", "Batch plan", "Savings")
    if run.contract:
        frame.insert(6, "List sync", [*shown["list_cost_sync"][0], shown["list_cost_sync"][1]])
        frame.insert(7, "List batch", [*shown["list_cost_batch"][0], shown["list_cost_batch"][1]])
        money = ("List sync", "List batch", *money)
    sections = [
        Section(
            f"{run.scenario.name}: monthly cost ({run.currency})",
            frame,
            money=money,
            percent=("Batch share",),
            counts=("Requests", "Input tokens", "Output tokens"),
        )
    ]
    if run.margin is not None:
        amounts = run._shown_margin()
        assert amounts is not None
        sections.append(_margin_section(run.margin, run.currency, amounts))
    return sections


def comparison_sections(comparison: Comparison) -> list[Section]:
    return [
        Section(
            f"{comparison.title} (monthly, {common_currency(comparison.runs)})",
            comparison.frame(),
            money=("Sync cost", "Batch plan cost", "Savings"),
            percent=("Savings %", "Gross margin sync", "Gross margin batch"),
            points=("Change (pp)",),
            counts=("Requests/month",),
        )
    ]


def diff_sections(diff: ScenarioDiff) -> list[Section]:
    frame = diff.lines[
        [
            "workload",
            "status",
            "model_baseline",
            "model_proposed",
            "requests_baseline",
            "requests_proposed",
            "cost_baseline",
            "cost_proposed",
            "change",
        ]
    ].copy()
    total = {
        "workload": "Total",
        "status": "",
        "model_baseline": "",
        "model_proposed": "",
        "requests_baseline": frame["requests_baseline"].sum(),
        "requests_proposed": frame["requests_proposed"].sum(),
        "cost_baseline": diff.cost_baseline,
        "cost_proposed": diff.cost_proposed,
        "change": diff.change,
    }
    frame = with_total(frame, total)
    frame.columns = [
        "Workload",
        "Status",
        "Model before",
        "Model after",
        "Requests before",
        "Requests after",
        "Cost before",
        "Cost after",
        "Change",
    ]
    sections = [
        Section(
            f"Monthly cost, {diff.plan} plan ({common_currency((diff.baseline, diff.proposed))})",
            frame,
            money=("Cost before", "Cost after", "Change"),
            counts=("Requests before", "Requests after"),
        )
    ]
    gm_base, gm_new = diff._margin_pct(diff.baseline), diff._margin_pct(diff.proposed)
    if gm_base is not None and gm_new is not None:
        sections.append(
            Section(
                "Gross margin",
                pd.DataFrame(
                    [{"Before": gm_base, "After": gm_new, "Change (pp)": gm_new - gm_base}]
                ),
                percent=("Before", "After"),
                points=("Change (pp)",),
            )
        )
    return sections


def prices_sections(prices: PriceList) -> list[Section]:
    frame = prices.rows.copy()
    flagged = frame["third_party"]
    for column in RATE_FIELDS:
        frame[column] = [
            "-" if value is None else f"{_rate(value)}{'*' if column in flags else ''}"
            for value, flags in zip(frame[column], flagged, strict=True)
        ]
    # The full URL is in the JSON and CSV; the table keeps the part a reader needs.
    frame["source"] = frame["source"].str.replace(r"^https?://", "", regex=True)
    frame = frame[["model", "status", *RATE_FIELDS, "long_context", "from", "source"]].rename(
        columns={
            "model": "Model",
            "status": "Status",
            "input_mtok": "Input",
            "output_mtok": "Output",
            "cache_write_5m_mtok": "5m write",
            "cache_write_1h_mtok": "1h write",
            "cache_read_mtok": "Cache read",
            "long_context": "Long context",
            "from": "Since",
            "source": "Source",
        }
    )
    frame["Long context"] = frame["Long context"].fillna("")
    # Rates are numbers (with a * flag): aligned as numbers and never folded in a table.
    rates = ("Input", "Output", "5m write", "1h write", "Cache read")
    return [Section(prices.title, frame, figures=rates)]


def records_sections(records: Records) -> list[Section]:
    frame = records.csv_frame()
    counts = tuple(c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]))
    return [Section(records.heading, frame, counts=counts)]


def validation_sections(validation: ValidationReport) -> list[Section]:
    frame = validation.csv_frame().rename(
        columns={"file": "File", "ok": "OK", "workloads": "Workloads", "problem": "Problem"}
    )
    frame["OK"] = frame["OK"].map({True: "yes", False: "no"})
    return [Section(validation.title, frame, counts=("Workloads",))]
