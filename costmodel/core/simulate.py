"""Monte Carlo over a scenario's uncertain inputs: P10, P50, P90 and mean of a month's cost,
savings and gross margin, both plans. Pure (no I/O, no clock) and vectorised: no Python loop
runs per draw.

What a draw is
--------------
The distributions of :mod:`costmodel.core.uncertainty` describe the tokens of **one request**. A
month's cost is the sum over that month's requests, so a draw is *one month*: its N requests
each drawn from the distribution, each priced as a whole request (the long-context tier bills
every token of a request whose prompt is over the threshold, so cost is not linear in tokens
and a request's mean tokens are not enough). Summing N independent request costs is done
exactly in distribution for large N by the central limit theorem, from the first two moments
of one request's cost:

1. Each workload's distribution is laid out as a fixed set of request profiles (a quantile
   grid per lognormal count, independent counts shuffled against each other with the seed;
   a ``from_store`` job's stored requests as they are, counts kept together), and the whole
   set, both tiers, is priced in one :func:`~costmodel.core.pricing.price_usage` call.
2. Per workload: the mean, variance and sync/batch covariance of one request's cost.
3. Per draw: the month's sync cost and batch-plan cost are a correlated normal pair with
   N times those moments (the batch plan shares its synchronous requests with the sync
   plan), floored at 0; the share of batched requests missing a deadline is drawn per draw
   where the store measured it (see :func:`costmodel.core.uncertainty.miss_shares`).

So the band says how much one month can differ from another with the same inputs: with
thousands of requests a month it is narrow (per-request variation averages out), and what
moves the *level* is the distribution's shape (its tail's long-context share) and deadline
misses. A scenario with no uncertain inputs is not simulated at all: every draw is the point
figure of :func:`costmodel.core.report.run_scenario`, so P10 = P50 = P90 equal it to the cent.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from typing import Any, Final

import numpy as np
import pandas as pd

from costmodel.core.money import PERCENT, round_cents
from costmodel.core.uncertainty import (
    DISTRIBUTION_KEYS,
    FromStore,
    LogNormal,
    StoreInputs,
    check_resolved,
    miss_shares,
)
from costmodel.errors import CostModelError

__all__ = [
    "MAX_DRAWS",
    "PROFILES",
    "QUANTILES",
    "CostMoments",
    "Simulation",
    "check_draws",
    "cost_moments",
    "draw_costs",
    "has_uncertainty",
    "simulate_scenario",
    "summarise",
]

# Request profiles per uncertain workload: the quantile grid's step is 1/4096, which puts the
# grid's long-context share within 0.03 percentage points of the distribution's.
PROFILES: Final = 4096
MAX_DRAWS: Final = 1_000_000  # 1M draws x 12 months x a few workloads stays in a few GB
QUANTILES: Final = (("p10", 10.0), ("p50", 50.0), ("p90", 90.0))
SCHEMA: Final = "costmodel.simulation/1"
# The usage-frame column of each scenario count.
_USAGE_COLUMN: Final = {
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "cache_write_tokens": "cache_write_5m_tokens",
    "cache_write_1h_tokens": "cache_write_1h_tokens",
    "cache_read_tokens": "cache_read_tokens",
}


def check_draws(draws: object, seed: object) -> tuple[int, int]:
    """``draws`` and ``seed`` as ints, or one line naming the field."""
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer):
        raise CostModelError(f"--simulate: got {draws!r}; expected a whole number of draws")
    if not 1 <= int(draws) <= MAX_DRAWS:
        raise CostModelError(
            f"--simulate: got {draws}; expected a number of draws from 1 to {MAX_DRAWS:,}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise CostModelError(f"--seed: got {seed!r}; expected a whole number")
    if int(seed) < 0:
        raise CostModelError(f"--seed: got {seed}; expected a whole number, 0 or more")
    return int(draws), int(seed)


def has_uncertainty(scenario: Any) -> bool:
    """Whether any draw could differ from the point figures (growth alone is certain)."""
    return any(w.ranges is not None and w.ranges.uncertain for w in scenario.workloads)


# -- request profiles and their cost moments ---------------------------------------------------
def _profiles(w: Any, inputs: StoreInputs, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One workload's request profiles: token count per profile, per scenario key."""
    dists = dict(w.ranges.tokens) if w.ranges is not None else {}
    if not dists:
        return {key: np.array([float(getattr(w, key))]) for key in DISTRIBUTION_KEYS}
    jobs = [d.job for d in dists.values() if isinstance(d, FromStore)]
    size = len(inputs.samples[jobs[0]]) if jobs else PROFILES
    out: dict[str, np.ndarray] = {}
    rows_of: dict[str, np.ndarray] = {}
    for key in DISTRIBUTION_KEYS:
        dist = dists.get(key)
        if dist is None:
            out[key] = np.full(size, float(getattr(w, key)))
        elif isinstance(dist, FromStore):
            sample = inputs.samples[dist.job]
            if dist.job not in rows_of:
                # Counts from one job stay together (a long prompt and its output are one
                # request); another job's sample is resampled to this workload's size.
                rows_of[dist.job] = (
                    np.arange(size) if len(sample) == size else rng.integers(0, len(sample), size)
                )
            out[key] = sample[rows_of[dist.job], DISTRIBUTION_KEYS.index(key)]
        else:
            out[key] = _lognormal_grid(dist, size, rng)
    return out


