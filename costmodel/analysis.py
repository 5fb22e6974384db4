"""What-if curves around one scenario, for the dashboard's charts and the notebooks. Pure.

Every function here answers "what if one assumption moved?" by pricing many variants of a
scenario. The variants are laid side by side as the workloads of one combined scenario, turned
into usage by :func:`~costmodel.scenario.usage_for_plan` and priced in a single
:func:`~costmodel.pricing.price_usage` call: a curve of 25 points costs about as much as one
run, which keeps the dashboard's recompute under 100 ms.

Figures follow :func:`~costmodel.report.run_scenario` exactly: contracted costs where the
catalogue carries a contract, converted with the scenario's currency, and gross margin from
:func:`~costmodel.margin.margin_impact`. At factor 1 (or at the scenario's own batch share) a
curve point equals the run's figures.

- :func:`volume_curve`: cost and gross margin from 10% to 10x today's volume.
- :func:`batch_share_curve`: savings and margin as every workload's batch share goes 0 to 1.
- :func:`tornado`: which input moves the result most, each moved 20% down and up alone.
- :func:`waterfall_steps`: revenue -> other COGS -> inference -> gross profit, both plans.
- :func:`analyse`: the run and all of the above, the dashboard's one recompute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Final

import numpy as np
import pandas as pd

from costmodel.catalogue import Catalogue
from costmodel.margin import margin_impact, sensitivity
from costmodel.pricing import price_usage
from costmodel.report import ScenarioRun, catalogue_for, run_scenario
from costmodel.scenario import Business, Currency, Scenario, Volume, usage_for_plan

__all__ = [
    "DEFAULT_FACTORS",
    "DEFAULT_SHARES",
    "ScenarioAnalysis",
    "analyse",
    "batch_share_curve",
    "plan_costs",
    "tornado",
    "volume_curve",
    "waterfall_steps",
]

DEFAULT_FACTORS: Final = np.geomspace(0.1, 10, 25)
DEFAULT_SHARES: Final = np.linspace(0.0, 1.0, 21)
TORNADO_STEP: Final = 0.2


# -- pricing many variants at once ------------------------------------------------------------
def _monthly(scenario: Scenario) -> tuple[Volume, ...]:
    """Each workload's volume as a monthly count, so variants need no common days_per_month."""
    return tuple(
        Volume(w.requests.per_month(scenario.days_per_month), "month") for w in scenario.workloads
    )


