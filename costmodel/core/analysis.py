"""What-if curves around one scenario, for the dashboard's charts and the notebooks. Pure.

Every function here answers "what if one assumption moved?". Cost is linear in a workload's
volume and in its batch share, so each workload is priced once (all sync, all batch) and every
curve point and tornado bar is arithmetic on those figures; only a change in tokens per request
(which can cross a long-context threshold) prices that one workload again. All of it is one
:func:`~costmodel.core.pricing.price_usage` call whose size is linear in the workloads, which keeps
the dashboard's recompute well under a second for a thousand workloads.

Figures follow :func:`~costmodel.core.report.run_scenario` exactly: contracted costs where the
catalogue carries a contract, converted with the scenario's currency, and gross margin from
:func:`~costmodel.core.margin.margin_impact`. At factor 1 (or at the plan's own batch shares) a
curve point equals the run's figures.

- :func:`volume_curve`: cost and gross margin from 10% to 10x today's volume.
- :func:`batch_share_curve`: savings and margin as the workloads the plan batches go 0 to 1.
- :func:`tornado`: which input moves the result most, each moved 20% down and up alone.
- :func:`waterfall_steps`: revenue -> other COGS -> inference -> gross profit, both plans.
- :func:`analyse`: the run and all of the above, the dashboard's one recompute.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Final

import numpy as np
import pandas as pd

from costmodel.core.catalogue import Catalogue
from costmodel.core.margin import margin_impact
from costmodel.core.planning import usage_for_plan
from costmodel.core.pricing import price_usage
from costmodel.core.report import run_scenario
from costmodel.core.results import ScenarioRun
from costmodel.core.scenario import (
    PER_REQUEST_COUNTS,
    Business,
    Currency,
    Scenario,
    Volume,
    pricing_day,
)
from costmodel.core.usage import usage_frame
from costmodel.errors import InvalidArgumentError

__all__ = [
    "DEFAULT_FACTORS",
    "DEFAULT_SHARES",
    "SENSITIVITY_COLUMNS",
    "ScenarioAnalysis",
    "analyse",
    "batch_share_curve",
    "plan_costs",
    "sensitivity",
    "tornado",
    "volume_curve",
    "waterfall_steps",
]

SENSITIVITY_COLUMNS: Final = (
    "input",
    "low_value",
    "high_value",
    "low_result",
    "high_result",
    "swing",
)

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
    currency when given, as :func:`~costmodel.core.report.run_scenario` reports them.
    """
    if not variants:
        return np.zeros(0), np.zeros(0)
    counts = np.array([len(v.workloads) for v in variants])
    if (counts == 0).any():
        raise InvalidArgumentError("every variant needs at least one workload")
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
    return pricing_day(scenario, on)