def _lognormal_grid(dist: LogNormal, size: int, rng: np.random.Generator) -> np.ndarray:
    """A midpoint quantile grid, rescaled to the exact mean, in a seeded random order (so
    counts drawn from different distributions are independent of each other)."""
    grid = dist.quantiles((np.arange(size) + 0.5) / size)
    grid *= dist.mean / grid.mean()  # the grid's truncated tail would otherwise miss a little
    return rng.permutation(grid)


@dataclass(frozen=True)
class CostMoments:
    """Per (day, workload): one request's mean sync and batch cost, their variances and
    covariance, in the scenario's currency. Arrays of shape (days, workloads)."""

    sync_mean: np.ndarray
    batch_mean: np.ndarray
    sync_var: np.ndarray
    batch_var: np.ndarray
    cov: np.ndarray
    # Per model: the largest share of its drawn requests (on any day priced) whose prompt is
    # over the model's limit. The API refuses such requests, so they are not billed.
    refused: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, arrays: Iterable[np.ndarray], refused: dict[str, float]) -> CostMoments:
        """From the five arrays in field order (:data:`_MOMENT_ARRAYS`)."""
        sync_mean, batch_mean, sync_var, batch_var, cov = arrays
        return cls(sync_mean, batch_mean, sync_var, batch_var, cov, refused)


def cost_moments(
    scenario: Any,
    catalogue: Any,
    days: Sequence[date],
    inputs: StoreInputs,
    rng: np.random.Generator,
    *,
    rate: float = 1.0,
) -> CostMoments:
    """Price every workload's request profiles on every day, both tiers, in one pass.

    Days on which every model of the scenario has the same prices are priced once: a year of
    months with no price change is one pricing pass, not twelve.
    """
    check_resolved(scenario)
    profiles = [_profiles(w, inputs, rng) for w in scenario.workloads]
    models = [catalogue.model(w.model) for w in scenario.workloads]
    regimes: dict[tuple[int, ...], int] = {}
    regime_of_day = []
    first_day_of: list[date] = []
    for day in days:
        key = tuple(id(model.price_on(day)) for model in models)
        if key not in regimes:
            regimes[key] = len(first_day_of)
            first_day_of.append(day)
        regime_of_day.append(regimes[key])
    refused: dict[str, float] = {}
    priced = _regime_moments(scenario, catalogue, profiles, first_day_of, rate, refused)
    pick = np.array(regime_of_day)
    return CostMoments.of((np.ascontiguousarray(array[pick]) for array in priced), refused)


_MOMENT_ARRAYS: Final = ("sync_mean", "batch_mean", "sync_var", "batch_var", "cov")