def plan_costs(
    variants: Sequence[Scenario],
    catalogue: Catalogue,
    *,
    on: date,
    fx: Currency | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Monthly sync-plan and batch-plan cost of each variant, priced in one pass.

    Costs are contracted (list price where the catalogue has no contract) and in ``fx``'s
    currency when given, as :func:`~costmodel.report.run_scenario` reports them.
    """
    if not variants:
        return np.zeros(0), np.zeros(0)
    counts = np.array([len(v.workloads) for v in variants])
    if (counts == 0).any():
        raise ValueError("every variant needs at least one workload")
    workloads = tuple(
        replace(w, requests=volume)
        for variant in variants
        for w, volume in zip(variant.workloads, _monthly(variant), strict=True)
    )
    combined = replace(variants[0], workloads=workloads, business=None)
    sync_usage = usage_for_plan(combined, "sync")
    batch_usage = usage_for_plan(combined, "batch")
    usage = pd.concat([sync_usage, batch_usage], ignore_index=True)
    priced = price_usage(usage, catalogue, on=on, context=variants[0].source, validate=False)
    rate = float(fx.per_usd) if fx else 1.0
    cost = priced.costs["cost_contracted"].to_numpy() * rate
    n_sync = len(sync_usage)
    # Rows come in variant order: n workloads per variant in sync, 2n in batch (see
    # usage_for_plan), so each variant's total is a sum over one contiguous block.
    sync_starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    sync = np.add.reduceat(cost[:n_sync], sync_starts)
    batch = np.add.reduceat(cost[n_sync:], 2 * sync_starts)
    return sync, batch


def _pricing_day(scenario: Scenario, on: date | None) -> date:
    return on or scenario.price_date or date.today()


def _margins(
    business: Business | None, sync: np.ndarray, batch: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gross margin % of each (sync, batch) pair; NaN without a business block."""
    if business is None:
        nan = np.full(len(sync), np.nan)
        return nan, nan.copy()
    impacts = [
        margin_impact(business.revenue, business.other_cogs, float(s), float(b), business.customers)
        for s, b in zip(sync, batch, strict=True)
    ]
    return (
        np.array([m.gross_margin_sync_pct for m in impacts]),
        np.array([m.gross_margin_batch_pct for m in impacts]),
    )


def _business_in(scenario: Scenario, fx: Currency | None) -> Scenario:
    """The scenario with its business block (in the scenario's own currency) converted to
    ``fx``'s, the currency the curves' costs are in: margins never depend on the display
    currency."""
    business = scenario.business
    if business is None or fx is None:
        return scenario
    base = scenario.currency.per_usd if scenario.currency else Decimal(1)
    if fx.per_usd == base:
        return scenario
    factor = float(fx.per_usd / base)
    return replace(
        scenario,
        business=replace(
            business, revenue=business.revenue * factor, other_cogs=business.other_cogs * factor
        ),
    )


def _currency_code(fx: Currency | None) -> str:
    return fx.code if fx else "USD"


# -- curves -----------------------------------------------------------------------------------
# Each analysis is split in two: the variants it prices, and the frame it builds from their
# costs. The public functions price their own variants; analyse() prices all of them at once.
def _volume_variants(scenario: Scenario, factors: np.ndarray) -> list[Scenario]:
    base = _monthly(scenario)
    return [
        replace(
            scenario,
            workloads=tuple(
                replace(w, requests=Volume(v.count * factor, "month"))
                for w, v in zip(scenario.workloads, base, strict=True)
            ),
        )
        for factor in factors
    ]


def _volume_frame(
    scenario: Scenario, factors: np.ndarray, sync: np.ndarray, batch: np.ndarray, currency: str
) -> pd.DataFrame:
    margin_sync, margin_batch = _margins(scenario.business, sync, batch)
    frame = pd.DataFrame(
        {
            "factor": factors,
            "requests": factors * sum(v.count for v in _monthly(scenario)),
            "cost_sync": sync,
            "cost_batch": batch,
            "savings": sync - batch,
            "gross_margin_sync_pct": margin_sync,
            "gross_margin_batch_pct": margin_batch,
        }
    )
    frame.attrs["currency"] = currency
    return frame


def volume_curve(
    scenario: Scenario,
    catalogue: Catalogue | None = None,
    factors: Sequence[float] | np.ndarray = DEFAULT_FACTORS,
    *,
    on: date | None = None,
    fx: Currency | None = None,
) -> pd.DataFrame:
    """Monthly cost and gross margin with every workload's volume scaled by each factor.

    Columns: factor, requests (per month), cost_sync, cost_batch, savings,
    gross_margin_sync_pct, gross_margin_batch_pct (NaN without a business block);
    ``attrs["currency"]``.

    >>> from costmodel.scenario import parse_scenario
    >>> s = parse_scenario("name: s\\nworkloads: [{name: w, model: claude-3-5-sonnet, "
    ...                    "requests: 5000, input_tokens: 2000, output_tokens: 300}]")
    >>> volume_curve(s, factors=[1, 2])[["factor", "cost_sync", "cost_batch"]].values.tolist()
    [[1.0, 52.5, 26.25], [2.0, 105.0, 52.5]]
    """
    catalogue = catalogue or catalogue_for(scenario)
    factors = np.asarray(factors, dtype="float64")
    scenario, fx = _business_in(scenario, fx), fx or scenario.currency
    variants = _volume_variants(scenario, factors)
    sync, batch = plan_costs(variants, catalogue, on=_pricing_day(scenario, on), fx=fx)
    return _volume_frame(scenario, factors, sync, batch, _currency_code(fx))


def _share_variants(scenario: Scenario, shares: np.ndarray) -> list[Scenario]:
    if ((shares < 0) | (shares > 1)).any():
        raise ValueError("shares: expected values from 0 to 1")
    return [
        replace(
            scenario,
            workloads=tuple(replace(w, batch_share=float(share)) for w in scenario.workloads),
        )
        for share in shares
    ]


def _share_frame(
    scenario: Scenario, shares: np.ndarray, sync: np.ndarray, batch: np.ndarray, currency: str
) -> pd.DataFrame:
    margin_sync, margin_batch = _margins(scenario.business, sync, batch)
    savings = sync - batch
    safe_sync = np.where(sync > 0, sync, 1.0)
    frame = pd.DataFrame(
        {
            "share": shares,
            "cost_sync": sync,
            "cost_batch": batch,
            "savings": savings,
            "savings_pct": np.where(sync > 0, 100.0 * savings / safe_sync, 0.0),
            "gross_margin_sync_pct": margin_sync,
            "gross_margin_batch_pct": margin_batch,
        }
    )
    frame.attrs["currency"] = currency
    return frame


def batch_share_curve(
    scenario: Scenario,
    catalogue: Catalogue | None = None,
    shares: Sequence[float] | np.ndarray = DEFAULT_SHARES,
    *,
    on: date | None = None,
    fx: Currency | None = None,
) -> pd.DataFrame:
    """Savings and gross margin with every workload's batch share set to each share.

    Columns: share, cost_sync, cost_batch, savings, savings_pct, gross_margin_sync_pct,
    gross_margin_batch_pct (NaN without a business block); ``attrs["currency"]``.

    >>> from costmodel.scenario import parse_scenario
    >>> s = parse_scenario("name: s\\nworkloads: [{name: w, model: claude-3-5-sonnet, "
    ...                    "requests: 5000, input_tokens: 2000, output_tokens: 300}]")
    >>> batch_share_curve(s, shares=[0, 0.5, 1])["savings"].round(4).tolist()
    [0.0, 13.125, 26.25]
    """
    catalogue = catalogue or catalogue_for(scenario)
    shares = np.asarray(shares, dtype="float64")
    scenario, fx = _business_in(scenario, fx), fx or scenario.currency
    variants = _share_variants(scenario, shares)
    sync, batch = plan_costs(variants, catalogue, on=_pricing_day(scenario, on), fx=fx)
    return _share_frame(scenario, shares, sync, batch, _currency_code(fx))


def _tornado_variants(scenario: Scenario, step: float) -> list[Scenario]:
    """The scenarios :func:`~costmodel.margin.sensitivity` asks about, in the order it asks."""
    wanted: list[Scenario] = []

    def record(variant: Scenario) -> float:
        wanted.append(variant)
        return 0.0

    sensitivity(scenario, record, step=step)
    return wanted


def _tornado_frame(
    scenario: Scenario,
    step: float,
    variants: Sequence[Scenario],
    sync: np.ndarray,
    batch: np.ndarray,
    currency: str,
) -> pd.DataFrame:
    figures = {
        variant: _studied_figure(variant.business, float(cost_sync), float(cost_batch))
        for variant, cost_sync, cost_batch in zip(variants, sync, batch, strict=True)
    }
    frame = sensitivity(scenario, figures.__getitem__, step=step)
    has_margin = scenario.business is not None
    frame.attrs.update(
        measure="Batch-plan gross margin" if has_margin else "Batch-plan monthly cost",
        unit="percent" if has_margin else "money",
        currency=currency,
        step=step,
    )
    return frame


def tornado(
    scenario: Scenario,
    catalogue: Catalogue | None = None,
    *,
    step: float = TORNADO_STEP,
    on: date | None = None,
    fx: Currency | None = None,
) -> pd.DataFrame:
    """Sensitivity of the batch plan to each input moved ``step`` down and up alone.

    The figure studied is the batch plan's gross margin % where the scenario has a business
    block, else its monthly cost. Columns are :data:`~costmodel.margin.SENSITIVITY_COLUMNS`,
    sorted by swing, largest first; ``attrs`` holds ``base_result``, ``measure`` (the figure's
    name), ``unit`` ("percent" or "money"), ``currency`` and ``step``.

    :func:`~costmodel.margin.sensitivity` asks for one figure at a time; it runs twice here:
    once to learn which variants it wants, then, after pricing them all in one pass, to read
    their figures.
    """
    catalogue = catalogue or catalogue_for(scenario)
    scenario, fx = _business_in(scenario, fx), fx or scenario.currency
    variants = _tornado_variants(scenario, step)
    sync, batch = plan_costs(variants, catalogue, on=_pricing_day(scenario, on), fx=fx)
    return _tornado_frame(scenario, step, variants, sync, batch, _currency_code(fx))


def _studied_figure(business: Business | None, cost_sync: float, cost_batch: float) -> float:
    if business is None:
        return cost_batch
    impact = margin_impact(business.revenue, business.other_cogs, cost_sync, cost_batch)
    return impact.gross_margin_batch_pct


# -- the margin waterfall ---------------------------------------------------------------------
WATERFALL_STEPS: Final = ("Revenue", "Other COGS", "Inference", "Gross profit")


def waterfall_steps(run: ScenarioRun) -> pd.DataFrame:
    """Revenue, minus other COGS, minus inference, to gross profit, for both plans.

    Columns: plan ("Sync" or "Batch plan"), step, amount (signed: costs are negative),
    measure (Plotly's "absolute", "relative" or "total"). Empty without a business block.
    """
    columns = ["plan", "step", "amount", "measure"]
    m = run.margin
    if m is None:
        return pd.DataFrame(columns=columns)
    rows = []
    for plan, inference, profit in (
        ("Sync", m.inference_sync, m.gross_profit_sync),
        ("Batch plan", m.inference_batch, m.gross_profit_batch),
    ):
        rows += [
            (plan, "Revenue", m.revenue, "absolute"),
            (plan, "Other COGS", -m.other_cogs, "relative"),
            (plan, "Inference", -inference, "relative"),
            (plan, "Gross profit", profit, "total"),
        ]
    return pd.DataFrame(rows, columns=columns)


# -- everything the dashboard shows for one scenario ------------------------------------------
@dataclass(frozen=True)
class ScenarioAnalysis:
    """One scenario's run and every what-if the explorer charts, computed together."""

    run: ScenarioRun
    volume: pd.DataFrame
    shares: pd.DataFrame
    tornado: pd.DataFrame
    waterfall: pd.DataFrame

    @property
    def currency(self) -> str:
        return self.run.currency


def analyse(
    scenario: Scenario,
    catalogue: Catalogue | None = None,
    *,
    on: date | None = None,
    factors: Sequence[float] | np.ndarray = DEFAULT_FACTORS,
    shares: Sequence[float] | np.ndarray = DEFAULT_SHARES,
    step: float = TORNADO_STEP,
) -> ScenarioAnalysis:
    """The run, the volume and batch-share curves, the tornado and the waterfall.

    The curves' and the tornado's variants are priced together in one pass.
    """
    catalogue = catalogue or catalogue_for(scenario)
    run = run_scenario(scenario, catalogue, on=on)
    factors = np.asarray(factors, dtype="float64")
    shares = np.asarray(shares, dtype="float64")
    groups = (
        _volume_variants(scenario, factors),
        _share_variants(scenario, shares),
        _tornado_variants(scenario, step),
    )
    sync, batch = plan_costs(
        [v for group in groups for v in group], catalogue, on=run.price_date, fx=run.fx
    )
    ends = np.cumsum([len(group) for group in groups])
    (vs, ss, ts), (vb, sb, tb) = np.split(sync, ends[:-1]), np.split(batch, ends[:-1])
    return ScenarioAnalysis(
        run=run,
        volume=_volume_frame(scenario, factors, vs, vb, run.currency),
        shares=_share_frame(scenario, shares, ss, sb, run.currency),
        tornado=_tornado_frame(scenario, step, groups[2], ts, tb, run.currency),
        waterfall=waterfall_steps(run),
    )
