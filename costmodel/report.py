"""One result object per question, computed once and read by every renderer and the dashboard.

- :func:`run_scenario` -> :class:`ScenarioRun`: a scenario's monthly cost sync against its batch
  plan, per workload and in total, and the margin impact where the scenario has a business block.
- :func:`compare_runs` -> :class:`Comparison`: several scenarios side by side.
- :func:`diff_runs` -> :class:`ScenarioDiff`: what a proposed scenario changes against a baseline.
- :func:`price_list` -> :class:`PriceList`: the catalogue as a table.

Each result has ``to_dict()`` (the JSON contract, documented in the README) and ``sections()``
(titled tables for the table, CSV and markdown renderers). Figures from scenarios are
assumptions: every result names the file they came from.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import pandas as pd

from costmodel.catalogue import RATE_FIELDS, Catalogue, bundled_catalogue, load_price_file
from costmodel.errors import CostModelError
from costmodel.margin import MarginImpact, in_currency, margin_impact
from costmodel.money import (
    allocate_cents,
    format_money,
    format_percent,
    format_points,
    quantize_cents,
    round_cents,
)
from costmodel.pricing import PricedUsage, price_usage
from costmodel.scenario import Currency, Scenario, usage_for_plan

__all__ = [
    "SCHEMAS",
    "Comparison",
    "PriceList",
    "Records",
    "ScenarioDiff",
    "ScenarioRun",
    "Section",
    "catalogue_for",
    "compare_runs",
    "diff_runs",
    "price_list",
    "run_scenario",
    "validate_files",
]


# Every JSON object names its contract and version here, and nowhere else (README, "JSON output").
# A version goes up when a field changes meaning or goes away; added fields keep the version.
SCHEMAS: Final = {
    "run": "costmodel.run/2",
    "compare": "costmodel.compare/2",
    "diff": "costmodel.diff/2",
    "prices": "costmodel.prices/2",
    "validate": "costmodel.validate/1",
    "usage_summary": "costmodel.usage_summary/2",
    "actual": "costmodel.actual/1",
    "calibrate": "costmodel.calibrate/1",
    "import": "costmodel.import/1",
    "pull": "costmodel.pull/1",
    "org_pull": "costmodel.org_pull/1",
    "org_summary": "costmodel.org_summary/1",
    "reconcile": "costmodel.reconcile/1",
    "assess": "costmodel.assess/1",
    "ops": "costmodel.ops/1",
}
_PLAN_COSTS: Final = ("cost_sync", "cost_batch", "list_cost_sync", "list_cost_batch")


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


@dataclass(frozen=True)
class ScenarioRun:
    scenario: Scenario
    workloads: pd.DataFrame  # one row per workload; money in ``currency``
    margin: MarginImpact | None
    currency: str
    fx: Currency | None
    contract: str | None
    price_date: date
    catalogue_checked: date
    notes: tuple[str, ...] = ()
    # Exact amounts in ``currency``: one row per workload (in ``workloads`` order), columns
    # cost_sync, cost_batch, list_cost_sync, list_cost_batch as Decimal. ``workloads`` holds
    # the same amounts as floats, for charts.
    exact: pd.DataFrame | None = field(default=None, repr=False)
    # The pricing engine's exact cost lines (USD), with a ``plan`` column (sync, batch).
    lines: pd.DataFrame | None = field(default=None, repr=False)
    per_usd: Decimal = Decimal(1)  # units of ``currency`` per USD

    # -- totals ---------------------------------------------------------------------------------
    def exact_total(self, column: str) -> Decimal:
        """The exact total of a cost column (see ``exact``), unrounded."""
        if self.exact is None:
            return Decimal(repr(float(self.workloads[column].sum())))
        return sum(self.exact[column], Decimal(0))

    def shown(self, column: str) -> tuple[list[Decimal], Decimal]:
        """The figures a table shows for a cost column: the parts, rounded so that they add up
        to the total, and the total (the exact sum rounded once)."""
        if self.exact is None:
            parts = [Decimal(repr(float(v))) for v in self.workloads[column]]
        else:
            parts = list(self.exact[column])
        total = quantize_cents(sum(parts, Decimal(0)))
        return allocate_cents(parts, total), total

    # Floats of the exact totals, for charts and comparisons; what a table or export shows
    # comes from shown(), where the savings are the difference of the rounded figures.
    @property
    def cost_sync(self) -> float:
        return float(self.exact_total("cost_sync"))

    @property
    def cost_batch(self) -> float:
        return float(self.exact_total("cost_batch"))

    @property
    def savings(self) -> float:
        return float(self.exact_total("cost_sync") - self.exact_total("cost_batch"))

    @property
    def shown_savings(self) -> Decimal:
        """The savings as every table shows them: rounded sync minus rounded batch plan."""
        return self.shown("cost_sync")[1] - self.shown("cost_batch")[1]

    @property
    def savings_pct(self) -> float:
        sync = self.exact_total("cost_sync")
        if not sync:
            return 0.0
        return float(100 * (sync - self.exact_total("cost_batch")) / sync)

    @property
    def requests(self) -> float:
        return float(self.workloads["requests"].sum())

    @property
    def title(self) -> str:
        return self.scenario.name

    # -- outputs --------------------------------------------------------------------------------
    def _shown_margin(self) -> dict[str, Decimal] | None:
        """The margin table's amounts as shown: inference is the shown total, COGS = other
        COGS + inference and gross profit = revenue - COGS, so the table foots."""
        if self.margin is None:
            return None
        m = self.margin
        revenue, other = quantize_cents(m.revenue), quantize_cents(m.other_cogs)
        out = {"revenue": revenue, "other_cogs": other}
        for plan in ("sync", "batch"):
            inference = self.shown(f"cost_{plan}")[1]
            out[f"inference_{plan}"] = inference
            out[f"cogs_{plan}"] = other + inference
            out[f"gross_profit_{plan}"] = revenue - other - inference
        return out

    def _components(self, index: int, name: str) -> list[dict[str, Any]]:
        """The workload's cost by component and price key, both plans, footing to its costs."""
        if self.lines is None or self.lines.empty:
            return []
        shown = {column: self.shown(column)[0][index] for column in _PLAN_COSTS}
        out: list[dict[str, Any]] = []
        for plan in ("sync", "batch"):
            lines = self.lines[(self.lines["group"] == name) & (self.lines["plan"] == plan)]
            costs = [c * self.per_usd for c in lines["cost_contracted"]]
            listed = [c * self.per_usd for c in lines["cost"]]
            cost_parts = allocate_cents(costs, shown[f"cost_{plan}"])
            list_parts = allocate_cents(listed, shown[f"list_cost_{plan}"])
            for line, cost, list_cost in zip(
                lines.itertuples(index=False), cost_parts, list_parts, strict=True
            ):
                out.append(
                    {
                        "plan": plan,
                        "component": line.component,
                        "tier": line.tier,
                        "model": line.model_id,
                        "price_from": line.price_from,
                        "long_context": line.long_context,
                        "inference_geo": line.inference_geo,
                        "speed": line.speed,
                        "quantity": _number(float(line.quantity)),
                        "unit": line.unit,
                        "rate": float(line.rate * self.per_usd),
                        "cost": float(cost),
                        "list_cost": float(list_cost),
                    }
                )
        return out

    def to_dict(self) -> dict[str, Any]:
        shown = {column: self.shown(column) for column in _PLAN_COSTS}
        workloads = []
        for index, row in enumerate(self.workloads.itertuples(index=False)):
            sync, batch = shown["cost_sync"][0][index], shown["cost_batch"][0][index]
            write_5m = float(row.cache_write_5m_tokens)
            write_1h = float(row.cache_write_1h_tokens)
            workloads.append(
                {
                    "name": row.name,
                    "model": row.model,
                    "requests": _number(row.requests),
                    "input_tokens": _number(row.input_tokens),
                    "output_tokens": _number(row.output_tokens),
                    # 5-minute + 1-hour writes; an alias of cache_creation_input_tokens
                    "cache_write_tokens": _number(row.cache_write_tokens),
                    # alias of cache_read_input_tokens
                    "cache_read_tokens": _number(row.cache_read_tokens),
                    "cache_creation_input_tokens": _number(write_5m + write_1h),
                    "cache_creation": {
                        "ephemeral_5m_input_tokens": _number(write_5m),
                        "ephemeral_1h_input_tokens": _number(write_1h),
                    },
                    "cache_read_input_tokens": _number(row.cache_read_tokens),
                    "server_tool_use": {"web_search_requests": _number(row.web_search_requests)},
                    "batch_share": _number(row.batch_share),
                    "cost_sync": float(sync),
                    "cost_batch": float(batch),
                    "savings": float(sync - batch),
                    "list_cost_sync": float(shown["list_cost_sync"][0][index]),
                    "list_cost_batch": float(shown["list_cost_batch"][0][index]),
                    "components": self._components(index, row.name),
                }
            )
        margin = None
        if self.margin is not None:
            m = self.margin
            amounts = self._shown_margin()
            assert amounts is not None
            margin = {
                "revenue": float(amounts["revenue"]),
                "other_cogs": float(amounts["other_cogs"]),
                "cogs_sync": float(amounts["cogs_sync"]),
                "cogs_batch": float(amounts["cogs_batch"]),
                "gross_margin_sync_pct": _number(m.gross_margin_sync_pct, 4),
                "gross_margin_batch_pct": _number(m.gross_margin_batch_pct, 4),
                "delta_pp": _number(m.delta_pp, 4),
                "annual_savings": _money(m.annual_savings),
                "customers": _number(m.customers) if m.customers is not None else None,
                "savings_per_customer": _money(m.savings_per_customer)
                if m.savings_per_customer is not None
                else None,
                "equivalent_revenue": _money(m.equivalent_revenue)
                if m.equivalent_revenue is not None
                else None,
                "inference_sync": float(amounts["inference_sync"]),
                "inference_batch": float(amounts["inference_batch"]),
                "gross_profit_sync": float(amounts["gross_profit_sync"]),
                "gross_profit_batch": float(amounts["gross_profit_batch"]),
            }
        totals_by_component = self._component_totals()
        return {
            "schema": SCHEMAS["run"],
            "scenario": self.scenario.name,
            "source": self.scenario.source,
            "period": "month",
            "currency": self.currency,
            "scenario_currency": self.scenario.currency.code if self.scenario.currency else "USD",
            "fx": _fx_dict(self.fx),
            "price_date": self.price_date.isoformat(),
            "catalogue_checked": self.catalogue_checked.isoformat(),
            "contract": self.contract,
            "workloads": workloads,
            "totals": {
                "requests": _number(self.requests),
                "cost_sync": float(shown["cost_sync"][1]),
                "cost_batch": float(shown["cost_batch"][1]),
                "savings": float(shown["cost_sync"][1] - shown["cost_batch"][1]),
                "savings_pct": _number(self.savings_pct, 4),
                "list_cost_sync": float(shown["list_cost_sync"][1]),
                "list_cost_batch": float(shown["list_cost_batch"][1]),
                "components": totals_by_component,
            },
            "margin": margin,
            "notes": list(self.notes),
        }

    def _component_totals(self) -> list[dict[str, Any]]:
        """Cost by plan and component over every workload (exact sums, rounded once)."""
        if self.lines is None or self.lines.empty:
            return []
        out = []
        for (plan, component), lines in self.lines.groupby(["plan", "component"], sort=False):
            out.append(
                {
                    "plan": plan,
                    "component": component,
                    "quantity": _number(float(sum(lines["quantity"], Decimal(0)))),
                    "unit": lines["unit"].iloc[0],
                    "cost": float(
                        quantize_cents(sum(lines["cost_contracted"], Decimal(0)) * self.per_usd)
                    ),
                    "list_cost": float(
                        quantize_cents(sum(lines["cost"], Decimal(0)) * self.per_usd)
                    ),
                }
            )
        return out

    def csv_frame(self) -> pd.DataFrame:
        """Workload rows, a total row, then the margin figures and the notes, in the JSON
        contract's snake_case columns (``row`` says what each line is)."""
        data = self.to_dict()
        rows = [{"row": "workload", **_flat(w)} for w in data["workloads"]]
        columns = list(rows[0])[1:] if rows else []
        totals = {k: v for k, v in data["totals"].items() if k not in _NESTED}
        rows.append({"row": "total", "name": "", **totals})
        for key, value in (data["margin"] or {}).items():
            rows.append({"row": "margin", "name": key, "value": value})
        rows.extend({"row": "note", "name": "", "value": note} for note in data["notes"])
        order = ["row", *columns, "savings_pct", "value"]
        return pd.DataFrame(rows, columns=list(dict.fromkeys(order)))

    def sections(self) -> list[Section]:
        frame = self.workloads[
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
        frame["batch_share"] = frame["batch_share"] * 100
        shown = {column: self.shown(column) for column in _PLAN_COSTS}
        frame["cost_sync"] = shown["cost_sync"][0]
        frame["cost_batch"] = shown["cost_batch"][0]
        frame["savings"] = [
            a - b for a, b in zip(shown["cost_sync"][0], shown["cost_batch"][0], strict=True)
        ]
        total = {
            "name": "Total",
            "model": "",
            "requests": self.requests,
            "input_tokens": frame["input_tokens"].sum(),
            "output_tokens": frame["output_tokens"].sum(),
            "batch_share": math.nan,
            "cost_sync": shown["cost_sync"][1],
            "cost_batch": shown["cost_batch"][1],
            "savings": shown["cost_sync"][1] - shown["cost_batch"][1],
        }
        frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
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
        money = ("Sync", "Batch plan", "Savings")
        if self.contract:
            frame.insert(6, "List sync", [*shown["list_cost_sync"][0], shown["list_cost_sync"][1]])
            frame.insert(
                7, "List batch", [*shown["list_cost_batch"][0], shown["list_cost_batch"][1]]
            )
            money = ("List sync", "List batch", *money)
        sections = [
            Section(
                f"{self.scenario.name}: monthly cost ({self.currency})",
                frame,
                money=money,
                percent=("Batch share",),
                counts=("Requests", "Input tokens", "Output tokens"),
            )
        ]
        if self.margin is not None:
            amounts = self._shown_margin()
            assert amounts is not None
            sections.append(_margin_section(self.margin, self.currency, amounts))
        return sections


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


@dataclass(frozen=True)
class Comparison:
    runs: tuple[ScenarioRun, ...]

    @property
    def title(self) -> str:
        return "Scenarios compared"

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(note for run in self.runs for note in run.notes))

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMAS["compare"],
            "period": "month",
            "currency": _common_currency(self.runs),
            "scenarios": [run.to_dict() for run in self.runs],
        }

    def csv_frame(self) -> pd.DataFrame:
        """One row per scenario in the contract's snake_case names, figures as shown."""
        rows = []
        for run in self.runs:
            data = run.to_dict()
            margin = data["margin"] or {}
            rows.append(
                {
                    "scenario": data["scenario"],
                    "source": data["source"],
                    "currency": data["currency"],
                    "requests": data["totals"]["requests"],
                    "cost_sync": data["totals"]["cost_sync"],
                    "cost_batch": data["totals"]["cost_batch"],
                    "savings": data["totals"]["savings"],
                    "savings_pct": data["totals"]["savings_pct"],
                    "gross_margin_sync_pct": margin.get("gross_margin_sync_pct"),
                    "gross_margin_batch_pct": margin.get("gross_margin_batch_pct"),
                    "delta_pp": margin.get("delta_pp"),
                }
            )
        return pd.DataFrame(rows)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "Scenario": [run.scenario.name for run in self.runs],
                "File": [Path(run.scenario.source).name for run in self.runs],
                "Requests/month": [run.requests for run in self.runs],
                # Floats of the figures shown (whole cents): charts read this frame too.
                "Sync cost": [float(run.shown("cost_sync")[1]) for run in self.runs],
                "Batch plan cost": [float(run.shown("cost_batch")[1]) for run in self.runs],
                "Savings": [float(run.shown_savings) for run in self.runs],
                "Savings %": [run.savings_pct for run in self.runs],
                "Gross margin sync": [
                    run.margin.gross_margin_sync_pct if run.margin else math.nan
                    for run in self.runs
                ],
                "Gross margin batch": [
                    run.margin.gross_margin_batch_pct if run.margin else math.nan
                    for run in self.runs
                ],
                "Change (pp)": [
                    run.margin.delta_pp if run.margin else math.nan for run in self.runs
                ],
            }
        )

    def sections(self) -> list[Section]:
        return [
            Section(
                f"{self.title} (monthly, {_common_currency(self.runs)})",
                self.frame(),
                money=("Sync cost", "Batch plan cost", "Savings"),
                percent=("Savings %", "Gross margin sync", "Gross margin batch"),
                points=("Change (pp)",),
                counts=("Requests/month",),
            )
        ]


