"""The output contract: every JSON object's schema name and version, and the JSON and CSV forms
of each result (README, "JSON output").

A version goes up when a field changes meaning or goes away; added fields keep the version. The
figures are the results' own (:mod:`costmodel.core.results`); this module only shapes them.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Protocol

import pandas as pd

from costmodel.core.frames import frame_rows
from costmodel.core.money import (
    allocate_cents,
    quantize_cents,
    round_cents,
)
from costmodel.core.results import PLAN_COSTS, common_currency
from costmodel.core.scenario import Currency

if TYPE_CHECKING:
    from costmodel.core.results import (
        Comparison,
        PriceList,
        Records,
        ScenarioDiff,
        ScenarioRun,
        ValidationReport,
    )

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
    "budget": "costmodel.budget/1",
    "report": "costmodel.report/1",
    "ops": "costmodel.ops/1",
}


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


def _number(value: float | None, digits: int = 6) -> float | int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    rounded = round(float(value), digits)
    return int(rounded) if rounded.is_integer() else rounded


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


class _WorkloadRow(Protocol):
    """The fields of ``ScenarioRun.workloads`` that the JSON form reads."""

    name: str
    model: str
    requests: float
    input_tokens: float
    output_tokens: float
    cache_write_tokens: float
    cache_read_tokens: float
    cache_write_5m_tokens: float
    cache_write_1h_tokens: float
    web_search_requests: float
    batch_share: float


class _DiffLine(Protocol):
    """A row of ``DiffResult.lines`` (a side without the workload has no model and no cost)."""

    workload: str
    status: str
    model_baseline: str | None
    model_proposed: str | None
    requests_baseline: float | None
    requests_proposed: float | None
    cost_baseline: float | None
    cost_proposed: float | None
    change: float | None


class _PricedLine(Protocol):
    """A row of ``ScenarioRun.lines``: one component at one price key (passed through as is)."""

    component: object
    tier: object
    model_id: object
    price_from: object
    long_context: object
    inference_geo: object
    speed: object
    quantity: float
    unit: object
    rate: Decimal


def run_to_dict(run: ScenarioRun) -> dict[str, Any]:
    shown = {column: run.shown(column) for column in PLAN_COSTS}
    workloads = []
    row: _WorkloadRow
    for index, row in enumerate(frame_rows(run.workloads)):
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
                "components": _components(run, index, row.name),
            }
        )
    margin = None
    if run.margin is not None:
        m = run.margin
        amounts = run._shown_margin()
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
    totals_by_component = _component_totals(run)
    return {
        "schema": SCHEMAS["run"],
        "scenario": run.scenario.name,
        "source": run.scenario.source,
        "period": "month",
        "currency": run.currency,
        "scenario_currency": run.scenario.currency.code if run.scenario.currency else "USD",
        "fx": _fx_dict(run.fx),
        "price_date": run.price_date.isoformat(),
        "catalogue_checked": run.catalogue_checked.isoformat(),
        "contract": run.contract,
        "workloads": workloads,
        "totals": {
            "requests": _number(run.requests),
            "cost_sync": float(shown["cost_sync"][1]),
            "cost_batch": float(shown["cost_batch"][1]),
            "savings": float(shown["cost_sync"][1] - shown["cost_batch"][1]),
            "savings_pct": _number(run.savings_pct, 4),
            "list_cost_sync": float(shown["list_cost_sync"][1]),
            "list_cost_batch": float(shown["list_cost_batch"][1]),
            "components": totals_by_component,
        },
        "margin": margin,
        "notes": list(run.notes),
    }


def run_csv(run: ScenarioRun) -> pd.DataFrame:
    """Workload rows, a total row, then the margin figures and the notes, in the JSON
    contract's snake_case columns (``row`` says what each line is)."""
    data = run.to_dict()
    rows = [{"row": "workload", **_flat(w)} for w in data["workloads"]]
    columns = list(rows[0])[1:] if rows else []
    totals = {k: v for k, v in data["totals"].items() if k not in _NESTED}
    rows.append({"row": "total", "name": "", **totals})
    for key, value in (data["margin"] or {}).items():
        rows.append({"row": "margin", "name": key, "value": value})
    rows.extend({"row": "note", "name": "", "value": note} for note in data["notes"])
    order = ["row", *columns, "savings_pct", "value"]
    return pd.DataFrame(rows, columns=list(dict.fromkeys(order)))


def comparison_to_dict(comparison: Comparison) -> dict[str, Any]:
    return {
        "schema": SCHEMAS["compare"],
        "period": "month",
        "currency": common_currency(comparison.runs),
        "scenarios": [run.to_dict() for run in comparison.runs],
    }


def comparison_csv(comparison: Comparison) -> pd.DataFrame:
    """One row per scenario in the contract's snake_case names, figures as shown."""
    rows = []
    for run in comparison.runs:
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


def _diff_lines(lines: pd.DataFrame) -> list[_DiffLine]:
    return list(frame_rows(lines))


