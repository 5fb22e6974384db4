"""A month-by-month forecast of a scenario: cost both ways, savings and gross margin, with bands.
Pure: the first month comes from the caller (the shell passes the month after today), never
from a clock here.

- **Volume** is the scenario's, grown by each workload's ``growth`` (compounding monthly from
  its ``from`` month, else from the forecast's first month; flat before it). A per-day volume
  with a ``day_of_week`` profile counts each calendar day of the month at its weekday's weight;
  otherwise a month is ``days_per_month`` days, as in ``costmodel run``.
- **Prices** change on their dates: a catalogue entry whose ``from`` falls inside a month splits
  that month, each part priced at the rates in force on its first day, its requests in
  proportion to its (weighted) days. So a cut on the 15th prices half the month at each rate.
- **Retirement**: a model whose catalogue retirement date falls inside the horizon is flagged
  in that month and after; a model already retired is flagged in every month. Its usage is
  still priced (the figures are what it would cost), never silently dropped.
- **Revenue** and other costs of goods sold stay as the scenario gives them, so growing
  volume against flat revenue lowers the margin: a forecast of cost, not of the business.
- **Bands**: with ``draws``, each month is simulated as :mod:`costmodel.core.simulate` describes;
  a deadline's miss share measured from the store is drawn once per path (it is what we do not
  know about the batches), the month-to-month request mix independently per month.
"""

from __future__ import annotations

import calendar
import itertools
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Final

import numpy as np
import pandas as pd

from costmodel.core.frames import with_total
from costmodel.core.simulate import (
    LABELS,
    MARGIN_FIGURES,
    MONEY_FIGURES,
    check_draws,
    cost_moments,
    draw_costs,
    has_uncertainty,
    margin_draws,
    money_figure,
    refused_notes,
    summarise,
)
from costmodel.core.uncertainty import StoreInputs, WorkloadRanges, miss_shares
from costmodel.errors import CostModelError

__all__ = ["MAX_MONTHS", "Forecast", "forecast_scenario", "month_requests", "next_month"]

MAX_MONTHS: Final = 120
SCHEMA: Final = "costmodel.forecast/1"


def next_month(day: date) -> date:
    """The first day of the month after ``day``'s (the default first month of a forecast)."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _months_between(earlier: date, later: date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def month_requests(w: Any, month: date, first_month: date, days_per_month: float) -> float:
    """A workload's requests in one calendar month: volume, weekday profile and growth."""
    ranges: WorkloadRanges | None = w.ranges
    weights = ranges.weekday_weights() if ranges is not None else None
    if weights is not None and w.requests.per == "day":
        days = calendar.monthrange(month.year, month.month)[1]
        weekdays = (np.arange(days) + month.weekday()) % 7
        base = float(w.requests.count) * float(weights[weekdays].sum())
    else:
        base = w.requests.per_month(days_per_month)
    growth = ranges.growth if ranges is not None else None
    if growth is None:
        return base
    k = _months_between(growth.start or first_month, month)
    return base * (1.0 + growth.per_month) ** k if k > 0 else base


def _day_weights(w: Any, month: date) -> np.ndarray:
    """How a month's requests spread over its days (the weekday profile, else evenly)."""
    days = calendar.monthrange(month.year, month.month)[1]
    weights = w.ranges.weekday_weights() if w.ranges is not None else None
    if weights is None or w.requests.per != "day":
        return np.full(days, 1.0 / days)
    per_day = weights[(np.arange(days) + month.weekday()) % 7]
    normalised: np.ndarray = per_day / per_day.sum()
    return normalised


def _retirement(entry: Any) -> date | None:
    # The catalogue's retirement date (``retired:`` on a model), where it records one.
    value = entry.retired_on
    return value if isinstance(value, date) else None


def _certain(scenario: Any) -> Any:
    """The scenario at its point values: distributions and deadline risk set aside, growth and
    weekdays kept (they are certain)."""
    workloads = []
    for w in scenario.workloads:
        r = w.ranges
        if r is not None:
            kept = WorkloadRanges(growth=r.growth, day_of_week=r.day_of_week)
            r = kept if (kept.growth or kept.day_of_week) else None
        workloads.append(replace(w, ranges=r))
    return replace(scenario, workloads=tuple(workloads))