@dataclass(frozen=True)
class ScenarioDiff:
    """Baseline against proposed, line by line, for one plan ("batch" or "sync")."""

    baseline: ScenarioRun
    proposed: ScenarioRun
    plan: str
    lines: pd.DataFrame = field(repr=False)

    @property
    def title(self) -> str:
        return f"{self.baseline.scenario.name} -> {self.proposed.scenario.name}"

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.baseline.notes, *self.proposed.notes]))

    @property
    def cost_baseline(self) -> float:
        return float(sum((Decimal(repr(v)) for v in self.lines["cost_baseline"]), Decimal(0)))

    @property
    def cost_proposed(self) -> float:
        return float(sum((Decimal(repr(v)) for v in self.lines["cost_proposed"]), Decimal(0)))

    @property
    def change(self) -> float:
        return float(Decimal(repr(self.cost_proposed)) - Decimal(repr(self.cost_baseline)))

    def _margin_pct(self, run: ScenarioRun) -> float | None:
        if run.margin is None:
            return None
        return (
            run.margin.gross_margin_batch_pct
            if self.plan == "batch"
            else run.margin.gross_margin_sync_pct
        )

    def to_dict(self) -> dict[str, Any]:
        gm_base, gm_new = self._margin_pct(self.baseline), self._margin_pct(self.proposed)
        return {
            "schema": SCHEMAS["diff"],
            "baseline": self.baseline.scenario.source,
            "proposed": self.proposed.scenario.source,
            "plan": self.plan,
            "period": "month",
            "currency": _common_currency((self.baseline, self.proposed)),
            "lines": [
                {
                    "workload": row.workload,
                    "status": row.status,
                    "model_baseline": row.model_baseline,
                    "model_proposed": row.model_proposed,
                    "requests_baseline": _number(row.requests_baseline),
                    "requests_proposed": _number(row.requests_proposed),
                    "cost_baseline": _money(row.cost_baseline),
                    "cost_proposed": _money(row.cost_proposed),
                    "change": _money(row.change),
                }
                for row in self.lines.itertuples(index=False)
            ],
            "totals": {
                "cost_baseline": _money(self.cost_baseline),
                "cost_proposed": _money(self.cost_proposed),
                "change": _money(self.cost_proposed - self.cost_baseline),
                "change_pct": _number(100 * self.change / self.cost_baseline, 4)
                if self.cost_baseline
                else None,
            },
            "margin": None
            if gm_base is None or gm_new is None
            else {
                "gross_margin_baseline_pct": _number(gm_base, 4),
                "gross_margin_proposed_pct": _number(gm_new, 4),
                "delta_pp": _number(gm_new - gm_base, 4),
            },
        }

    def csv_frame(self) -> pd.DataFrame:
        """The lines, then a ``total`` row, in the contract's snake_case columns."""
        data = self.to_dict()
        rows = [{"row": "line", **line} for line in data["lines"]]
        totals = {k: v for k, v in data["totals"].items()}
        rows.append({"row": "total", "workload": "", "status": "", **totals})
        for key, value in (data["margin"] or {}).items():
            rows.append({"row": "margin", "workload": key, "value": value})
        columns = ["row", *(data["lines"][0] if data["lines"] else ()), "change_pct", "value"]
        return pd.DataFrame(rows, columns=list(dict.fromkeys(columns)))

    def sections(self) -> list[Section]:
        frame = self.lines[
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
            "cost_baseline": self.cost_baseline,
            "cost_proposed": self.cost_proposed,
            "change": self.change,
        }
        frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
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
                f"Monthly cost, {self.plan} plan ({_common_currency((self.baseline, self.proposed))})",
                frame,
                money=("Cost before", "Cost after", "Change"),
                counts=("Requests before", "Requests after"),
            )
        ]
        gm_base, gm_new = self._margin_pct(self.baseline), self._margin_pct(self.proposed)
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


