"""Modelled against measured: a scenario's batch plan for a period beside what the store measured
for the same jobs (workload name = job), with the difference in money and percent."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from costmodel.core.catalogue import Catalogue
from costmodel.core.contract import SCHEMAS
from costmodel.core.frames import frame_rows, object_column, with_total
from costmodel.core.layouts import Section
from costmodel.core.money import allocate_cents, format_money, quantize_cents
from costmodel.core.report import run_scenario
from costmodel.core.results import ScenarioRun
from costmodel.errors import StoreError

if TYPE_CHECKING:
    from costmodel.adapters.store import Store
    from costmodel.core.scenario import Currency, Scenario

from costmodel.core.jobs import JobRule
from costmodel.core.measured import usage_summary

__all__ = ["ActualComparison", "compare_with_actual"]


class _ComparisonLine(Protocol):
    """A row of ``ActualComparison.lines`` (NaN where a side has no figure)."""

    workload: str
    status: str
    requests_modelled: float
    requests_actual: int
    difference_pct: float


class _ModelledRow(Protocol):
    """The fields of ``ScenarioRun.workloads`` that the comparison reads."""

    name: str
    requests: float
    cost_batch: float


def _comparison_lines(lines: pd.DataFrame) -> list[_ComparisonLine]:
    return list(frame_rows(lines))


def _float_or_none(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class ActualComparison:
    """A scenario's batch plan beside measured usage for the same jobs and period."""

    run: ScenarioRun
    lines: pd.DataFrame
    first_day: date
    last_day: date
    notes: tuple[str, ...] = field(default=())

    @property
    def title(self) -> str:
        return f"{self.run.scenario.name}: modelled against measured"

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def csv_frame(self) -> pd.DataFrame:
        """Modelled against measured, line by line, then a ``total`` row (contract names)."""
        data = self.to_dict()
        rows = [{"row": "line", **line} for line in data["lines"]]
        rows.append({"row": "total", "workload": "", "status": "", **data["totals"]})
        columns = ["row", *(data["lines"][0] if data["lines"] else ())]
        return pd.DataFrame(rows, columns=list(dict.fromkeys(columns)))

    def _shown(self) -> dict[str, tuple[list[Decimal | None], Decimal]]:
        """Modelled and measured as shown (each column foots); difference = measured - modelled.
        An unpriced line has no measured figure (None) and is no part of the measured total."""
        out: dict[str, tuple[list[Decimal | None], Decimal]] = {}
        for column in ("cost_modelled", "cost_actual"):
            exact = self.lines.get(f"exact_{column.removeprefix('cost_')}")
            parts: list[Decimal | None] = [
                e
                if isinstance(e, Decimal)
                else None
                if math.isnan(float(v))
                else Decimal(repr(float(v)))
                for v, e in zip(
                    self.lines[column],
                    exact if exact is not None else [None] * len(self.lines),
                    strict=True,
                )
            ]
            priced = [p for p in parts if p is not None]
            total = quantize_cents(sum(priced, Decimal(0)))
            rounded = iter(allocate_cents(priced, total))
            out[column] = ([None if p is None else next(rounded) for p in parts], total)
        modelled, actual = out["cost_modelled"], out["cost_actual"]
        out["difference"] = (
            [
                None if a is None or m is None else a - m
                for a, m in zip(actual[0], modelled[0], strict=True)
            ],
            actual[1] - modelled[1],
        )
        return out

    def to_dict(self) -> dict[str, Any]:
        shown = self._shown()
        return {
            "schema": SCHEMAS["actual"],
            "scenario": self.run.scenario.name,
            "source": self.run.scenario.source,
            "currency": self.run.currency,
            "period": {
                "first_day": self.first_day.isoformat(),
                "last_day": self.last_day.isoformat(),
                "days": self.days,
            },
            "lines": [
                {
                    "workload": row.workload,
                    "status": row.status,
                    "requests_modelled": round(float(row.requests_modelled), 2),
                    "requests_actual": int(row.requests_actual),
                    "cost_modelled": _float_or_none(shown["cost_modelled"][0][i]),
                    "cost_actual": _float_or_none(shown["cost_actual"][0][i]),
                    "difference": _float_or_none(shown["difference"][0][i]),
                    "difference_pct": None
                    if math.isnan(row.difference_pct)
                    else round(row.difference_pct, 2),
                }
                for i, row in enumerate(_comparison_lines(self.lines))
            ],
            "totals": {
                "cost_modelled": float(shown["cost_modelled"][1]),
                "cost_actual": float(shown["cost_actual"][1]),
                "difference": float(shown["difference"][1]),
            },
            "modelled": self.run.to_dict(),
            "notes": list(self.notes),
        }

    def sections(self) -> list[Section]:
        frame = self.lines[
            [
                "workload",
                "status",
                "requests_modelled",
                "requests_actual",
                "cost_modelled",
                "cost_actual",
                "difference",
                "difference_pct",
            ]
        ].copy()
        shown = self._shown()
        for column in ("cost_modelled", "cost_actual", "difference"):
            frame[column] = object_column(
                frame, ("unpriced" if v is None else v for v in shown[column][0])
            )
        modelled, actual = shown["cost_modelled"][1], shown["cost_actual"][1]
        total = {
            "workload": "Total",
            "status": "",
            "requests_modelled": frame["requests_modelled"].sum(),
            "requests_actual": frame["requests_actual"].sum(),
            "cost_modelled": modelled,
            "cost_actual": actual,
            "difference": actual - modelled,
            "difference_pct": float(100 * (actual - modelled) / modelled) if modelled else math.nan,
        }
        frame = with_total(frame, total)
        frame.columns = [
            "Workload",
            "Status",
            "Requests modelled",
            "Requests measured",
            "Modelled (batch plan)",
            "Measured (billed)",
            "Difference",
            "Difference %",
        ]
        return [
            *self.run.sections(),
            Section(
                f"Modelled against measured, {self.first_day} to {self.last_day} "
                f"({self.days} days, {self.run.currency})",
                frame,
                money=("Modelled (batch plan)", "Measured (billed)", "Difference"),
                percent=("Difference %",),
                counts=("Requests modelled", "Requests measured"),
            ),
        ]