@dataclass(frozen=True)
class Forecast:
    scenario: Any
    first_month: date
    months: tuple[date, ...]
    currency: str
    frame: pd.DataFrame  # one row per month: requests, point figures, and bands when simulated
    draws: int | None
    seed: int | None
    price_changes: tuple[tuple[date, str], ...]  # (day, model) applied inside the horizon
    flags: tuple[tuple[date, str, str], ...]  # (month, model, what)
    bands: dict[str, np.ndarray] = field(repr=False, compare=False, default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return f"{self.scenario.name}: {len(self.months)}-month forecast"

    def to_dict(self) -> dict[str, Any]:
        months = []
        for row in self.frame.to_dict(orient="records"):
            item: dict[str, Any] = {"month": row["month"], "requests": round(row["requests"], 6)}
            for name in (*MONEY_FIGURES, *MARGIN_FIGURES):
                if name not in row:
                    continue
                value = row[name]
                item[name] = money_figure(value) if name in MONEY_FIGURES else round(value, 4)
                if self.draws:
                    item[f"{name}_band"] = {
                        key: money_figure(row[f"{name}_{key}"])
                        if name in MONEY_FIGURES
                        else round(row[f"{name}_{key}"], 4)
                        for key in ("p10", "p50", "p90", "mean")
                    }
            item["flags"] = [
                f"{model}: {what}" for month, model, what in self.flags if month == row["month_day"]
            ]
            months.append(item)
        return {
            "schema": SCHEMA,
            "scenario": self.scenario.name,
            "source": self.scenario.source,
            "currency": self.currency,
            "from": self.first_month.strftime("%Y-%m"),
            "months": months,
            "draws": self.draws,
            "seed": self.seed,
            "price_changes": [
                {"date": day.isoformat(), "model": model} for day, model in self.price_changes
            ],
            "totals": {
                name: _footed(self.frame[name]) for name in MONEY_FIGURES if name in self.frame
            },
            "notes": list(self.notes),
        }

    def csv_frame(self) -> pd.DataFrame:
        rows = []
        for item in self.to_dict()["months"]:
            flat = {k: v for k, v in item.items() if not k.endswith("_band") and k != "flags"}
            for k, v in item.items():
                if k.endswith("_band"):
                    flat.update({f"{k.removesuffix('_band')}_{q}": x for q, x in v.items()})
            flat["flags"] = "; ".join(item["flags"])
            rows.append(flat)
        return pd.DataFrame(rows)

    def sections(self) -> list[Any]:
        from costmodel.core.layouts import Section

        f = self.frame
        table = pd.DataFrame({"Month": f["month"], "Requests": f["requests"]})
        names = [
            n for n in (*MONEY_FIGURES, "gross_margin_sync_pct", "gross_margin_batch_pct") if n in f
        ]
        short = {"gross_margin_sync_pct": "Margin sync", "gross_margin_batch_pct": "Margin batch"}
        for name in names:
            table[short.get(name, LABELS[name])] = f[name]
        flags = [
            "; ".join(f"{model}: {what}" for m, model, what in self.flags if m == day)
            for day in f["month_day"]
        ]
        total: dict[str, Any] = {"Month": "Total", "Requests": f["requests"].sum(), "Flags": ""}
        for name in MONEY_FIGURES:
            total[LABELS[name]] = _footed(f[name])
        title = f"{self.title} from {self.first_month.strftime('%Y-%m')} ({self.currency})"
        if not self.draws:
            table["Flags"] = flags
            table = with_total(table, total)
            return [
                Section(
                    title,
                    table,
                    money=tuple(LABELS[n] for n in MONEY_FIGURES),
                    percent=tuple(short[n] for n in names if n in short),
                    counts=("Requests",),
                )
            ]
        # With bands, each cell reads "P50 (P10-P90)"; the point figures are in JSON and CSV.
        from costmodel.core.money import format_money, format_percent

        table = table.drop(columns=["Margin sync"], errors="ignore")
        names = [n for n in names if n != "gross_margin_sync_pct"]
        for name in names:
            label = short.get(name, LABELS[name])

            def shown(value: float, name: str = name) -> str:
                if name in MONEY_FIGURES:
                    return format_money(money_figure(value), self.currency)
                return format_percent(float(value), 1)

            table[label] = [
                f"{shown(mid)} ({shown(low)}-{shown(high)})"
                for mid, low, high in zip(
                    f[f"{name}_p50"], f[f"{name}_p10"], f[f"{name}_p90"], strict=True
                )
            ]
        table["Flags"] = flags
        return [
            Section(
                f"{title}: P50 (P10-P90) of {self.draws:,} paths",
                table,
                counts=("Requests",),
                figures=tuple(short.get(n, LABELS[n]) for n in names),
            )
        ]


def _footed(cents: pd.Series) -> float:
    """The sum of figures already to the cent, in decimals: what the column adds up to."""
    return float(sum((Decimal(repr(float(v))) for v in cents), Decimal(0)))


def forecast_scenario(  # noqa: C901 - one pass over months, price regimes and retirements, kept together so the totals foot
    scenario: Any,
    catalogue: Any,
    *,
    months: int,
    first_month: date,
    draws: int | None = None,
    seed: int = 0,
    inputs: StoreInputs | None = None,
    fx: Any = None,
) -> Forecast:
    """``months`` calendar months from ``first_month``; bands from ``draws`` when given."""
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
        raise CostModelError(f"--months: got {months!r}; expected 1 to {MAX_MONTHS} months")
    if draws is not None:
        draws, seed = check_draws(draws, seed)
    inputs = inputs or StoreInputs()
    first_month = first_month.replace(day=1)
    fx = fx or scenario.currency
    rate = float(fx.per_usd) if fx else 1.0
    month_days = [_add_months(first_month, i) for i in range(months)]
    end = _add_months(first_month, months)
    model_ids = {w.model: catalogue.resolve(w.model) for w in scenario.workloads}

    # Price changes inside the horizon split their month; every part is priced on its first day.
    changes: set[tuple[date, str]] = set()
    for model_id in set(model_ids.values()):
        for entry in catalogue.models[model_id].prices:
            if first_month < entry.effective_from < end:
                changes.add((entry.effective_from, model_id))
    cuts = sorted({day for day, _ in changes})
    segments: list[list[tuple[date, date]]] = []
    for start in month_days:
        stop = _add_months(start, 1)
        edges = [start, *(c for c in cuts if start < c < stop), stop]
        segments.append(list(itertools.pairwise(edges)))
    days = sorted({part_start for parts in segments for part_start, _ in parts})
    day_index = {day: i for i, day in enumerate(days)}
    requests = np.zeros((months, len(days), len(scenario.workloads)))
    for m, (month, parts) in enumerate(zip(month_days, segments, strict=True)):
        for w_i, w in enumerate(scenario.workloads):
            total = month_requests(w, month, first_month, scenario.days_per_month)
            weights = _day_weights(w, month)
            for part_start, part_stop in parts:
                part_share = float(
                    weights[part_start.day - 1 : (part_stop - timedelta(days=1)).day].sum()
                )
                requests[m, day_index[part_start], w_i] = (
                    total * part_share if len(parts) > 1 else total
                )

    share = np.array([w.batch_share for w in scenario.workloads])
    rng = np.random.default_rng(seed)
    # Point figures: each workload's mean request, no deadline misses (as `costmodel run`).
    certain = _certain(scenario)
    point_moments = cost_moments(certain, catalogue, days, inputs, rng, rate=rate)
    no_miss = np.zeros((1, len(scenario.workloads)))
    point_sync, point_batch = draw_costs(requests, point_moments, share, no_miss, rng)
    frame = pd.DataFrame(
        {
            "month": [d.strftime("%Y-%m") for d in month_days],
            "month_day": month_days,
            "requests": requests.sum(axis=(1, 2)),
            # Each month to the cent, so a month's savings and the horizon's totals foot.
            "cost_sync": [money_figure(v) for v in point_sync[0].sum(axis=1)],
            "cost_batch": [money_figure(v) for v in point_batch[0].sum(axis=1)],
        }
    )
    frame["savings"] = [
        float(Decimal(repr(a)) - Decimal(repr(b)))
        for a, b in zip(frame["cost_sync"], frame["cost_batch"], strict=True)
    ]
    if scenario.business is not None:
        for name, values in margin_draws(
            frame["cost_sync"].to_numpy(), frame["cost_batch"].to_numpy(), scenario.business
        ).items():
            frame[name] = values

    bands: dict[str, np.ndarray] = {}
    moments = point_moments
    if draws:
        if has_uncertainty(scenario):
            moments = cost_moments(scenario, catalogue, days, inputs, rng, rate=rate)
            miss = miss_shares(scenario.workloads, inputs, draws, rng)
            sync, batch = draw_costs(requests, moments, share, miss, rng)
            bands = {"cost_sync": sync.sum(axis=2), "cost_batch": batch.sum(axis=2)}
        else:
            bands = {
                "cost_sync": np.broadcast_to(frame["cost_sync"].to_numpy(), (draws, months)),
                "cost_batch": np.broadcast_to(frame["cost_batch"].to_numpy(), (draws, months)),
            }
        bands["savings"] = bands["cost_sync"] - bands["cost_batch"]
        if scenario.business is not None:
            bands.update(margin_draws(bands["cost_sync"], bands["cost_batch"], scenario.business))
        for name, values in bands.items():
            for key, summary in summarise(values, axis=0).items():
                frame[f"{name}_{key}"] = summary

    flags = _flags(catalogue, sorted(set(model_ids.values())), month_days)
    notes = _notes(scenario, catalogue, first_month, sorted(changes), flags, draws, inputs)
    notes.extend(refused_notes({**point_moments.refused, **moments.refused}))
    return Forecast(
        scenario=scenario,
        first_month=first_month,
        months=tuple(month_days),
        currency=fx.code if fx else "USD",
        frame=frame,
        draws=draws,
        seed=seed if draws else None,
        price_changes=tuple(sorted(changes)),
        flags=tuple(flags),
        bands=bands,
        notes=tuple(notes),
    )


def _flags(
    catalogue: Any, model_ids: list[str], month_days: list[date]
) -> list[tuple[date, str, str]]:
    flags = []
    for model_id in model_ids:
        entry = catalogue.models[model_id]
        retires = _retirement(entry)
        for month in month_days:
            stop = _add_months(month, 1)
            if retires is not None and month <= retires < stop:
                flags.append((month, model_id, f"retires {retires.isoformat()}"))
            elif (retires is not None and retires < month) or (
                retires is None and entry.status == "retired"
            ):
                flags.append((month, model_id, "retired"))
    return flags


def _notes(
    scenario: Any,
    catalogue: Any,
    first_month: date,
    changes: list[tuple[date, str]],
    flags: list[tuple[date, str, str]],
    draws: int | None,
    inputs: StoreInputs,
) -> list[str]:
    notes = [
        f"Assumptions from {scenario.source}; prices from the catalogue checked "
        f"{catalogue.checked.isoformat()}, each month at the rates in force on its days."
    ]
    for day, model_id in changes:
        notes.append(f"{model_id}: new prices from {day.isoformat()} applied from that day.")
    retiring = sorted({(model, what) for _, model, what in flags if what.startswith("retires")})
    for model, what in retiring:
        notes.append(f"{model} {what}: months from then on price a model that is no longer served.")
    retired = sorted(
        {model for _, model, what in flags if what == "retired"} - {m for m, _ in retiring}
    )
    for model in retired:
        notes.append(f"{model} is retired: its months are for comparison only.")
    for model_id in sorted({m for m in (catalogue.resolve(w.model) for w in scenario.workloads)}):
        entry = catalogue.models[model_id]
        if entry.status == "deprecated" and _retirement(entry) is None:
            notes.append(
                f"{model_id} is deprecated and the catalogue gives no retirement date: check "
                "it is still served in the months you plan on it."
            )
    for w in scenario.workloads:
        g = w.ranges.growth if w.ranges is not None else None
        if g is not None:
            start = (g.start or first_month).strftime("%Y-%m")
            notes.append(f"{w.name}: volume grows {g.per_month:+.2%} a month from {start}.")
    if scenario.business is not None:
        notes.append("Revenue and other COGS are held at the scenario's monthly figures.")
    if draws:
        notes.append(
            f"Bands: P10 to P90 of {draws:,} simulated paths; the point columns price each "
            "workload's mean request with no deadline misses, as `costmodel run` does."
        )
    return notes