@dataclass(frozen=True)
class PriceList:
    catalogue: Catalogue
    on: date
    rows: pd.DataFrame

    @property
    def title(self) -> str:
        return f"Price catalogue (USD per million tokens, as of {self.on.isoformat()})"

    @property
    def notes(self) -> tuple[str, ...]:
        notes = [
            f"Catalogue checked {self.catalogue.checked.isoformat()}; batch = "
            f"{float(self.catalogue.batch_multiplier * 100):g}% of every token rate."
        ]
        if self.rows["third_party"].astype(bool).any():
            notes.append("* rests only on third-party sources (not confirmed on an official page).")
        stale = self.catalogue.stale_note(self.on)
        if stale:
            notes.append(stale)
        return tuple(notes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMAS["prices"],
            "currency": "USD",
            "unit": "per million tokens",
            "on": self.on.isoformat(),
            "catalogue_checked": self.catalogue.checked.isoformat(),
            "batch_multiplier": float(self.catalogue.batch_multiplier),
            "models": [
                {key: _json_value(value) for key, value in row.items()}
                for row in self.rows.astype(object)
                .where(self.rows.notna(), None)
                .to_dict(orient="records")
            ],
        }

    def csv_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.to_dict()["models"])
        for column in ("aliases", "third_party"):
            frame[column] = frame[column].map(" ".join)
        frame["inference_geo"] = frame["inference_geo"].map(lambda g: json.dumps(g) if g else "")
        return frame

    def sections(self) -> list[Section]:
        frame = self.rows.copy()
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
        return [Section(self.title, frame, figures=rates)]


