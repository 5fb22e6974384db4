"""The result objects: one per question, data and the figures derived from it, never I/O.

- :class:`ScenarioRun`: a scenario's monthly cost sync against its batch plan, per workload and in
  total, with the margin impact where the scenario has a business block
  (:func:`costmodel.core.report.run_scenario` computes it).
- :class:`Comparison`, :class:`ScenarioDiff`, :class:`PriceList`, :class:`Records`,
  :class:`ValidationReport`.

Each result's ``to_dict()`` and ``csv_frame()`` are the output contract
(:mod:`costmodel.core.contract`), its ``sections()`` the tables (:mod:`costmodel.core.layouts`):
the methods delegate, so every renderer reads one protocol.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from costmodel.core.catalogue import Catalogue
from costmodel.core.margin import MarginImpact
from costmodel.core.money import (
    allocate_cents,
    quantize_cents,
)
from costmodel.core.scenario import Currency, Scenario
from costmodel.errors import CostModelError

if TYPE_CHECKING:
    from costmodel.core.layouts import Section

__all__ = [
    "PLAN_COSTS",
    "Comparison",
    "FileCheck",
    "PriceList",
    "Records",
    "ScenarioDiff",
    "ScenarioRun",
    "ValidationReport",
    "common_currency",
]

# The four cost columns of a run, per workload: contracted and list, each plan.
PLAN_COSTS: Final = ("cost_sync", "cost_batch", "list_cost_sync", "list_cost_batch")


@dataclass(frozen=True)
class ScenarioRun:
    """A scenario priced both ways on one day: per workload, in total, and its margin."""

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

    def to_dict(self) -> dict[str, Any]:
        return contract.run_to_dict(self)

    def csv_frame(self) -> pd.DataFrame:
        return contract.run_csv(self)

    def sections(self) -> list[Section]:
        return layouts.run_sections(self)


@dataclass(frozen=True)
class Comparison:
    """Scenario runs side by side."""

    runs: tuple[ScenarioRun, ...]

    @property
    def title(self) -> str:
        return "Scenarios compared"

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(note for run in self.runs for note in run.notes))

    def to_dict(self) -> dict[str, Any]:
        return contract.comparison_to_dict(self)

    def csv_frame(self) -> pd.DataFrame:
        return contract.comparison_csv(self)

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
        return layouts.comparison_sections(self)


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
        return contract.diff_to_dict(self)

    def csv_frame(self) -> pd.DataFrame:
        return contract.diff_csv(self)

    def sections(self) -> list[Section]:
        return layouts.diff_sections(self)


@dataclass(frozen=True)
class PriceList:
    """The catalogue's rates on a day, or one model's price history."""

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
        return contract.prices_to_dict(self)

    def csv_frame(self) -> pd.DataFrame:
        return contract.prices_csv(self)

    def sections(self) -> list[Section]:
        return layouts.prices_sections(self)


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
        return contract.records_to_dict(self)

    def csv_frame(self) -> pd.DataFrame:
        return contract.records_csv(self)

    def sections(self) -> list[Section]:
        return layouts.records_sections(self)


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
        return contract.validation_to_dict(self)

    def csv_frame(self) -> pd.DataFrame:
        return contract.validation_csv(self)

    def sections(self) -> list[Section]:
        return layouts.validation_sections(self)


def common_currency(runs: Sequence[ScenarioRun]) -> str:
    currencies = {run.currency for run in runs}
    if len(currencies) > 1:
        raise CostModelError(
            f"scenarios are in different currencies ({', '.join(sorted(currencies))}); "
            "compare them in one currency"
        )
    return currencies.pop() if currencies else "USD"


# Imported last: the contract and the layouts read PLAN_COSTS and common_currency from here, and
# the results delegate to them only when called.
from costmodel.core import contract, layouts  # noqa: E402