def _workload_costs(
    scenario: Scenario,
    catalogue: Catalogue,
    *,
    on: date,
    fx: Currency | None,
    variants: Sequence[tuple[int, str, float]] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Each workload's monthly cost all synchronous and all through batch, in one pass.

    Cost is linear in the volume and in the batch share (every request is priced alone), so
    these two figures per workload give any volume factor and any share by arithmetic: a curve
    point or a tornado bar never prices the whole scenario again. Only a change to the tokens
    per request (which can cross a long-context threshold) needs pricing: each of
    ``variants``, (workload index, per-request field, value), is one more row after the
    scenario's own workloads.
    """
    workloads = scenario.workloads
    n, extra = len(workloads), len(variants)
    if n == 0:
        return np.zeros(0), np.zeros(0)
    # The usage frame is built column by column (not a Workload per variant): for a thousand
    # workloads and their variants, copying dataclasses cost more than the pricing.
    rows = np.concatenate([np.arange(n), np.array([v[0] for v in variants], dtype=int)])
    days = scenario.days_per_month
    columns: dict[str, np.ndarray] = {
        "model": np.array([w.model for w in workloads], dtype=object)[rows],
        "requests": np.array([w.requests.per_month(days) for w in workloads])[rows],
        "inference_geo": np.array([w.inference_geo for w in workloads], dtype=object)[rows],
    }
    for field, column in _USAGE_OF_FIELD.items():
        values = np.array([float(getattr(w, field)) for w in workloads])[rows]
        for offset, (_, name, value) in enumerate(variants):
            if name == field:
                values[n + offset] = value
        columns[column] = values
    total = n + extra
    usage = usage_frame(
        pd.DataFrame(
            {
                **{name: np.concatenate([values, values]) for name, values in columns.items()},
                "tier": np.array(["standard"] * total + ["batch"] * total, dtype=object),
                "speed": np.full(2 * total, "standard", dtype=object),
            }
        )
    )
    priced = price_usage(usage, catalogue, on=on, context=scenario.source, validate=False)
    rate = float(fx.per_usd) if fx else 1.0
    cost = priced.costs["cost_contracted"].to_numpy() * rate
    return cost[:total], cost[total:]


# A workload's per-request fields and the usage-frame columns they fill.
_USAGE_OF_FIELD: Final = {
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "cache_write_tokens": "cache_write_5m_tokens",
    "cache_write_1h_tokens": "cache_write_1h_tokens",
    "cache_read_tokens": "cache_read_tokens",
    "web_search_requests": "web_search_requests",
}


@dataclass(frozen=True)
class _Base:
    """A scenario's workloads priced once: the figures every curve and bar is built from."""

    sync: np.ndarray  # per workload, monthly, everything synchronous
    batch: np.ndarray  # per workload, monthly, everything through the Batches API
    share: np.ndarray  # per workload, the batch plan's share

    @property
    def plan(self) -> np.ndarray:
        """Per workload, the batch plan's monthly cost."""
        plan: np.ndarray = self.share * self.batch + (1 - self.share) * self.sync
        return plan


def _base(sync: np.ndarray, batch: np.ndarray, scenario: Scenario) -> _Base:
    shares = np.array([w.batch_share for w in scenario.workloads], dtype="float64")
    return _Base(sync, batch, shares)


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
def _volume_frame(
    scenario: Scenario, factors: np.ndarray, base: _Base, currency: str
) -> pd.DataFrame:
    sync = factors * float(base.sync.sum())
    batch = factors * float(base.plan.sum())
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
    catalogue: Catalogue,
    factors: Sequence[float] | np.ndarray = DEFAULT_FACTORS,
    *,
    on: date | None = None,
    fx: Currency | None = None,
) -> pd.DataFrame:
    """Monthly cost and gross margin with every workload's volume scaled by each factor.

    Columns: factor, requests (per month), cost_sync, cost_batch, savings,
    gross_margin_sync_pct, gross_margin_batch_pct (NaN without a business block);
    ``attrs["currency"]``.

    >>> from costmodel.adapters.scenario_files import parse_scenario
    >>> s = parse_scenario("name: s\\nworkloads: [{name: w, model: claude-3-5-sonnet, "
    ...                    "requests: 5000, input_tokens: 2000, output_tokens: 300}]")
    >>> from datetime import date
    >>> from costmodel.adapters.catalogue_files import bundled_catalogue
    >>> cat, day = bundled_catalogue(), date(2026, 12, 1)
    >>> volume_curve(s, cat, factors=[1, 2], on=day)[["factor", "cost_sync", "cost_batch"]].values.tolist()
    [[1.0, 52.5, 26.25], [2.0, 105.0, 52.5]]
    """
    factors = np.asarray(factors, dtype="float64")
    scenario, fx = _business_in(scenario, fx), fx or scenario.currency
    sync, batch = _workload_costs(scenario, catalogue, on=_pricing_day(scenario, on), fx=fx)
    return _volume_frame(scenario, factors, _base(sync, batch, scenario), _currency_code(fx))


def _check_shares(shares: np.ndarray) -> None:
    if ((shares < 0) | (shares > 1)).any():
        raise InvalidArgumentError("shares: expected values from 0 to 1")


def _share_frame(
    scenario: Scenario, shares: np.ndarray, base: _Base, currency: str
) -> pd.DataFrame:
    _check_shares(shares)
    # Only the workloads the plan batches at all move: a workload at share 0 (live chat, say)
    # stays synchronous at every point. A plan that batches nothing varies every workload.
    varied = base.share > 0
    batches_nothing = not varied.any()
    if batches_nothing:
        varied = np.ones(len(base.share), dtype=bool)
    fixed_cost = float(base.plan[~varied].sum())
    varied_sync = float(base.sync[varied].sum())
    varied_batch = float(base.batch[varied].sum())
    sync = np.full(len(shares), float(base.sync.sum()))
    batch = fixed_cost + shares * varied_batch + (1 - shares) * varied_sync
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
    frame.attrs.update(
        currency=currency,
        varied=tuple(w.name for w, moved in zip(scenario.workloads, varied, strict=True) if moved),
        fixed=tuple(
            w.name for w, moved in zip(scenario.workloads, varied, strict=True) if not moved
        ),
        batches_nothing=batches_nothing,
        plan_share=_plan_share(base, varied),
        plan_cost_batch=float(base.plan.sum()),
    )
    return frame