def refused_notes(refused: dict[str, float]) -> list[str]:
    """What the figures leave out when a distribution's tail passes a model's prompt limit."""
    return [
        f"{model}: {share:.2%} of the drawn requests have prompts over the model's limit "
        "(uncached input + cache writes + cache reads); the API refuses them, so they are "
        "counted as unbilled. Narrow the distribution or choose a model with a larger context "
        "window."
        for model, share in sorted(refused.items())
        if share > 0
    ]


def _regime_moments(
    scenario: Any,
    catalogue: Any,
    profiles: list[dict[str, np.ndarray]],
    days: Sequence[date],
    rate: float,
    refused: dict[str, float],
) -> tuple[np.ndarray, ...]:
    from costmodel.core.pricing import price_usage

    sizes = np.array([len(p["input_tokens"]) for p in profiles])
    per_day = int(sizes.sum()) * 2
    n_days = len(days)
    columns: dict[str, Any] = {}
    for key, column in _USAGE_COLUMN.items():
        block = np.concatenate([np.tile(p[key], 2) for p in profiles])
        columns[column] = np.tile(block, n_days)
    workload_of_row = np.tile(np.repeat(np.arange(len(profiles)), sizes * 2), n_days)
    _drop_refused_prompts(scenario, catalogue, days, columns, workload_of_row, per_day, refused)
    tier_block = np.concatenate([np.repeat([0, 1], size) for size in sizes])
    categorical = {
        "model": [w.model for w in scenario.workloads],
        "inference_geo": [w.inference_geo for w in scenario.workloads],
    }
    frame = pd.DataFrame(
        {
            **{
                name: pd.Categorical.from_codes(
                    pd.factorize(pd.Index(values))[0][workload_of_row],
                    categories=pd.factorize(pd.Index(values))[1],
                )
                for name, values in categorical.items()
            },
            "requests": np.ones(per_day * n_days),
            **columns,
            "web_search_requests": np.tile(
                np.concatenate(
                    [
                        np.full(size * 2, float(w.web_search_requests))
                        for w, size in zip(scenario.workloads, sizes, strict=True)
                    ]
                ),
                n_days,
            ),
            "tier": pd.Categorical.from_codes(
                np.tile(tier_block, n_days), categories=pd.Index(["standard", "batch"])
            ),
            "speed": pd.Categorical.from_codes(
                np.zeros(per_day * n_days, dtype=np.int8), categories=pd.Index(["standard"])
            ),
            "date": np.repeat(np.array(days, dtype="datetime64[D]"), per_day),
        }
    )
    priced = price_usage(frame, catalogue, context=scenario.source)
    cost = np.asarray(priced.cost_contracted, dtype="float64").reshape(n_days, per_day) * rate
    shape = (n_days, len(profiles))
    moments = {name: np.zeros(shape) for name in ("sm", "bm", "sv", "bv", "cv")}
    start = 0
    for i, size in enumerate(sizes):
        s = cost[:, start : start + size]
        b = cost[:, start + size : start + 2 * size]
        start += 2 * size
        es, eb = s.mean(axis=1), b.mean(axis=1)
        # Central moments: exactly 0 for one profile or identical ones, so nothing certain
        # picks up float noise.
        ds, db = s - es[:, None], b - eb[:, None]
        moments["sm"][:, i], moments["bm"][:, i] = es, eb
        moments["sv"][:, i] = (ds * ds).mean(axis=1)
        moments["bv"][:, i] = (db * db).mean(axis=1)
        moments["cv"][:, i] = (ds * db).mean(axis=1)
    return tuple(moments[name] for name in ("sm", "bm", "sv", "bv", "cv"))