@dataclass(frozen=True)
class Records:
    """A plain list of records (a pull's or an import's batches, a calibrated scenario's
    workloads) as a result every format renders: ``{"schema", key: [records], ...extra}``."""

    schema: str
    heading: str
    key: str
    records: tuple[dict[str, Any], ...]
    extra: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return self.heading

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            **self.extra,
            self.key: list(self.records),
            "notes": list(self.notes),
        }

    def csv_frame(self) -> pd.DataFrame:
        return pd.DataFrame([_flat(record) for record in self.records])

    def sections(self) -> list[Section]:
        frame = self.csv_frame()
        counts = tuple(c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]))
        return [Section(self.heading, frame, counts=counts)]


@dataclass(frozen=True)
class FileCheck:
    file: str
    ok: bool
    workloads: int
    problems: tuple[str, ...]
    kind: str = "scenario"  # or "policy" (a migration policy for `costmodel assess`)


@dataclass(frozen=True)
class ValidationReport:
    """Scenario files checked without running them: every problem in each file."""

    files: tuple[FileCheck, ...]

    @property
    def ok(self) -> bool:
        return all(item.ok for item in self.files)

    @property
    def title(self) -> str:
        return "Scenario files checked"

    @property
    def notes(self) -> tuple[str, ...]:
        return ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMAS["validate"],
            "ok": self.ok,
            "files": [
                {
                    "file": item.file,
                    "ok": item.ok,
                    "workloads": item.workloads,
                    "kind": item.kind,
                    "problems": list(item.problems),
                }
                for item in self.files
            ],
        }

    def csv_frame(self) -> pd.DataFrame:
        rows = [
            {"file": item.file, "ok": item.ok, "workloads": item.workloads, "problem": problem}
            for item in self.files
            for problem in (item.problems or ("",))
        ]
        return pd.DataFrame(rows, columns=["file", "ok", "workloads", "problem"])

    def sections(self) -> list[Section]:
        frame = self.csv_frame().rename(
            columns={"file": "File", "ok": "OK", "workloads": "Workloads", "problem": "Problem"}
        )
        frame["OK"] = frame["OK"].map({True: "yes", False: "no"})
        return [Section(self.title, frame, counts=("Workloads",))]