def _plan_share(base: _Base, varied: np.ndarray) -> float:
    """Where the modelled plan sits on the curve: the share that saves what the plan saves.

    Savings are linear in the share, so the plan (each varied workload at its own share) lies
    on the curve at its savings-weighted mean share; with one share for all, at that share.
    """
    shares = base.share[varied]
    if len(shares) and (shares == shares[0]).all():
        return float(shares[0])
    gain = (base.sync - base.batch)[varied]
    total = float(gain.sum())
    if total <= 0:
        return float(shares.mean()) if len(shares) else 0.0
    return float((shares * gain).sum() / total)


def batch_share_curve(
    scenario: Scenario,
    catalogue: Catalogue,
    shares: Sequence[float] | np.ndarray = DEFAULT_SHARES,
    *,
    on: date | None = None,
    fx: Currency | None = None,
) -> pd.DataFrame:
    """Savings and gross margin as the workloads the plan batches go from 0 to all batch.

    Only workloads with a batch share above 0 move (together, to each share); the others stay
    synchronous, as the plan keeps them. A plan that batches nothing moves every workload.

    Columns: share, cost_sync, cost_batch, savings, savings_pct, gross_margin_sync_pct,
    gross_margin_batch_pct (NaN without a business block). ``attrs``: ``currency``,
    ``varied`` and ``fixed`` (workload names), ``batches_nothing``, ``plan_share`` (where the
    modelled plan lies on the curve) and ``plan_cost_batch``.

    >>> from costmodel.adapters.scenario_files import parse_scenario
    >>> s = parse_scenario("name: s\\nworkloads: [{name: w, model: claude-3-5-sonnet, "
    ...                    "requests: 5000, input_tokens: 2000, output_tokens: 300}]")
    >>> from datetime import date
    >>> from costmodel.adapters.catalogue_files import bundled_catalogue
    >>> cat, day = bundled_catalogue(), date(2026, 12, 1)
    >>> batch_share_curve(s, cat, shares=[0, 0.5, 1], on=day)["savings"].round(4).tolist()
    [0.0, 13.125, 26.25]
    """
    shares = np.asarray(shares, dtype="float64")
    _check_shares(shares)
    scenario, fx = _business_in(scenario, fx), fx or scenario.currency
    sync, batch = _workload_costs(scenario, catalogue, on=_pricing_day(scenario, on), fx=fx)
    return _share_frame(scenario, shares, _base(sync, batch, scenario), _currency_code(fx))


# -- the tornado ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Variation:
    """One tornado row: an input moved down and up, as :func:`sensitivity` moves it."""

    label: str
    low: float
    high: float
    index: int | None = None  # the workload; None for a business input
    field: str = ""  # volume, a per-request count, batch_share, or a business field


def _check_step(step: float) -> None:
    if not 0 < step < 1:
        raise InvalidArgumentError(
            f"step: got {step!r}; expected a fraction between 0 and 1, such as 0.2"
        )


def _tornado_variations(scenario: Scenario, step: float) -> list[_Variation]:
    """The inputs :func:`sensitivity` varies, in its order, with its values."""
    _check_step(step)
    low_factor, high_factor = 1 - step, 1 + step
    rows: list[_Variation] = []
    for index, w in enumerate(scenario.workloads):
        count = w.requests.count
        if count:
            rows.append(
                _Variation(
                    f"{w.name}: volume", count * low_factor, count * high_factor, index, "volume"
                )
            )
        for name in PER_REQUEST_COUNTS:
            value = getattr(w, name)
            if value:
                rows.append(
                    _Variation(
                        f"{w.name}: {name}", value * low_factor, value * high_factor, index, name
                    )
                )
        if w.batch_share:
            low = min(1.0, max(0.0, w.batch_share * low_factor))
            high = min(1.0, max(0.0, w.batch_share * high_factor))
            rows.append(_Variation(f"{w.name}: batch_share", low, high, index, "batch_share"))
    business = scenario.business
    if business is not None:
        for name in ("revenue", "other_cogs"):
            value = getattr(business, name)
            if value:
                rows.append(
                    _Variation(
                        f"business: {name}", value * low_factor, value * high_factor, None, name
                    )
                )
    return rows


def _repriced(scenario: Scenario, variations: Sequence[_Variation]) -> list[tuple[int, str, float]]:
    """The variants whose tokens per request change, (workload, field, value): the only ones
    priced again, low then high."""
    out = []
    for v in variations:
        if v.index is not None and v.field in PER_REQUEST_COUNTS:
            out += [(v.index, v.field, v.low), (v.index, v.field, v.high)]
    return out