def _drop_refused_prompts(
    scenario: Any,
    catalogue: Any,
    days: Sequence[date],
    columns: dict[str, Any],
    workload_of_row: np.ndarray,
    per_day: int,
    refused: dict[str, float],
) -> None:
    """Zero the drawn requests whose prompt is over their model's limit on the day (the API
    refuses them: no charge), recording the share per model in ``refused``."""
    limits = np.array(
        [[_prompt_limit(catalogue, w.model, day) for w in scenario.workloads] for day in days]
    )  # (days, workloads)
    if np.isinf(limits).all():
        return
    day_of_row = np.repeat(np.arange(len(days)), per_day)
    prompt = (
        columns["input_tokens"]
        + columns["cache_write_5m_tokens"]
        + columns["cache_write_1h_tokens"]
        + columns["cache_read_tokens"]
    )
    over = prompt > limits[day_of_row, workload_of_row]
    if not over.any():
        return
    for column in columns.values():
        column[over] = 0.0
    for i, w in enumerate(scenario.workloads):
        mine = workload_of_row == i
        for d in range(len(days)):
            rows = mine & (day_of_row == d)
            share = float(over[rows].mean()) if rows.any() else 0.0
            model = catalogue.resolve(w.model)
            refused[model] = max(refused.get(model, 0.0), share)


def _prompt_limit(catalogue: Any, model: str, day: date) -> float:
    limit = catalogue.model(model).price_on(day).max_prompt_tokens
    return math.inf if limit is None else float(limit)