def validate_files(paths: Sequence[str | Path]) -> ValidationReport:
    """Load each scenario file, collecting its problems instead of stopping at the first file."""
    from costmodel.errors import ScenarioError
    from costmodel.scenario import load_scenario

    checks = []
    for path in paths:
        policy = _policy_check(path)
        if policy is not None:
            checks.append(policy)
            continue
        try:
            loaded = load_scenario(path)
        except ScenarioError as error:
            checks.append(FileCheck(str(path), False, 0, tuple(error.problems)))
        else:
            checks.append(FileCheck(str(path), True, len(loaded.workloads), ()))
    return ValidationReport(tuple(checks))


def _policy_check(path: str | Path) -> FileCheck | None:
    """A migration policy file checked as one (None: the file is a scenario, or unreadable)."""
    from costmodel.errors import CostModelError
    from costmodel.policy import PolicyError, load_policy, looks_like_policy
    from costmodel.user_files import read_text

    try:
        text = read_text(path, kind="file")
    except CostModelError:
        return None  # the scenario reader names the problem
    if not looks_like_policy(text, str(path)):
        return None
    try:
        load_policy(path)
    except PolicyError as error:
        return FileCheck(str(path), False, 0, tuple(error.problems))
    return FileCheck(str(path), True, 0, (), kind="policy")