def compare_with_actual(
    scenario: Scenario,
    store: Store,
    *,
    since: date | None = None,
    until: date | None = None,
    jobs: JobRule | None = None,
    catalogue: Catalogue,
    on: date | None = None,
    fx: Currency | None = None,
) -> ActualComparison:
    """The scenario's batch plan for the period beside what the store measured for its jobs.

    Workloads are matched to jobs by name. The period is ``since``..``until`` (``until``
    exclusive); by default the 30 days up to the last day with usage. The monthly model is
    scaled to the period's length (days / ``days_per_month``), priced on ``on`` (else the
    scenario's ``price_date``).
    """
    if since is None or until is None:
        _, last, _ = store.usage_span(None, None)
        if last is None:
            raise StoreError("the store holds no usage to compare with; pull or import some first")
        until = until or last + timedelta(days=1)
        since = since or until - timedelta(days=30)
    run = run_scenario(scenario, catalogue, on=on, fx=fx)
    summary = usage_summary(
        store, by="job", since=since, until=until, jobs=jobs, catalogue=catalogue
    )
    rate = float(run.per_usd)
    measured = summary.rows.set_index("key")
    days = (until - since).days
    scale = days / scenario.days_per_month
    lines = []
    exact_scale = Decimal(days) / Decimal(repr(float(scenario.days_per_month)))
    billed = summary.exact.get("cost_billed", {})
    workload: _ModelledRow
    for index, workload in enumerate(frame_rows(run.workloads)):
        # Exact amounts (Decimal) so that the shown figures are rounded once, from the exact.
        exact_modelled = (
            run.exact["cost_batch"].iloc[index] * exact_scale if run.exact is not None else None
        )
        modelled = float(workload.cost_batch) * scale
        requests_modelled = float(workload.requests) * scale
        exact_actual = None
        if workload.name in measured.index and workload.name not in billed:
            # Every request of the job is unpriced (a model the catalogue cannot price):
            # "unpriced", never $0, and left out of the measured total (a note says so).
            row = measured.loc[workload.name]
            assert isinstance(row, pd.Series)  # the summary has one row per job
            actual, requests_actual, status = math.nan, int(row["succeeded"]), "unpriced"
        elif workload.name in measured.index:
            row = measured.loc[workload.name]
            assert isinstance(row, pd.Series)
            actual = float(row["cost_billed"]) * rate
            exact_actual = billed[workload.name] * run.per_usd
            requests_actual = int(row["succeeded"])
            status = "measured"
        else:
            actual, requests_actual, status = 0.0, 0, "no usage found"
            exact_actual = Decimal(0)
        lines.append(
            {
                "workload": workload.name,
                "status": status,
                "requests_modelled": requests_modelled,
                "requests_actual": requests_actual,
                "cost_modelled": modelled,
                "cost_actual": actual,
                "difference": actual - modelled,
                "difference_pct": 100 * (actual - modelled) / modelled if modelled else math.nan,
                "exact_modelled": exact_modelled,
                "exact_actual": exact_actual,
            }
        )
    names = set(run.workloads["name"])
    unmodelled = [
        f"{key} ({int(row['succeeded']):,} requests, {format_money(float(row['cost_billed']) * rate, run.currency)})"
        for key, row in measured.iterrows()
        if key not in names and row["succeeded"]
    ]
    unpriced_notes = [n for n in summary.notes if n.startswith("Unpriced")]
    notes = (
        *run.notes,
        *unpriced_notes,
        f"Measured: {summary.batches} batch(es) in the store, usage from {since} to "
        f"{until - timedelta(days=1)}; the monthly model is scaled to those {days} days. "
        "Workloads are matched to jobs (custom_id prefixes) by name.",
        *([f"Measured but not in this scenario: {'; '.join(unmodelled)}."] if unmodelled else []),
    )
    return ActualComparison(
        run=run,
        lines=pd.DataFrame(lines),
        first_day=since,
        last_day=until - timedelta(days=1),
        notes=tuple(notes),
    )