def diff_to_dict(diff: ScenarioDiff) -> dict[str, Any]:
    gm_base, gm_new = diff._margin_pct(diff.baseline), diff._margin_pct(diff.proposed)
    return {
        "schema": SCHEMAS["diff"],
        "baseline": diff.baseline.scenario.source,
        "proposed": diff.proposed.scenario.source,
        "plan": diff.plan,
        "period": "month",
        "currency": common_currency((diff.baseline, diff.proposed)),
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
            for row in _diff_lines(diff.lines)
        ],
        "totals": {
            "cost_baseline": _money(diff.cost_baseline),
            "cost_proposed": _money(diff.cost_proposed),
            "change": _money(diff.cost_proposed - diff.cost_baseline),
            "change_pct": _number(100 * diff.change / diff.cost_baseline, 4)
            if diff.cost_baseline
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


def diff_csv(diff: ScenarioDiff) -> pd.DataFrame:
    """The lines, then a ``total`` row, in the contract's snake_case columns."""
    data = diff.to_dict()
    rows = [{"row": "line", **line} for line in data["lines"]]
    totals = {k: v for k, v in data["totals"].items()}
    rows.append({"row": "total", "workload": "", "status": "", **totals})
    for key, value in (data["margin"] or {}).items():
        rows.append({"row": "margin", "workload": key, "value": value})
    columns = ["row", *(data["lines"][0] if data["lines"] else ()), "change_pct", "value"]
    return pd.DataFrame(rows, columns=list(dict.fromkeys(columns)))


def prices_to_dict(prices: PriceList) -> dict[str, Any]:
    return {
        "schema": SCHEMAS["prices"],
        "currency": "USD",
        "unit": "per million tokens",
        "on": prices.on.isoformat(),
        "catalogue_checked": prices.catalogue.checked.isoformat(),
        "batch_multiplier": float(prices.catalogue.batch_multiplier),
        "models": [
            {key: _json_value(value) for key, value in row.items()}
            for row in prices.rows.astype(object)
            .where(prices.rows.notna(), None)
            .to_dict(orient="records")
        ],
    }


def prices_csv(prices: PriceList) -> pd.DataFrame:
    frame = pd.DataFrame(prices.to_dict()["models"])
    for column in ("aliases", "third_party"):
        frame[column] = frame[column].map(" ".join)
    frame["inference_geo"] = frame["inference_geo"].map(lambda g: json.dumps(g) if g else "")
    return frame


def records_to_dict(records: Records) -> dict[str, Any]:
    return {
        "schema": records.schema,
        **records.extra,
        records.key: list(records.records),
        "notes": list(records.notes),
    }


def records_csv(records: Records) -> pd.DataFrame:
    return pd.DataFrame([_flat(record) for record in records.records])


def validation_to_dict(validation: ValidationReport) -> dict[str, Any]:
    return {
        "schema": SCHEMAS["validate"],
        "ok": validation.ok,
        "files": [
            {
                "file": item.file,
                "ok": item.ok,
                "workloads": item.workloads,
                "kind": item.kind,
                "problems": list(item.problems),
            }
            for item in validation.files
        ],
    }


def validation_csv(validation: ValidationReport) -> pd.DataFrame:
    rows = [
        {"file": item.file, "ok": item.ok, "workloads": item.workloads, "problem": problem}
        for item in validation.files
        for problem in (item.problems or ("",))
    ]
    return pd.DataFrame(rows, columns=["file", "ok", "workloads", "problem"])


def _components(run: ScenarioRun, index: int, name: str) -> list[dict[str, Any]]:
    """The workload's cost by component and price key, both plans, footing to its costs."""
    if run.lines is None or run.lines.empty:
        return []
    shown = {column: run.shown(column)[0][index] for column in PLAN_COSTS}
    out: list[dict[str, Any]] = []
    for plan in ("sync", "batch"):
        lines = run.lines[(run.lines["group"] == name) & (run.lines["plan"] == plan)]
        costs = [c * run.per_usd for c in lines["cost_contracted"]]
        listed = [c * run.per_usd for c in lines["cost"]]
        cost_parts = allocate_cents(costs, shown[f"cost_{plan}"])
        list_parts = allocate_cents(listed, shown[f"list_cost_{plan}"])
        line: _PricedLine
        for line, cost, list_cost in zip(frame_rows(lines), cost_parts, list_parts, strict=True):
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
                    "rate": float(line.rate * run.per_usd),
                    "cost": float(cost),
                    "list_cost": float(list_cost),
                }
            )
    return out


def _component_totals(run: ScenarioRun) -> list[dict[str, Any]]:
    """Cost by plan and component over every workload (exact sums, rounded once)."""
    if run.lines is None or run.lines.empty:
        return []
    out = []
    for (plan, component), lines in run.lines.groupby(["plan", "component"], sort=False):
        out.append(
            {
                "plan": plan,
                "component": component,
                "quantity": _number(float(sum(lines["quantity"], Decimal(0)))),
                "unit": lines["unit"].iloc[0],
                "cost": float(
                    quantize_cents(sum(lines["cost_contracted"], Decimal(0)) * run.per_usd)
                ),
                "list_cost": float(quantize_cents(sum(lines["cost"], Decimal(0)) * run.per_usd)),
            }
        )
    return out