# -- computing the results --------------------------------------------------------------------
def catalogue_for(scenario: Scenario | None = None, prices: str | Path | None = None) -> Catalogue:
    """The bundled catalogue with the user's price file laid over it, if one is named.

    A price file given on the command line wins over the one a scenario names.
    """
    catalogue = bundled_catalogue()
    chosen = prices if prices is not None else (scenario.prices if scenario else None)
    return load_price_file(chosen, catalogue) if chosen else catalogue


def run_scenario(
    scenario: Scenario,
    catalogue: Catalogue | None = None,
    *,
    on: date | None = None,
    fx: Currency | None = None,
) -> ScenarioRun:
    """Price a scenario's sync plan and batch plan and work out the margin impact."""
    catalogue = catalogue or catalogue_for(scenario)
    price_date = on or scenario.price_date or date.today()
    display = fx or scenario.currency
    per_usd = display.per_usd if display else Decimal(1)
    # The business block is in the scenario's own currency (USD when it names none).
    base_per_usd = scenario.currency.per_usd if scenario.currency else Decimal(1)
    context = scenario.source
    sync_usage = usage_for_plan(scenario, "sync")
    batch_usage = usage_for_plan(scenario, "batch")
    sync = price_usage(sync_usage, catalogue, on=price_date, context=context)
    batch = price_usage(batch_usage, catalogue, on=price_date, context=context)
    lines = pd.concat(
        [
            sync.cost_lines(sync_usage["workload"].to_numpy()).assign(plan="sync"),
            batch.cost_lines(batch_usage["workload"].to_numpy()).assign(plan="batch"),
        ],
        ignore_index=True,
    )

    names = [w.name for w in scenario.workloads]
    exact = pd.DataFrame(index=pd.Index(names, name="name"), columns=list(_PLAN_COSTS))
    for plan in ("sync", "batch"):
        plan_lines = lines[lines["plan"] == plan]
        for column, source in ((f"cost_{plan}", "cost_contracted"), (f"list_cost_{plan}", "cost")):
            sums = {n: Decimal(0) for n in names}
            for name, amount in zip(plan_lines["group"], plan_lines[source], strict=True):
                sums[name] += amount
            exact[column] = [sums[n] * per_usd for n in names]
    exact = exact.reset_index(drop=True)

    monthly_requests = sync_usage.groupby("workload")["requests"].sum()

    def monthly(per_request: Sequence[float]) -> list[float]:
        return [
            value * float(monthly_requests[w.name])
            for w, value in zip(scenario.workloads, per_request, strict=True)
        ]

    w_all = scenario.workloads
    frame = pd.DataFrame(
        {
            "name": names,
            "model": [catalogue.resolve(w.model) for w in w_all],
            "requests": [float(monthly_requests[n]) for n in names],
            "input_tokens": monthly([w.input_tokens for w in w_all]),
            "output_tokens": monthly([w.output_tokens for w in w_all]),
            "cache_write_tokens": monthly(
                [w.cache_write_tokens + w.cache_write_1h_tokens for w in w_all]
            ),
            "cache_write_5m_tokens": monthly([w.cache_write_tokens for w in w_all]),
            "cache_write_1h_tokens": monthly([w.cache_write_1h_tokens for w in w_all]),
            "cache_read_tokens": monthly([w.cache_read_tokens for w in w_all]),
            "web_search_requests": monthly([w.web_search_requests for w in w_all]),
            "batch_share": [w.batch_share for w in w_all],
        }
    )
    for column in _PLAN_COSTS:
        frame[column] = [float(value) for value in exact[column]]
    frame["savings"] = frame["cost_sync"] - frame["cost_batch"]

    margin = None
    if scenario.business is not None:
        b = scenario.business
        # Worked out in the scenario's currency, then shown in the display currency: the
        # percentages never depend on which currency the figures are shown in.
        base = margin_impact(
            b.revenue,
            b.other_cogs,
            float(sum(exact["cost_sync"], Decimal(0)) / per_usd * base_per_usd),
            float(sum(exact["cost_batch"], Decimal(0)) / per_usd * base_per_usd),
            b.customers,
        )
        margin = in_currency(base, float(per_usd / base_per_usd))
    notes = _notes(scenario, catalogue, (sync, batch), display, price_date)
    return ScenarioRun(
        scenario=scenario,
        workloads=frame,
        margin=margin,
        currency=display.code if display else "USD",
        fx=display,
        contract=catalogue.contract.name if catalogue.contract else None,
        price_date=price_date,
        catalogue_checked=catalogue.checked,
        notes=notes,
        exact=exact,
        lines=lines,
        per_usd=per_usd,
    )