def _tornado_frame(
    scenario: Scenario,
    step: float,
    variations: Sequence[_Variation],
    base: _Base,
    repriced_sync: np.ndarray,
    repriced_batch: np.ndarray,
    currency: str,
) -> pd.DataFrame:
    n = len(variations)
    total_sync, total_plan = float(base.sync.sum()), float(base.plan.sum())
    plan_sync = np.full((n, 2), total_sync)  # (low, high) sync-plan cost of each variation
    plan_batch = np.full((n, 2), total_plan)
    revenue = np.full((n, 2), scenario.business.revenue if scenario.business else np.nan)
    other = np.full((n, 2), scenario.business.other_cogs if scenario.business else np.nan)
    priced = 0
    for row, v in enumerate(variations):
        if v.index is None:
            target = revenue if v.field == "revenue" else other
            target[row] = (v.low, v.high)
            continue
        i = v.index
        s, b, share = base.sync[i], base.batch[i], base.share[i]
        old = share * b + (1 - share) * s
        if v.field == "volume":
            count = scenario.workloads[i].requests.count
            for side, value in enumerate((v.low, v.high)):
                f = value / count
                plan_sync[row, side] = total_sync - s + s * f
                plan_batch[row, side] = total_plan - old + (share * b + (1 - share) * s) * f
        elif v.field == "batch_share":
            for side, value in enumerate((v.low, v.high)):
                plan_batch[row, side] = total_plan - old + value * b + (1 - value) * s
        else:
            for side in (0, 1):
                s2, b2 = repriced_sync[priced], repriced_batch[priced]
                priced += 1
                plan_sync[row, side] = total_sync - s + s2
                plan_batch[row, side] = total_plan - old + share * b2 + (1 - share) * s2
    has_margin = scenario.business is not None
    if has_margin:
        # As MarginImpact.gross_margin_batch_pct: (revenue - (other COGS + inference)) / revenue.
        results = (revenue - (other + plan_batch)) / revenue * 100
        base_result = _studied_figure(scenario.business, total_sync, total_plan)
    else:
        results = plan_batch
        base_result = total_plan
    frame = pd.DataFrame(
        {
            "input": [v.label for v in variations],
            "low_value": [v.low for v in variations],
            "high_value": [v.high for v in variations],
            "low_result": results[:, 0] if n else [],
            "high_result": results[:, 1] if n else [],
        },
        columns=list(SENSITIVITY_COLUMNS[:-1]),
    )
    frame["swing"] = (frame["high_result"] - frame["low_result"]).abs().astype("float64")
    # Equal swings keep their input order (a stable sort), as sensitivity's do; the
    # key is rounded so that float noise from adding instead of re-summing cannot reorder them.
    order = np.argsort(-np.round(frame["swing"].to_numpy(), 8), kind="stable")
    frame = frame.iloc[order].reset_index(drop=True)
    frame.attrs.update(
        base_result=float(base_result),
        measure="Batch-plan gross margin" if has_margin else "Batch-plan monthly cost",
        unit="percent" if has_margin else "money",
        currency=currency,
        step=step,
    )
    return frame