def draw_costs(
    requests: np.ndarray,
    moments: CostMoments,
    batch_share: np.ndarray,
    miss: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Per draw, month and workload: the month's sync cost and batch-plan cost.

    ``requests``: (months, days, workloads) requests priced at each day's moments (a month
    split at a price change has two days with requests, the others 0). ``miss``: (draws,
    workloads) share of batched requests that run synchronously. Returns two arrays of shape
    (draws, months, workloads).
    """
    # Worked in (workloads, months, draws) order, draws innermost and contiguous: numpy's
    # loops over a last axis of three workloads cost ten times the arithmetic.
    a = np.einsum("mdw,dw->wm", requests, moments.sync_mean)[..., None]  # N * E[sync cost]
    b = np.einsum("mdw,dw->wm", requests, moments.batch_mean)[..., None]
    vs = np.einsum("mdw,dw->wm", requests, moments.sync_var)[..., None]
    vb = np.einsum("mdw,dw->wm", requests, moments.batch_var)[..., None]
    cv = np.einsum("mdw,dw->wm", requests, moments.cov)[..., None]
    # The share of the batch plan's requests that are synchronous: never batched, or missed.
    q = np.ascontiguousarray((1.0 - batch_share[None, :] * (1.0 - miss)).T)[:, None, :]
    draws = len(miss)
    mean_sync = np.broadcast_to(a, (a.shape[0], a.shape[1], draws))
    mean_batch = b + q * (a - b)
    if not (vs.any() or vb.any()):  # nothing varies within a month: no noise to draw
        return np.array(mean_sync).transpose(2, 1, 0), mean_batch.transpose(2, 1, 0)
    var_batch = vb + q * (vs - vb)
    cov = cv + q * (vs - cv)
    sd_sync = np.sqrt(vs)
    with np.errstate(divide="ignore", invalid="ignore"):
        l21 = np.where(sd_sync > 0, cov / sd_sync, 0.0)
    l22 = np.sqrt(np.maximum(var_batch - l21 * l21, 0.0))
    z1 = rng.standard_normal(mean_batch.shape)
    z2 = rng.standard_normal(mean_batch.shape)
    sync = np.maximum(mean_sync + sd_sync * z1, 0.0)
    batch = np.maximum(mean_batch + l21 * z1 + l22 * z2, 0.0)
    return sync.transpose(2, 1, 0), batch.transpose(2, 1, 0)


# -- summaries ------------------------------------------------------------------------------
def summarise(values: np.ndarray, axis: int = 0) -> dict[str, np.ndarray]:
    """P10, P50, P90 and mean along ``axis``."""
    found = np.percentile(values, [q for _, q in QUANTILES], axis=axis)  # one partition
    out = {name: found[i] for i, (name, _) in enumerate(QUANTILES)}
    out["mean"] = values.mean(axis=axis)
    # Equal draws give an exactly equal mean, not one a rounding step off.
    same = np.ptp(values, axis=axis) == 0
    if np.any(same):
        out["mean"] = np.where(same, np.take(values, 0, axis=axis), out["mean"])
    return out


def margin_draws(
    cost_sync: np.ndarray, cost_batch: np.ndarray, business: Any
) -> dict[str, np.ndarray]:
    """Gross margin both ways and the change in points, per draw (percent of revenue)."""
    revenue, other = float(business.revenue), float(business.other_cogs)
    sync = (revenue - other - cost_sync) / revenue * PERCENT
    batch = (revenue - other - cost_batch) / revenue * PERCENT
    return {
        "gross_margin_sync_pct": sync,
        "gross_margin_batch_pct": batch,
        "delta_pp": batch - sync,
    }


def money_figure(value: float) -> float | None:
    """To the cent, after shedding float noise far below it (1e-6), so that a sum that is
    exactly on a half cent in decimals rounds the way the decimal figure does."""
    return round_cents(round(float(value), 6))


MONEY_FIGURES: Final = ("cost_sync", "cost_batch", "savings")
MARGIN_FIGURES: Final = ("gross_margin_sync_pct", "gross_margin_batch_pct", "delta_pp")
LABELS: Final = {
    "cost_sync": "Sync",
    "cost_batch": "Batch plan",
    "savings": "Savings",
    "gross_margin_sync_pct": "Gross margin, sync",
    "gross_margin_batch_pct": "Gross margin, batch plan",
    "delta_pp": "Change in gross margin (pp)",
}


# -- the result -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Simulation:
    """A month's figures over ``draws`` simulated months, beside the point figures."""

    scenario: Any
    draws: int
    seed: int
    price_date: date
    currency: str
    figures: dict[str, dict[str, float]]  # figure -> p10/p50/p90/mean
    point: dict[str, float]  # figure -> today's point figure (costmodel run)
    workloads: pd.DataFrame  # name, model, cost_sync_p10..., cost_batch_p10...
    simulated: bool  # False: no uncertain inputs, every draw is the point figure
    samples: dict[str, np.ndarray] = field(repr=False, compare=False, default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return f"{self.scenario.name}: a month over {self.draws:,} simulated months"

    def to_dict(self) -> dict[str, Any]:
        def figure(name: str, values: dict[str, float]) -> dict[str, Any]:
            if name in MONEY_FIGURES:
                return {k: money_figure(v) for k, v in values.items()}
            return {k: round(float(v), 4) for k, v in values.items()}

        return {
            "schema": SCHEMA,
            "scenario": self.scenario.name,
            "source": self.scenario.source,
            "period": "month",
            "currency": self.currency,
            "price_date": self.price_date.isoformat(),
            "draws": self.draws,
            "seed": self.seed,
            "simulated": self.simulated,
            "figures": {name: figure(name, values) for name, values in self.figures.items()},
            "point": {
                name: money_figure(v) if name in MONEY_FIGURES else round(float(v), 4)
                for name, v in self.point.items()
            },
            "workloads": [
                {
                    str(key): (money_figure(value) if str(key).startswith("cost_") else value)
                    for key, value in row.items()
                }
                for row in self.workloads.to_dict(orient="records")
            ],
            "notes": list(self.notes),
        }

    def csv_frame(self) -> pd.DataFrame:
        data = self.to_dict()
        rows = [
            {"figure": name, **values, "point": data["point"].get(name)}
            for name, values in data["figures"].items()
        ]
        return pd.DataFrame(rows, columns=["figure", "p10", "p50", "p90", "mean", "point"])

    def sections(self) -> list[Any]:
        from costmodel.core.layouts import Section

        rows = []
        for name, values in self.figures.items():
            rows.append(
                {
                    "Figure (monthly)": LABELS[name],
                    "P10": values["p10"],
                    "P50": values["p50"],
                    "P90": values["p90"],
                    "Mean": values["mean"],
                    "Point": self.point.get(name, math.nan),
                }
            )
        frame = pd.DataFrame(rows)
        money_rows = frame["Figure (monthly)"].isin([LABELS[n] for n in MONEY_FIGURES])
        sections = [
            _mixed_section(
                f"{self.scenario.name}: monthly figures, P10 to P90 of {self.draws:,} draws "
                f"({self.currency})",
                frame,
                money_rows.to_numpy(),
                self.currency,
            )
        ]
        per = self.workloads.rename(
            columns={
                "name": "Workload",
                "model": "Model",
                "cost_sync_p10": "Sync P10",
                "cost_sync_p50": "Sync P50",
                "cost_sync_p90": "Sync P90",
                "cost_batch_p10": "Batch P10",
                "cost_batch_p50": "Batch P50",
                "cost_batch_p90": "Batch P90",
            }
        )
        sections.append(
            Section(
                "By workload",
                per,
                money=tuple(c for c in per.columns if c.endswith(("P10", "P50", "P90"))),
            )
        )
        return sections


def _mixed_section(title: str, frame: pd.DataFrame, money_rows: np.ndarray, currency: str) -> Any:
    """Money rows and margin rows in one table: cells formatted here, aligned as figures."""
    from costmodel.core.layouts import Section
    from costmodel.core.money import format_money, format_percent, format_points

    shown = frame.astype(object)
    for column in ("P10", "P50", "P90", "Mean", "Point"):
        cells = []
        for is_money, label, value in zip(
            money_rows, frame["Figure (monthly)"], frame[column], strict=True
        ):
            if value is None or (isinstance(value, float) and math.isnan(value)):
                cells.append("")
            elif is_money:
                cells.append(format_money(money_figure(value), currency))
            elif "pp" in label:
                cells.append(format_points(float(value)))
            else:
                cells.append(format_percent(float(value), 2))
        shown[column] = cells
    return Section(title, shown, figures=("P10", "P50", "P90", "Mean", "Point"))


def _month_draws(
    scenario: Any, moments: CostMoments, inputs: StoreInputs, draws: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Per draw and workload, one month's sync and batch-plan cost at the volume as written."""
    monthly = np.array([w.requests.per_month(scenario.days_per_month) for w in scenario.workloads])
    share = np.array([w.batch_share for w in scenario.workloads])
    miss = miss_shares(scenario.workloads, inputs, draws, rng)
    sync, batch = draw_costs(monthly[None, None, :], moments, share, miss, rng)
    return sync[:, 0, :], batch[:, 0, :]


# -- the whole question -----------------------------------------------------------------------
def simulate_scenario(
    scenario: Any,
    catalogue: Any,
    *,
    draws: int,
    seed: int,
    on: date,
    inputs: StoreInputs | None = None,
    fx: Any = None,
) -> Simulation:
    """A month of ``scenario`` (at the rates of ``on``) over ``draws`` seeded draws.

    ``inputs``: what the store measured, for ``from_store`` counts and deadlines without a
    ``miss_share`` (:func:`costmodel.core.uncertainty.read_store_inputs`, read by the shell).
    Growth is a forecast's business (:mod:`costmodel.core.forecast`): a month here is the volume as
    written, so the point figures are those of ``costmodel run``.
    """
    from costmodel.core.report import run_scenario

    draws, seed = check_draws(draws, seed)
    inputs = inputs or StoreInputs()
    point_run = run_scenario(scenario, catalogue, on=on, fx=fx)
    fx = fx or scenario.currency
    currency = fx.code if fx else "USD"
    names = [w.name for w in scenario.workloads]
    rng = np.random.default_rng(seed)
    simulated = has_uncertainty(scenario)
    point = {
        # The figures run shows (exact totals rounded once), so a certain scenario's
        # quantiles are run's own figures to the cent.
        "cost_sync": float(point_run.shown("cost_sync")[1]),
        "cost_batch": float(point_run.shown("cost_batch")[1]),
        "savings": float(point_run.shown_savings),  # as run shows it: rounded sync - batch
    }
    if scenario.business is not None and point_run.margin is not None:
        m = point_run.margin
        point.update(
            gross_margin_sync_pct=float(m.gross_margin_sync_pct),
            gross_margin_batch_pct=float(m.gross_margin_batch_pct),
            delta_pp=float(m.delta_pp),
        )
    if simulated:
        moments = cost_moments(
            scenario, catalogue, [on], inputs, rng, rate=float(fx.per_usd) if fx else 1.0
        )
        sync, batch = _month_draws(scenario, moments, inputs, draws, rng)
        per_draw = {"cost_sync": sync.sum(axis=1), "cost_batch": batch.sum(axis=1)}
        per_draw["savings"] = per_draw["cost_sync"] - per_draw["cost_batch"]
        if "delta_pp" in point:
            per_draw.update(
                margin_draws(per_draw["cost_sync"], per_draw["cost_batch"], scenario.business)
            )
    else:
        # Nothing uncertain: every draw is `costmodel run`'s figure itself, not a float path
        # of our own that could land a cent away.
        shape = (draws, len(names))
        sync = np.broadcast_to(point_run.workloads["cost_sync"].to_numpy(float), shape)
        batch = np.broadcast_to(point_run.workloads["cost_batch"].to_numpy(float), shape)
        per_draw = {name: np.full(draws, value) for name, value in point.items()}
    figures = {
        name: {k: float(v) for k, v in summarise(values).items()}
        for name, values in per_draw.items()
    }
    rows = []
    sync_q, batch_q = summarise(sync), summarise(batch)
    for i, w in enumerate(scenario.workloads):
        rows.append(
            {
                "name": w.name,
                "model": catalogue.resolve(w.model),
                **{f"cost_sync_{k}": float(sync_q[k][i]) for k, _ in QUANTILES},
                **{f"cost_batch_{k}": float(batch_q[k][i]) for k, _ in QUANTILES},
            }
        )
    notes = [*point_run.notes, *_notes(scenario, simulated, inputs)]
    if simulated:
        notes.extend(refused_notes(moments.refused))
    return Simulation(
        scenario=scenario,
        draws=draws,
        seed=seed,
        price_date=on,
        currency=currency,
        figures=figures,
        point=point,
        workloads=pd.DataFrame(rows),
        simulated=simulated,
        samples=per_draw,
        notes=tuple(notes),
    )


def _notes(scenario: Any, simulated: bool, inputs: StoreInputs) -> list[str]:
    if not simulated:
        return [
            "No uncertain inputs: every draw is the point figure (P10 = P50 = P90 = costmodel run)."
        ]
    notes = [
        "A draw is one month: its requests each drawn from the token distributions and priced "
        "whole (long-context tier included); the point figure prices each workload's mean "
        "request, so the two differ where the distribution reaches the long-context tier or "
        "a deadline is missed."
    ]
    for w in scenario.workloads:
        d = w.ranges.deadline if w.ranges is not None else None
        if d is None:
            continue
        if d.miss_share is not None:
            notes.append(
                f"{w.name}: {d.miss_share:.1%} of batches assumed to miss the {d.hours:g}-hour "
                "deadline and run synchronously."
            )
        else:
            n, k = inputs.turnaround[w.name]
            notes.append(
                f"{w.name}: {k} of {n} stored batches took longer than {d.hours:g} hours; the "
                "share missing the deadline is drawn from what so few batches allow "
                "(Beta posterior) and runs synchronously."
            )
    return notes


# -- which distribution parameter moves the result most ---------------------------------------
def _scaled_level(dist: LogNormal, factor: float) -> LogNormal:
    """The distribution with its median scaled by ``factor`` (its spread kept)."""
    return replace(dist, mu=dist.mu + math.log(factor))


def _scaled_spread(dist: LogNormal, factor: float) -> LogNormal:
    """The distribution with its sigma scaled by ``factor`` and its mean kept."""
    return replace(
        dist,
        mu=dist.mu + (dist.sigma**2 - (dist.sigma * factor) ** 2) / 2,
        sigma=dist.sigma * factor,
    )


def parameter_tornado(
    scenario: Any,
    catalogue: Any,
    *,
    on: date,
    draws: int = 2000,
    seed: int = 0,
    inputs: StoreInputs | None = None,
    fx: Any = None,
    step: float = 0.2,
) -> pd.DataFrame:
    """The tornado of :func:`costmodel.core.analysis.tornado` over the uncertain inputs' parameters.

    Each parameter is moved down and up by ``step`` alone, and the P50 of the batch plan's
    gross margin (or, without a business block, of its monthly cost) recorded, every run on
    the same seed so that only the parameter differs. Parameters: each lognormal count's
    level (every quantile scaled) and spread (sigma, with the mean held), and each given
    deadline miss share. Only the workload a parameter belongs to is priced again. Columns as
    :data:`costmodel.core.analysis.SENSITIVITY_COLUMNS`, largest swing first; ``attrs`` carry what
    :func:`costmodel.shells.charts.tornado_chart` reads.
    """
    from costmodel.core.analysis import SENSITIVITY_COLUMNS

    draws, seed = check_draws(draws, seed)
    inputs = inputs or StoreInputs()
    fx = fx or scenario.currency
    rate = float(fx.per_usd) if fx else 1.0
    business = scenario.business

    def moments_of(s: Any) -> CostMoments:
        return cost_moments(s, catalogue, [on], inputs, np.random.default_rng(seed), rate=rate)

    base_moments = moments_of(scenario)

    def p50(s: Any, moments: CostMoments) -> float:
        # The same seed for every variant: common random numbers, so only the parameter moves.
        _, batch = _month_draws(s, moments, inputs, draws, np.random.default_rng(seed + 1))
        total = batch.sum(axis=1)
        if business is not None:
            total = margin_draws(total, total, business)["gross_margin_batch_pct"]
        return float(np.percentile(total, 50))

    def varied(s: Any, index: int) -> float:
        alone = moments_of(replace(s, workloads=(s.workloads[index],)))
        spliced = CostMoments.of(
            (
                np.concatenate([mine[:, :index], theirs, mine[:, index + 1 :]], axis=1)
                for mine, theirs in zip(
                    (getattr(base_moments, name) for name in _MOMENT_ARRAYS),
                    (getattr(alone, name) for name in _MOMENT_ARRAYS),
                    strict=True,
                )
            ),
            {**base_moments.refused, **alone.refused},
        )
        return p50(s, spliced)

    base = p50(scenario, base_moments)
    rows = []
    for index, w in enumerate(scenario.workloads):
        r = w.ranges
        if r is None:
            continue
        for key, dist in r.tokens:
            if not isinstance(dist, LogNormal):
                continue
            label = key.removesuffix("_tokens").replace("_", " ")
            variants = {
                f"{w.name}: {label} tokens, level": partial(_scaled_level, dist),
                f"{w.name}: {label} tokens, spread": partial(_scaled_spread, dist),
            }
            for name, vary in variants.items():
                low = varied(_with_token(scenario, index, key, vary(1 - step)), index)
                high = varied(_with_token(scenario, index, key, vary(1 + step)), index)
                rows.append((name, 1 - step, 1 + step, low, high))
        d = r.deadline
        if d is not None and d.miss_share is not None and d.miss_share > 0:
            shares = (d.miss_share * (1 - step), min(d.miss_share * (1 + step), 1.0))
            low, high = (
                p50(_with_deadline(scenario, index, replace(d, miss_share=v)), base_moments)
                for v in shares
            )
            rows.append((f"{w.name}: deadline miss share", *shares, low, high))
    frame = pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS[:-1])
    frame["swing"] = (frame["high_result"] - frame["low_result"]).abs()
    frame = frame.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
    frame.attrs.update(
        measure="P50 gross margin, batch plan" if business is not None else "P50 batch-plan cost",
        unit="percent" if business is not None else "money",
        base_result=base,
        step=step,
        currency=fx.code if fx else "USD",
    )
    return frame


def _with_token(scenario: Any, index: int, key: str, dist: LogNormal) -> Any:
    w = scenario.workloads[index]
    tokens = tuple((k, dist if k == key else d) for k, d in w.ranges.tokens)
    return scenario.with_workload(
        index, ranges=replace(w.ranges, tokens=tokens), **{key: dist.mean}
    )


def _with_deadline(scenario: Any, index: int, deadline: Any) -> Any:
    w = scenario.workloads[index]
    return scenario.with_workload(index, ranges=replace(w.ranges, deadline=deadline))