def _notes(
    scenario: Scenario,
    catalogue: Catalogue,
    priced: Sequence[PricedUsage],
    fx: Currency | None,
    price_date: date,
) -> tuple[str, ...]:
    base = scenario.currency.code if scenario.currency else "USD"
    notes = [
        f"Assumptions from {scenario.source}; prices from the catalogue checked "
        f"{catalogue.checked.isoformat()}, as they stood on {price_date.isoformat()}."
    ]
    stale = catalogue.stale_note(price_date)
    if stale:
        notes.append(stale)
    third_party = sorted({flag for p in priced for flag in p.third_party})
    if third_party:
        notes.append(
            "Rests on prices from third-party sources only (not confirmed on an official "
            f"Anthropic page): {'; '.join(third_party)}."
        )
    notes.extend(dict.fromkeys(note for p in priced for note in p.notes))
    model_ids = sorted({model_id for p in priced for model_id, _ in p.price_entries})
    for model_id in model_ids:
        status = catalogue.models[model_id].status
        if status == "retired":
            notes.append(f"{model_id} is retired: its figures are for comparison only.")
        elif status == "deprecated":
            notes.append(
                f"{model_id} is deprecated: check it is still served before you plan on it."
            )
    if catalogue.contract is not None:
        notes.append(
            f"Costs are contracted prices from {catalogue.contract.source} "
            f"({catalogue.contract.name}); list prices are shown beside them."
        )
    if fx is not None:
        source = f", {fx.source}" if fx.source else ""
        notes.append(
            f"Converted from USD at 1 USD = {fx.per_usd} {fx.code} (rate of "
            f"{fx.as_of.isoformat()}{source})."
        )
    shown = fx.code if fx else "USD"
    if scenario.business is not None and shown != base:
        notes.append(
            f"The business block is in {base}, shown in {shown} at the same rates: the gross "
            "margins do not depend on the display currency."
        )
    return tuple(notes)


def compare_runs(runs: Sequence[ScenarioRun]) -> Comparison:
    return Comparison(tuple(runs))