def tornado(
    scenario: Scenario,
    catalogue: Catalogue,
    *,
    step: float = TORNADO_STEP,
    on: date | None = None,
    fx: Currency | None = None,
) -> pd.DataFrame:
    """Sensitivity of the batch plan to each input moved ``step`` down and up alone.

    The figure studied is the batch plan's gross margin % where the scenario has a business
    block, else its monthly cost. Columns are :data:`SENSITIVITY_COLUMNS`,
    sorted by swing, largest first; ``attrs`` holds ``base_result``, ``measure`` (the figure's
    name), ``unit`` ("percent" or "money"), ``currency`` and ``step``.

    The rows are :func:`sensitivity`'s, but the work is linear in the
    workloads: a volume or share change is arithmetic on the workload's own cost, and only a
    change in tokens per request prices that one workload again (all of them in one pass).
    """
    scenario, fx = _business_in(scenario, fx), fx or scenario.currency
    variations = _tornado_variations(scenario, step)
    extra = _repriced(scenario, variations)
    n = len(scenario.workloads)
    sync, batch = _workload_costs(
        scenario, catalogue, on=_pricing_day(scenario, on), fx=fx, variants=extra
    )
    base = _base(sync[:n], batch[:n], scenario)
    return _tornado_frame(scenario, step, variations, base, sync[n:], batch[n:], _currency_code(fx))


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
    catalogue: Catalogue,
    *,
    on: date | None = None,
    factors: Sequence[float] | np.ndarray = DEFAULT_FACTORS,
    shares: Sequence[float] | np.ndarray = DEFAULT_SHARES,
    step: float = TORNADO_STEP,
) -> ScenarioAnalysis:
    """The run, the volume and batch-share curves, the tornado and the waterfall.

    The curves and the tornado are priced together in one pass whose size is linear in the
    workloads: each workload once, plus one row per tokens-per-request variant.
    """
    run = run_scenario(scenario, catalogue, on=on)
    factors = np.asarray(factors, dtype="float64")
    shares = np.asarray(shares, dtype="float64")
    _check_shares(shares)
    variations = _tornado_variations(scenario, step)
    extra = _repriced(scenario, variations)
    n = len(scenario.workloads)
    sync, batch = _workload_costs(scenario, catalogue, on=run.price_date, fx=run.fx, variants=extra)
    base = _base(sync[:n], batch[:n], scenario)
    return ScenarioAnalysis(
        run=run,
        volume=_volume_frame(scenario, factors, base, run.currency),
        shares=_share_frame(scenario, shares, base, run.currency),
        tornado=_tornado_frame(scenario, step, variations, base, sync[n:], batch[n:], run.currency),
        waterfall=waterfall_steps(run),
    )


# -- sensitivity, one scenario at a time (the reference the one-pass tornado is checked against)
def _variations(
    scenario: Scenario, step: float
) -> Iterator[tuple[str, float, float, Scenario, Scenario]]:
    """(label, low value, high value, low scenario, high scenario) for every input that is set.

    An input at 0 is left out: a relative step cannot move it.
    """
    low_factor, high_factor = 1 - step, 1 + step
    for index, w in enumerate(scenario.workloads):
        count = w.requests.count
        if count:
            low, high = count * low_factor, count * high_factor
            yield (
                f"{w.name}: volume",
                low,
                high,
                scenario.with_workload(index, requests=replace(w.requests, count=low)),
                scenario.with_workload(index, requests=replace(w.requests, count=high)),
            )
        for name in PER_REQUEST_COUNTS:
            value = getattr(w, name)
            if value:
                low, high = value * low_factor, value * high_factor
                yield (
                    f"{w.name}: {name}",
                    low,
                    high,
                    scenario.with_workload(index, **{name: low}),
                    scenario.with_workload(index, **{name: high}),
                )
        if w.batch_share:
            # A share cannot leave 0..1: at 100% batch the high side equals the base.
            low = min(1.0, max(0.0, w.batch_share * low_factor))
            high = min(1.0, max(0.0, w.batch_share * high_factor))
            yield (
                f"{w.name}: batch_share",
                low,
                high,
                scenario.with_workload(index, batch_share=low),
                scenario.with_workload(index, batch_share=high),
            )
    business = scenario.business
    if business is not None:
        for name in ("revenue", "other_cogs"):
            value = getattr(business, name)
            if value:
                low, high = value * low_factor, value * high_factor
                yield (
                    f"business: {name}",
                    low,
                    high,
                    replace(scenario, business=replace(business, **{name: low})),
                    replace(scenario, business=replace(business, **{name: high})),
                )


def sensitivity(
    scenario: Scenario, evaluate: Callable[[Scenario], float], *, step: float = 0.2
) -> pd.DataFrame:
    """Tornado-chart data: ``evaluate`` with each input moved ``step`` down and up alone.

    ``evaluate`` maps a scenario to the figure to study (say, the batch plan's gross margin).
    Inputs are each workload's volume, token and cache counts and batch share (kept within
    0..1), and the business's revenue and other costs; each is moved by the same relative
    ``step`` (0.2 = 20%) down and up. Rows are sorted by ``swing``, the absolute difference
    between the two results, largest first; ``attrs["base_result"]`` holds the unmoved figure.
    """
    _check_step(step)
    rows = []
    for label, low_value, high_value, low_scenario, high_scenario in _variations(scenario, step):
        low_result, high_result = float(evaluate(low_scenario)), float(evaluate(high_scenario))
        rows.append(
            (label, low_value, high_value, low_result, high_result, abs(high_result - low_result))
        )
    frame = pd.DataFrame(rows, columns=list(SENSITIVITY_COLUMNS))
    # A stable sort keeps equal swings in input order, so the chart does not shuffle.
    frame = frame.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
    frame.attrs["base_result"] = float(evaluate(scenario))
    return frame
