"""Monthly budgets: a budgets file, and each budget's month to date, projection and verdict.

Pure: the caller reads the spend (exact Decimal USD, month to date per job, model or
workspace) and names the day the month is seen from; nothing here reads a clock or a store.

The projection is linear: month to date / days elapsed x days in the month, where the days
elapsed run from the 1st to ``as_of`` inclusive. The verdict is ``exceeded`` when the month to
date is above the budget, ``will exceed`` when only the projection is, else ``within``.

A budgets file (read and validated by :mod:`costmodel.adapters.budget_files`, like a scenario: every problem at once, each with its line)::

    budgets:
      - {name: All Claude usage, total: true, monthly: 900}
      - {job: claim-classification, monthly: 400}
      - {model: claude-haiku-4-5, monthly: 150}
      - {workspace: wrkspc_01Analytics, monthly: 300}   # the organisation report only
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

from costmodel.core.contract import SCHEMAS
from costmodel.core.layouts import Section
from costmodel.core.money import format_money, quantize_cents
from costmodel.errors import ScenarioError

__all__ = [
    "SCOPES",
    "Budget",
    "BudgetCheck",
    "BudgetError",
    "BudgetLine",
    "check_budgets",
    "month_days",
    "pace_lines",
]

SCOPES: Final = ("total", "job", "model", "workspace")
WITHIN: Final = "within"
WILL_EXCEED: Final = "will exceed"
EXCEEDED: Final = "exceeded"
_MAX: Final = Decimal(10) ** 13  # as the CLI's amounts: far above any real month
_KEYS: Final = ("name", "monthly", *SCOPES)


class BudgetError(ScenarioError):
    """A budgets file that cannot be read or does not validate (every problem, located)."""


@dataclass(frozen=True)
class Budget:
    name: str
    scope: str  # one of SCOPES
    key: str | None  # the job, model or workspace; None for the total
    monthly: Decimal  # USD
    line: int  # where the file gives it, for messages


# -- the check ------------------------------------------------------------------------------------
def month_days(month: date) -> int:
    return calendar.monthrange(month.year, month.month)[1]


@dataclass(frozen=True)
class BudgetLine:
    budget: Budget
    month_to_date: Decimal  # exact USD
    projected: Decimal  # exact USD, the linear projection to the month's end
    verdict: str

    @property
    def used_pct(self) -> float:
        return float(self.month_to_date / self.budget.monthly * 100)

    @property
    def projected_pct(self) -> float:
        return float(self.projected / self.budget.monthly * 100)


@dataclass(frozen=True)
class BudgetCheck:
    """Every budget of a month, seen from ``as_of``."""

    month: date  # the first day
    as_of: date
    source: str
    lines: tuple[BudgetLine, ...]
    notes: tuple[str, ...] = ()
    currency: str = "USD"

    @property
    def days_elapsed(self) -> int:
        return self.as_of.day

    @property
    def days_in_month(self) -> int:
        return month_days(self.month)

    @property
    def exceeded(self) -> bool:
        """True when any budget is or will be exceeded (the CLI's exit status 3)."""
        return any(line.verdict != WITHIN for line in self.lines)

    @property
    def title(self) -> str:
        return f"Budgets for {self.month:%Y-%m}"

    @property
    def method(self) -> str:
        return (
            f"Projected month end = month to date / {self.days_elapsed} days elapsed (to "
            f"{self.as_of.isoformat()}) x {self.days_in_month} days in the month."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMAS["budget"],
            "currency": self.currency,
            "month": f"{self.month:%Y-%m}",
            "as_of": self.as_of.isoformat(),
            "source": self.source,
            "days_elapsed": self.days_elapsed,
            "days_in_month": self.days_in_month,
            "method": self.method,
            "exceeded": self.exceeded,
            "message": self.message(),
            "budgets": [
                {
                    "name": line.budget.name,
                    "scope": line.budget.scope,
                    "key": line.budget.key,
                    "monthly": float(line.budget.monthly),
                    "month_to_date": float(quantize_cents(line.month_to_date)),
                    "projected": float(quantize_cents(line.projected)),
                    "used_pct": round(line.used_pct, 2),
                    "projected_pct": round(line.projected_pct, 2),
                    "verdict": line.verdict,
                }
                for line in self.lines
            ],
            "notes": list(self.notes),
        }

    def csv_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.to_dict()["budgets"])

    def sections(self) -> list[Section]:
        import pandas as pd

        frame = pd.DataFrame(
            [
                {
                    "Budget": line.budget.name,
                    "Scope": line.budget.scope,
                    "Monthly": line.budget.monthly,
                    "Month to date": quantize_cents(line.month_to_date),
                    "Used": line.used_pct,
                    "Projected": quantize_cents(line.projected),
                    "Projected use": line.projected_pct,
                    "Verdict": line.verdict,
                }
                for line in self.lines
            ]
        )
        title = (
            f"Budgets for {self.month:%Y-%m}, {self.source}, to {self.as_of.isoformat()} "
            f"({self.days_elapsed} of {self.days_in_month} days, {self.currency})"
        )
        return [
            Section(
                title,
                frame,
                money=("Monthly", "Month to date", "Projected"),
                percent=("Used", "Projected use"),
            )
        ]

    def message(self) -> str:
        """One line per budget, for a chat message."""
        return "\n".join(
            f"{line.budget.name}: {format_money(quantize_cents(line.month_to_date))} of "
            f"{format_money(line.budget.monthly)}, projected "
            f"{format_money(quantize_cents(line.projected))}: {line.verdict}"
            for line in self.lines
        )


def check_budgets(
    budgets: Sequence[Budget],
    spend: Mapping[str, Mapping[str | None, Decimal]],
    *,
    month: date,
    as_of: date,
    source: str,
    notes: Sequence[str] = (),
) -> BudgetCheck:
    """Each budget's month to date, projection and verdict.

    ``spend[scope][key]`` is the month's exact spend from the 1st to ``as_of`` (inclusive) for
    each job, model or workspace; ``spend["total"][None]`` the whole. A key without spend has
    spent 0. ``as_of`` must fall in ``month``.
    """
    first = month.replace(day=1)
    if (as_of.year, as_of.month) != (first.year, first.month):
        raise ValueError(f"as_of {as_of.isoformat()} is not in {first:%Y-%m}")
    elapsed, days = as_of.day, month_days(first)
    lines = []
    for budget in budgets:
        spent = spend.get(budget.scope, {}).get(budget.key, Decimal(0))
        projected = spent * days / elapsed
        if spent > budget.monthly:
            verdict = EXCEEDED
        elif projected > budget.monthly:
            verdict = WILL_EXCEED
        else:
            verdict = WITHIN
        lines.append(BudgetLine(budget, spent, projected, verdict))
    return BudgetCheck(first, as_of, source, tuple(lines), tuple(notes))


def pace_lines(
    budgets: Sequence[Budget], by: str, month: date, resolve: Any = None
) -> list[tuple[str, Decimal]]:
    """The budgets a cost-by-day chart grouped ``by`` (model or job) can show, as their pace:
    the monthly amount spread evenly over ``month``'s days (USD a day). The total budget
    always; a model's or job's when the chart is grouped by it. ``resolve`` maps a budget's
    model name to the chart's (the catalogue's id)."""
    days = month_days(month)
    out = []
    for budget in budgets:
        if budget.scope == "total" or budget.scope == by:
            key = budget.key
            if budget.scope == "model" and resolve is not None and key is not None:
                key = resolve(key)
            label = budget.name if key is None or key in budget.name else f"{budget.name} ({key})"
            out.append((label, budget.monthly / days))
    return out