def diff_runs(baseline: ScenarioRun, proposed: ScenarioRun, *, plan: str = "batch") -> ScenarioDiff:
    """Line by line, matched by workload name: changed, added, removed or unchanged."""
    if plan not in ("batch", "sync"):
        raise CostModelError(f"plan: expected batch or sync, got {plan!r}")
    if baseline.currency != proposed.currency:
        raise CostModelError(
            f"cannot diff {baseline.currency} against {proposed.currency}: "
            "give both scenarios the same currency"
        )
    cost = f"cost_{plan}"
    # The figures each run shows (they foot to its total), so the diff's columns foot too.
    before = baseline.workloads.assign(**{cost: _floats(baseline.shown(cost)[0])}).set_index("name")
    after = proposed.workloads.assign(**{cost: _floats(proposed.shown(cost)[0])}).set_index("name")
    names = list(dict.fromkeys([*before.index, *after.index]))
    lines = []
    for name in names:
        b = before.loc[name] if name in before.index else None
        a = after.loc[name] if name in after.index else None
        cost_b = float(b[cost]) if b is not None else 0.0
        cost_a = float(a[cost]) if a is not None else 0.0
        if b is None:
            status = "added"
        elif a is None:
            status = "removed"
        else:
            same = (
                b["model"] == a["model"]
                and math.isclose(b["requests"], a["requests"])
                and math.isclose(cost_b, cost_a, abs_tol=1e-9)
            )
            status = "unchanged" if same else "changed"
        lines.append(
            {
                "workload": name,
                "status": status,
                "model_baseline": b["model"] if b is not None else "",
                "model_proposed": a["model"] if a is not None else "",
                "requests_baseline": float(b["requests"]) if b is not None else 0.0,
                "requests_proposed": float(a["requests"]) if a is not None else 0.0,
                "cost_baseline": cost_b,
                "cost_proposed": cost_a,
                "change": float(Decimal(repr(cost_a)) - Decimal(repr(cost_b))),
            }
        )
    return ScenarioDiff(baseline, proposed, plan, pd.DataFrame(lines))


def price_list(
    catalogue: Catalogue | None = None, *, model: str | None = None, on: date | None = None
) -> PriceList:
    """The catalogue's rates on a day (default today), or one model's whole price history."""
    catalogue = catalogue or bundled_catalogue()
    on = on or date.today()
    rows = []
    if model is not None:
        entry = catalogue.model(model)
        if not entry.prices:
            entry.price_on(on)  # a known model without prices: raises, saying why
        chosen = [(entry, price) for price in entry.prices]
    else:
        chosen = []
        for entry in catalogue.models.values():
            current = [p for p in entry.prices if p.holds_on(on)]
            if current:
                chosen.append((entry, current[0]))
    for entry, price in chosen:
        lc = price.long_context
        rows.append(
            {
                "model": entry.id,
                "name": entry.name,
                "status": entry.status,
                "retired": entry.retired_on.isoformat() if entry.retired_on else None,
                "aliases": list(entry.aliases),
                **{name: getattr(price.rates, name) for name in RATE_FIELDS},
                "long_context": (
                    f">{lc.above_prompt_tokens // 1000}K: "
                    f"{_rate(lc.rates.input_mtok)}/{_rate(lc.rates.output_mtok)}"
                    if lc
                    else None
                ),
                "inference_geo": dict(price.inference_geo) or None,
                "fast_multiplier": price.fast_multiplier,
                "fast_mode": price.fast_mode,  # where fast mode was removed: how it bills
                "max_prompt_tokens": price.max_prompt_tokens,
                "web_search_per_1k": price.web_search_per_1k,
                "from": price.effective_from.isoformat(),
                "to": price.effective_to.isoformat() if price.effective_to else None,
                "source": price.source,
                "checked": price.checked.isoformat() if price.checked else None,
                "third_party": sorted(price.third_party),
                "note": price.note or None,
            }
        )
    return PriceList(catalogue, on, pd.DataFrame(rows))


# -- helpers ----------------------------------------------------------------------------------
_NESTED: Final = ("components", "cache_creation", "server_tool_use")


def _flat(record: dict[str, Any]) -> dict[str, Any]:
    """A JSON record as one CSV row: nested objects become ``parent_child`` columns, lists go."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            out.update(
                {f"{key}_{k}" if key != "cache_creation" else k: v for k, v in value.items()}
            )
        elif not isinstance(value, list):
            out[key] = value
    return out


def _money(value: float | None) -> float | None:
    """A money figure for output, to the cent (the arithmetic is never rounded)."""
    return round_cents(value)


def _floats(values: Sequence[Decimal]) -> list[float]:
    return [float(value) for value in values]


def _number(value: float | None, digits: int = 6) -> float | int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    rounded = round(float(value), digits)
    return int(rounded) if rounded.is_integer() else rounded


def _rate(value: Decimal | None) -> str:
    """A published rate as people write prices: at least two decimals, no trailing noise."""
    if value is None:
        return "-"
    text = f"{value:,.4f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None  # a missing value in a mixed column: JSON has no NaN
    return value


def _fx_dict(fx: Currency | None) -> dict[str, Any] | None:
    if fx is None:
        return None
    return {
        "code": fx.code,
        "per_usd": float(fx.per_usd),
        "as_of": fx.as_of.isoformat(),
        "source": fx.source,
    }


def _common_currency(runs: Sequence[ScenarioRun]) -> str:
    currencies = {run.currency for run in runs}
    if len(currencies) > 1:
        raise CostModelError(
            f"scenarios are in different currencies ({', '.join(sorted(currencies))}); "
            "compare them in one currency"
        )
    return currencies.pop() if currencies else "USD"
